/**
 * JSON schemas of the request bodies, checked by fastify (Ajv) before a
 * handler runs: types and ranges, with OpenAI's field names and limits. Types
 * are never coerced ("5" is not a number), and fields OpenAI accepts that a
 * local model has no use for (`user`, …) are ignored.
 */
const nullable = (schema: Record<string, unknown>) => ({ anyOf: [schema, { type: 'null' }] });

/** The fields /v1/completions and /v1/chat/completions share. */
function samplingProperties(maxTokens: number, maxChoices: number): Record<string, unknown> {
  return {
    model: { type: 'string', minLength: 1 },
    max_tokens: nullable({ type: 'integer', minimum: 1, maximum: maxTokens }),
    temperature: nullable({ type: 'number', minimum: 0, maximum: 2 }),
    top_p: nullable({ type: 'number', exclusiveMinimum: 0, maximum: 1 }),
    top_k: nullable({ type: 'integer', minimum: 0 }),
    n: nullable({ type: 'integer', minimum: 1, maximum: maxChoices }),
    stop: { anyOf: [{ type: 'string', minLength: 1 }, { type: 'array', items: { type: 'string', minLength: 1 }, maxItems: 4 }, { type: 'null' }] },
    seed: nullable({ type: 'integer', minimum: -(2 ** 53), maximum: 2 ** 53 }),
    presence_penalty: nullable({ type: 'number', minimum: -2, maximum: 2 }),
    frequency_penalty: nullable({ type: 'number', minimum: -2, maximum: 2 }),
    repetition_penalty: nullable({ type: 'number', exclusiveMinimum: 0, maximum: 10 }),
    stream: nullable({ type: 'boolean' }),
    stream_options: nullable({ type: 'object', properties: { include_usage: { type: 'boolean' } } }),
    user: { type: 'string' },
  };
}

export interface Limits {
  /** Largest `max_tokens` accepted. */
  maxTokens: number;
  /** Largest `n`. */
  maxChoices: number;
  /** Most prompts in one /v1/completions request. */
  maxPrompts: number;
  /** Most tokens in one prompt (reading a prompt into an RNN costs a run per token). */
  maxPromptTokens: number;
}

export function completionSchema(l: Limits): Record<string, unknown> {
  return {
    type: 'object',
    required: ['model', 'prompt'],
    properties: {
      ...samplingProperties(l.maxTokens, l.maxChoices),
      prompt: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' }, minItems: 1, maxItems: l.maxPrompts }] },
      logprobs: nullable({ type: 'integer', minimum: 0, maximum: 5 }),
      echo: nullable({ type: 'boolean' }),
      best_of: nullable({ type: 'integer', minimum: 1, maximum: 1 }),
      suffix: { type: 'null' },
    },
  };
}

export function chatSchema(l: Limits): Record<string, unknown> {
  return {
    type: 'object',
    required: ['model', 'messages'],
    properties: {
      ...samplingProperties(l.maxTokens, l.maxChoices),
      max_completion_tokens: nullable({ type: 'integer', minimum: 1, maximum: l.maxTokens }),
      messages: {
        type: 'array',
        minItems: 1,
        items: {
          type: 'object',
          required: ['role', 'content'],
          properties: {
            role: { enum: ['system', 'user', 'assistant', 'developer'] },
            content: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'object', required: ['type', 'text'], properties: { type: { const: 'text' }, text: { type: 'string' } } } }] },
            name: { type: 'string' },
          },
        },
      },
      logprobs: nullable({ type: 'boolean' }),
      top_logprobs: nullable({ type: 'integer', minimum: 0, maximum: 5 }),
    },
  };
}

/** The body fields both endpoints read, after validation. */
export interface SamplingBody {
  model: string;
  max_tokens?: number | null;
  temperature?: number | null;
  top_p?: number | null;
  top_k?: number | null;
  n?: number | null;
  stop?: string | string[] | null;
  seed?: number | null;
  presence_penalty?: number | null;
  frequency_penalty?: number | null;
  repetition_penalty?: number | null;
  stream?: boolean | null;
  stream_options?: { include_usage?: boolean } | null;
}

export interface CompletionBody extends SamplingBody {
  prompt: string | string[];
  logprobs?: number | null;
  echo?: boolean | null;
}

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant' | 'developer';
  content: string | Array<{ type: 'text'; text: string }>;
  name?: string;
}

export interface ChatBody extends SamplingBody {
  messages: ChatMessage[];
  max_completion_tokens?: number | null;
  logprobs?: boolean | null;
  top_logprobs?: number | null;
}
