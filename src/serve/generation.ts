/**
 * From a validated request to sequences on a model's scheduler: sampling
 * settings (request fields over the model's generation_config.json, as
 * `inkwell generate` layers its flags over it), one sequence per prompt and
 * choice, the request's deadline, and metrics per token.
 */
import { randomInt } from 'node:crypto';
import { promptIds } from '../generate/generate.js';
import { resolveSampling } from '../generate/sampling.js';
import type { SequenceGeneration, SequenceSettings } from '../generate/sequence.js';
import { InkwellError, errorMessage } from '../utils/errors.js';
import { ApiError, badField } from './errors.js';
import type { ServerMetrics } from './metrics.js';
import type { ServedModel } from './models.js';
import { QueueFullError, type ScheduledSequence, type SequenceEnd, type TokenEvent } from './scheduler.js';
import type { SamplingBody } from './schemas.js';

/** OpenAI's default `max_tokens` for completions, used when generation_config.json sets none. */
const DEFAULT_MAX_TOKENS = 16;

export interface RequestPlan {
  /** Choices per prompt. */
  n: number;
  /** Settings of choice j of a prompt: the seed's stream j, as sample j of `inkwell generate --num-samples`. */
  settings(j: number): SequenceSettings;
  /** Alternatives to report per token (undefined: no logprobs). */
  logprobs?: number;
}

/** OpenAI fields that would change the output and that inkwell does not implement: refused, never ignored. */
const UNSUPPORTED = ['logit_bias', 'tools', 'tool_choice', 'functions', 'function_call', 'response_format'];

export function planRequest(body: SamplingBody, model: ServedModel, maxTokens: number | null | undefined, logprobs: number | undefined): RequestPlan {
  for (const field of UNSUPPORTED) {
    const v = (body as unknown as Record<string, unknown>)[field];
    if (v !== undefined && v !== null && !(typeof v === 'object' && Object.keys(v).length === 0)) throw badField(field, `${field} is not supported by inkwell serve`);
  }
  const d = model.defaults;
  const sampling = resolveSampling({
    // A request's temperature decides greedy (0) or sampled, whatever the model's default.
    greedy: body.temperature !== undefined && body.temperature !== null ? body.temperature === 0 : d.greedy,
    temperature: body.temperature ?? d.temperature,
    topK: body.top_k ?? d.topK,
    topP: body.top_p ?? d.topP,
    repetitionPenalty: body.repetition_penalty ?? d.repetitionPenalty,
    frequencyPenalty: body.frequency_penalty ?? undefined,
    presencePenalty: body.presence_penalty ?? undefined,
  });
  const seed = body.seed ?? randomInt(2 ** 31);
  const stops = typeof body.stop === 'string' ? [body.stop] : (body.stop ?? []);
  const maxNewTokens = maxTokens ?? d.maxNewTokens ?? DEFAULT_MAX_TOKENS;
  const eos = model.tokenizer.special.eos;
  return { n: body.n ?? 1, logprobs, settings: (stream) => ({ sampling, seed, stream, stops, maxNewTokens, eos }) };
}

/** A prompt's token ids; text the tokenizer cannot encode, or too long a prompt, is the client's error, naming the field. */
export function encodePrompt(model: ServedModel, text: string, param: string, maxTokens: number): number[] {
  let ids: number[];
  try {
    ids = promptIds(text, model.tokenizer);
  } catch (err) {
    if (err instanceof InkwellError) throw badField(param, `${param}: ${err.message}`);
    throw err;
  }
  if (ids.length > maxTokens) throw badField(param, `${param} has ${ids.length} tokens, more than the server's limit of ${maxTokens} (--max-prompt-tokens)`);
  return ids;
}

export interface ChoiceHooks {
  token(choice: number, e: TokenEvent): void;
  end(choice: number, end: SequenceEnd, seq: SequenceGeneration): void;
}

export interface RunningRequest {
  /** Resolves when every choice has ended. */
  done: Promise<void>;
  cancel(reason: 'cancelled' | 'timeout' | 'shutdown', message: string): void;
}

export interface RunContext {
  metrics: ServerMetrics;
  /** performance.now() when the request arrived. */
  arrived: number;
  /** Per-request deadline, ms. */
  timeoutMs: number;
}

/**
 * Submits choice k = prompt·n + j for every prompt and j < n, all or none
 * (429 when the queue cannot take them), and ends them at the deadline.
 */
export function runChoices(model: ServedModel, prompts: readonly number[][], plan: RequestPlan, hooks: ChoiceHooks, ctx: RunContext): RunningRequest {
  const total = prompts.length * plan.n;
  if (total > model.scheduler.capacity) {
    throw badField('n', `the request asks for ${total} sequences (prompts × n) but the server holds at most ${model.scheduler.capacity} at once`);
  }
  let remaining = total;
  let resolve!: () => void;
  const done = new Promise<void>((r) => (resolve = r));
  const last = new Map<number, number>();
  const requests = prompts.flatMap((ids, p) =>
    Array.from({ length: plan.n }, (_, j) => {
      const choice = p * plan.n + j;
      return {
        ids,
        settings: plan.settings(j),
        logprobs: plan.logprobs,
        onToken: (e: TokenEvent) => {
          const now = performance.now();
          const prev = last.get(choice);
          if (prev === undefined) ctx.metrics.ttft.observe({ model: model.name }, (now - ctx.arrived) / 1000);
          else ctx.metrics.itl.observe({ model: model.name }, (now - prev) / 1000);
          last.set(choice, now);
          if (e.token !== undefined) ctx.metrics.tokens.inc({ model: model.name });
          hooks.token(choice, e);
        },
        onEnd: (end: SequenceEnd, seq: SequenceGeneration) => {
          hooks.end(choice, end, seq);
          if (--remaining === 0) resolve();
        },
      };
    }),
  );
  let scheduled: ScheduledSequence[];
  try {
    scheduled = model.scheduler.submit(requests);
  } catch (err) {
    if (err instanceof QueueFullError) throw new ApiError(429, `${model.name}: ${errorMessage(err)}; retry shortly`, 'rate_limit_error', null, 'queue_full');
    throw err;
  }
  const cancel = (reason: 'cancelled' | 'timeout' | 'shutdown', message: string) => {
    for (const s of scheduled) model.scheduler.cancel(s, reason, message);
  };
  const timer = setTimeout(() => cancel('timeout', `the request ran past its deadline of ${ctx.timeoutMs / 1000} s`), ctx.timeoutMs);
  void done.then(() => clearTimeout(timer));
  return { done, cancel };
}

/** The error a choice that did not finish by itself answers with. */
export function abortError(end: Extract<SequenceEnd, { aborted: unknown }>): ApiError {
  switch (end.aborted) {
    case 'timeout':
      return new ApiError(504, end.message, 'timeout_error', null, 'deadline_exceeded');
    case 'shutdown':
      return new ApiError(503, end.message, 'server_error', null, 'shutting_down');
    case 'cancelled':
      return new ApiError(499, end.message, 'invalid_request_error', null, 'client_closed_request');
    default:
      return new ApiError(500, end.message, 'server_error');
  }
}
