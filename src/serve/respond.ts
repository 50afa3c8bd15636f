/**
 * Answering a generation request the way OpenAI does: one JSON body with
 * every choice and `usage`, or (stream: true) server-sent events — one
 * `data: {json}\n\n` chunk per piece of text, a last chunk per choice with its
 * finish_reason, optionally a usage chunk, then `data: [DONE]\n\n`. The
 * endpoint (completions, chat) only says how a choice and a chunk look.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import type { SequenceGeneration } from '../generate/sequence.js';
import type { TokenLogprob } from './logprobs.js';
import type { ServedModel } from './models.js';
import { abortError, runChoices, type RequestPlan, type RunContext } from './generation.js';
import type { SequenceEnd } from './scheduler.js';

export type OpenAiFinish = 'stop' | 'length';

export interface TokenRecord {
  token: number;
  logprob: TokenLogprob;
}

export interface ChoiceRecord {
  text: string;
  finishReason: OpenAiFinish;
  logprobs: TokenRecord[];
}

/** How one endpoint shapes its choices. */
export interface ResponseFormat {
  /** `object` of the whole response and of a stream chunk. */
  object: string;
  chunkObject: string;
  idPrefix: string;
  /** The choice entry of a non-streamed response. */
  choice(index: number, c: ChoiceRecord): Record<string, unknown>;
  /** The choice entry of a chunk carrying new text (and the logprobs of the tokens sampled since the last chunk); `first`: the choice's first chunk. */
  delta(index: number, text: string, logprobs: TokenRecord[], first: boolean): Record<string, unknown>;
  /** The choice entry of the chunk that ends a choice. */
  finish(index: number, reason: OpenAiFinish): Record<string, unknown>;
}

export interface GenerationRequest {
  model: ServedModel;
  /** Token ids of each prompt. */
  prompts: number[][];
  plan: RequestPlan;
  format: ResponseFormat;
  stream: boolean;
  includeUsage: boolean;
  ctx: RunContext;
}

/** OpenAI's reasons: eos and a stop sequence are both 'stop'. */
const finishOf = (seq: SequenceGeneration): OpenAiFinish => (seq.finishReason === 'length' ? 'length' : 'stop');

export async function respond(reply: FastifyReply, g: GenerationRequest): Promise<unknown> {
  const id = `${g.format.idPrefix}-${randomUUID()}`;
  const created = Math.floor(Date.now() / 1000);
  const total = g.prompts.length * g.plan.n;
  const texts = Array<string>(total).fill('');
  const logprobs: TokenRecord[][] = Array.from({ length: total }, () => []);
  const ends: Array<{ end: SequenceEnd; seq: SequenceGeneration } | undefined> = Array(total);
  const usage = () => {
    const prompt = g.prompts.reduce((n, ids) => n + ids.length, 0);
    const completion = ends.reduce((n, e) => n + (e?.seq.generated.length ?? 0), 0);
    return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
  };

  if (!g.stream) {
    const run = runChoices(g.model, g.prompts, g.plan, {
      token: (k, e) => {
        texts[k] += e.text;
        if (e.logprob && e.token !== undefined) logprobs[k]!.push({ token: e.token, logprob: e.logprob });
      },
      end: (k, end, seq) => (ends[k] = { end, seq }),
    }, g.ctx);
    reply.raw.on('close', () => {
      if (!reply.raw.writableEnded) run.cancel('cancelled', 'the client closed the connection');
    });
    await run.done;
    const aborted = ends.find((e) => e && 'aborted' in e.end);
    if (aborted && 'aborted' in aborted.end) throw abortError(aborted.end);
    const choices = ends.map((e, k) => g.format.choice(k, { text: texts[k]!, finishReason: finishOf(e!.seq), logprobs: logprobs[k]! }));
    return { id, object: g.format.object, created, model: g.model.name, choices, usage: usage() };
  }

  // Streaming: check the request can be queued (429) before the 200 goes out.
  const raw = reply.raw;
  const chunk = (choices: Record<string, unknown>[], extra: Record<string, unknown> = {}) =>
    raw.write(`data: ${JSON.stringify({ id, object: g.format.chunkObject, created, model: g.model.name, choices, ...extra })}\n\n`);
  const started = new Set<number>();
  const pending: TokenRecord[][] = Array.from({ length: total }, () => []);
  const run = runChoices(g.model, g.prompts, g.plan, {
    token: (k, e) => {
      if (e.logprob && e.token !== undefined) pending[k]!.push({ token: e.token, logprob: e.logprob });
      // A token whose text is held back (half a character, a possible stop sequence) gets a chunk only for its logprobs.
      if (e.text === '' && pending[k]!.length === 0) return;
      chunk([g.format.delta(k, e.text, pending[k]!.splice(0), !started.has(k))]);
      started.add(k);
    },
    end: (k, end, seq) => {
      ends[k] = { end, seq };
      if ('aborted' in end) return;
      if (pending[k]!.length > 0 || !started.has(k)) chunk([g.format.delta(k, '', pending[k]!.splice(0), !started.has(k))]);
      started.add(k);
      chunk([g.format.finish(k, finishOf(seq))]);
    },
  }, g.ctx);
  reply.hijack();
  raw.writeHead(200, {
    ...(reply.getHeaders() as Record<string, string>),
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
  });
  raw.on('close', () => {
    if (!raw.writableEnded) run.cancel('cancelled', 'the client closed the connection');
  });
  await run.done;
  const aborted = ends.find((e) => e && 'aborted' in e.end);
  if (aborted && 'aborted' in aborted.end) {
    // OpenAI's clients raise an error event mid-stream as an APIError.
    if (aborted.end.aborted !== 'cancelled') raw.write(`data: ${JSON.stringify(abortError(aborted.end).body())}\n\n`);
  } else {
    if (g.includeUsage) chunk([], { usage: usage() });
    raw.write('data: [DONE]\n\n');
  }
  raw.end();
  return reply;
}
