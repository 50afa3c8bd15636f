/** POST /v1/completions: OpenAI's (legacy) text completions, `text_completion` objects, over one or several prompts. */
import type { FastifyInstance } from 'fastify';
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import { badField } from './errors.js';
import { encodePrompt, planRequest } from './generation.js';
import { respond, type ResponseFormat, type TokenRecord } from './respond.js';
import { completionSchema, type CompletionBody, type Limits } from './schemas.js';
import type { ServerContext } from './server.js';

/** OpenAI's legacy logprobs object; offsets count from the start of the choice's text (the prompt's, with echo). */
function legacyLogprobs(tokenizer: Tokenizer, records: TokenRecord[], offset: number): Record<string, unknown> {
  const tokens = records.map((r) => tokenizer.decode([r.token]));
  const text_offset: number[] = [];
  for (const t of tokens) {
    text_offset.push(offset);
    offset += t.length;
  }
  return {
    tokens,
    token_logprobs: records.map((r) => r.logprob.logprob),
    top_logprobs: records.map((r) => Object.fromEntries(r.logprob.top.map((a) => [tokenizer.decode([a.token]), a.logprob]))),
    text_offset,
  };
}

export function registerCompletions(app: FastifyInstance, server: ServerContext, limits: Limits): void {
  app.post<{ Body: CompletionBody }>('/v1/completions', { schema: { body: completionSchema(limits) } }, async (request, reply) => {
    const body = request.body;
    const model = server.model(body.model);
    const texts = typeof body.prompt === 'string' ? [body.prompt] : body.prompt;
    const prompts = texts.map((t, i) => encodePrompt(model, t, typeof body.prompt === 'string' ? 'prompt' : `prompt[${i}]`, limits.maxPromptTokens));
    const logprobs = body.logprobs ?? undefined;
    const echo = body.echo ?? false;
    if (echo && logprobs !== undefined) throw badField('echo', 'echo with logprobs (log-probabilities of the prompt tokens) is not supported; ask for one or the other');
    const plan = planRequest(body, model, body.max_tokens, logprobs);
    const promptOf = (choice: number) => texts[Math.floor(choice / plan.n)]!;
    // Where each choice's streamed logprobs offsets have got to.
    const offsets = new Map<number, number>();
    const lp = (index: number, records: TokenRecord[]) => {
      if (logprobs === undefined) return null;
      const out = legacyLogprobs(model.tokenizer, records, offsets.get(index) ?? 0);
      offsets.set(index, (offsets.get(index) ?? 0) + (out.tokens as string[]).reduce((n, t) => n + t.length, 0));
      return out;
    };
    const format: ResponseFormat = {
      object: 'text_completion',
      chunkObject: 'text_completion',
      idPrefix: 'cmpl',
      choice: (index, c) => ({ index, text: (echo ? promptOf(index) : '') + c.text, logprobs: lp(index, c.logprobs), finish_reason: c.finishReason }),
      delta: (index, text, records, first) => ({ index, text: (echo && first ? promptOf(index) : '') + text, logprobs: lp(index, records), finish_reason: null }),
      finish: (index, reason) => ({ index, text: '', logprobs: null, finish_reason: reason }),
    };
    return respond(reply, { model, prompts, plan, format, stream: body.stream ?? false, includeUsage: body.stream_options?.include_usage ?? false, ctx: server.runContext(request) });
  });
}
