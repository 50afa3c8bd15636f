/**
 * POST /v1/chat/completions: the messages are rendered into one prompt with
 * the model's own chat template (tokenizer_config.json `chat_template`, a
 * Jinja template run by @huggingface/jinja, as transformers does) and
 * completed; a model without a template answers 400 pointing at /v1/completions.
 */
import type { FastifyInstance } from 'fastify';
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import { errorMessage } from '../utils/errors.js';
import { ApiError, badField } from './errors.js';
import { encodePrompt, planRequest } from './generation.js';
import type { ServedModel } from './models.js';
import { respond, type ResponseFormat, type TokenRecord } from './respond.js';
import { chatSchema, type ChatBody, type Limits } from './schemas.js';
import type { ServerContext } from './server.js';

function renderChat(model: ServedModel, body: ChatBody): string {
  if (!model.chat) {
    throw new ApiError(400, `model '${model.name}' has no chat template (tokenizer_config.json chat_template); use /v1/completions with a prompt instead`, 'invalid_request_error', 'messages', 'no_chat_template');
  }
  const messages = body.messages.map((m) => ({ role: m.role, content: typeof m.content === 'string' ? m.content : m.content.map((p) => p.text).join('') }));
  try {
    return model.chat.template.render({ messages, add_generation_prompt: true, bos_token: model.chat.bosToken, eos_token: model.chat.eosToken });
  } catch (err) {
    throw badField('messages', `the chat template failed on these messages: ${errorMessage(err)}`);
  }
}

function chatLogprobs(tokenizer: Tokenizer, records: TokenRecord[]): Record<string, unknown> {
  const entry = (token: number, logprob: number) => {
    const text = tokenizer.decode([token]);
    return { token: text, logprob, bytes: [...Buffer.from(text, 'utf8')] };
  };
  return { content: records.map((r) => ({ ...entry(r.token, r.logprob.logprob), top_logprobs: r.logprob.top.map((a) => entry(a.token, a.logprob)) })) };
}

export function registerChat(app: FastifyInstance, server: ServerContext, limits: Limits): void {
  app.post<{ Body: ChatBody }>('/v1/chat/completions', { schema: { body: chatSchema(limits) } }, async (request, reply) => {
    const body = request.body;
    const model = server.model(body.model);
    const prompt = encodePrompt(model, renderChat(model, body), 'messages', limits.maxPromptTokens);
    const logprobs = body.logprobs ? (body.top_logprobs ?? 0) : undefined;
    if (!body.logprobs && body.top_logprobs !== undefined && body.top_logprobs !== null) throw badField('top_logprobs', 'top_logprobs needs logprobs: true');
    const plan = planRequest(body, model, body.max_completion_tokens ?? body.max_tokens, logprobs);
    const lp = (records: TokenRecord[]) => (logprobs === undefined ? null : chatLogprobs(model.tokenizer, records));
    const format: ResponseFormat = {
      object: 'chat.completion',
      chunkObject: 'chat.completion.chunk',
      idPrefix: 'chatcmpl',
      choice: (index, c) => ({ index, message: { role: 'assistant', content: c.text }, logprobs: lp(c.logprobs), finish_reason: c.finishReason }),
      delta: (index, text, records, first) => ({ index, delta: first ? { role: 'assistant', content: text } : { content: text }, logprobs: lp(records), finish_reason: null }),
      finish: (index, reason) => ({ index, delta: {}, logprobs: null, finish_reason: reason }),
    };
    return respond(reply, { model, prompts: [prompt], plan, format, stream: body.stream ?? false, includeUsage: body.stream_options?.include_usage ?? false, ctx: server.runContext(request) });
  });
}
