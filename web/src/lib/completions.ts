/**
 * A fetch-based client of an OpenAI-compatible server's /v1/completions
 * (`inkwell serve`): streamed text with per-token log-probabilities, and the
 * server's own error message when it refuses a request.
 */

export interface CompletionRequest {
  model: string;
  prompt: string;
  max_tokens?: number;
  temperature?: number;
  top_p?: number;
  top_k?: number;
  presence_penalty?: number;
  frequency_penalty?: number;
  repetition_penalty?: number;
  seed?: number;
  stop?: string[];
  /** Alternatives to return per token (OpenAI allows up to 5). */
  logprobs?: number;
}

/** One generated token, its log-probability and the most likely alternatives at its position. */
export interface TokenInfo {
  text: string;
  logprob: number | null;
  top: ReadonlyArray<{ token: string; logprob: number }>;
}

export type CompletionEvent = { type: 'text'; text: string; tokens: TokenInfo[] } | { type: 'finish'; reason: string };

/** The server said no: `message` is its own words. */
export class ServerError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

interface LegacyLogprobs {
  tokens?: string[];
  token_logprobs?: (number | null)[];
  top_logprobs?: (Record<string, number> | null)[];
}

interface Chunk {
  choices?: Array<{ text?: string; logprobs?: LegacyLogprobs | null; finish_reason?: string | null }>;
  error?: { message?: string };
}

export async function listModels(server: string, signal?: AbortSignal): Promise<string[]> {
  const res = await fetch(new URL('v1/models', server), { signal });
  if (!res.ok) throw await serverError(res);
  const body = (await res.json()) as { data?: Array<{ id?: unknown }> };
  return (body.data ?? []).map((m) => m.id).filter((id): id is string => typeof id === 'string');
}

/** Streams a completion; the events end with one `finish`. */
export async function* streamCompletion(server: string, request: CompletionRequest, signal?: AbortSignal): AsyncGenerator<CompletionEvent> {
  const res = await fetch(new URL('v1/completions', server), {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
    body: JSON.stringify({ ...request, stream: true }),
    signal,
  });
  if (!res.ok) throw await serverError(res);
  if (!res.body) throw new ServerError('the server sent no body', res.status);
  let finished = false;
  for await (const data of serverSentData(res.body)) {
    if (data === '[DONE]') break;
    let chunk: Chunk;
    try {
      chunk = JSON.parse(data) as Chunk;
    } catch {
      throw new ServerError(`the server sent an event that is not JSON: ${data.slice(0, 80)}`, res.status);
    }
    if (chunk.error) throw new ServerError(chunk.error.message ?? 'the server reported an error', res.status);
    const choice = chunk.choices?.[0];
    if (!choice) continue;
    if (choice.text) yield { type: 'text', text: choice.text, tokens: tokensOf(choice.text, choice.logprobs) };
    if (choice.finish_reason) {
      finished = true;
      yield { type: 'finish', reason: choice.finish_reason };
    }
  }
  if (!finished) throw new ServerError('the stream ended before the completion finished', res.status);
}

/** The `data:` payloads of a text/event-stream body, one per event. */
async function* serverSentData(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let data: string[] = [];
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl).replace(/\r$/, '');
      buffer = buffer.slice(nl + 1);
      if (line === '') {
        if (data.length) yield data.join('\n');
        data = [];
      } else if (line.startsWith('data:')) {
        data.push(line.slice(line[5] === ' ' ? 6 : 5));
      }
    }
  }
  if (data.length) yield data.join('\n');
}

/** A chunk's tokens with their alternatives; without logprobs, the chunk's text as one token of unknown probability. */
function tokensOf(text: string, lp: LegacyLogprobs | null | undefined): TokenInfo[] {
  if (!lp?.tokens?.length) return [{ text, logprob: null, top: [] }];
  return lp.tokens.map((t, i) => ({
    text: t,
    logprob: lp.token_logprobs?.[i] ?? null,
    top: Object.entries(lp.top_logprobs?.[i] ?? {})
      .map(([token, logprob]) => ({ token, logprob }))
      .sort((a, b) => b.logprob - a.logprob),
  }));
}

async function serverError(res: Response): Promise<ServerError> {
  const text = await res.text();
  try {
    const body = JSON.parse(text) as { error?: { message?: string } | string; message?: string };
    const message = typeof body.error === 'string' ? body.error : (body.error?.message ?? body.message);
    if (message) return new ServerError(message, res.status);
  } catch {
    // Not JSON: fall through to the status line.
  }
  return new ServerError(`HTTP ${res.status} ${res.statusText}${text ? `: ${text.slice(0, 200)}` : ''}`, res.status);
}
