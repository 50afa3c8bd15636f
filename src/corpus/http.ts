import { errorMessage } from '../utils/errors.js';

export interface FetchOptions {
  /** Abort when no bytes arrive for this long (covers connect, headers and stalls mid-body). */
  idleTimeoutMs: number;
  onBytes?: (received: number, total: number | undefined) => void;
}

/** A failed HTTP attempt; `retryable` is false for answers that another try will not change (e.g. 404). */
export class FetchError extends Error {
  constructor(message: string, readonly retryable: boolean) {
    super(message);
  }
}

/**
 * GETs `url` into memory. Fails on a non-2xx status, on a stall longer than
 * the idle timeout, and on a body shorter than its Content-Length (a
 * connection cut mid-transfer), so that callers never store partial files.
 */
export async function fetchBytes(url: string, options: FetchOptions): Promise<Uint8Array> {
  const controller = new AbortController();
  let timer = setTimeout(() => controller.abort(), options.idleTimeoutMs);
  const kick = () => {
    clearTimeout(timer);
    timer = setTimeout(() => controller.abort(), options.idleTimeoutMs);
  };
  try {
    const response = await fetch(url, { signal: controller.signal, redirect: 'follow' });
    if (!response.ok) {
      const retryable = response.status >= 500 || response.status === 429 || response.status === 408;
      await response.body?.cancel().catch(() => undefined);
      throw new FetchError(`HTTP ${response.status} ${response.statusText} for ${url}`, retryable);
    }
    const lengthHeader = response.headers.get('content-length');
    const encoded = response.headers.get('content-encoding');
    const total = lengthHeader !== null && !encoded ? Number(lengthHeader) : undefined;
    const chunks: Uint8Array[] = [];
    let received = 0;
    const reader = response.body!.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      kick();
      chunks.push(value);
      received += value.length;
      options.onBytes?.(received, total);
    }
    if (total !== undefined && received !== total) {
      throw new FetchError(`truncated download from ${url}: got ${received} of ${total} bytes`, true);
    }
    return Buffer.concat(chunks);
  } catch (err) {
    if (err instanceof FetchError) throw err;
    if (controller.signal.aborted) throw new FetchError(`timed out after ${options.idleTimeoutMs} ms without data from ${url}`, true);
    throw new FetchError(`failed to fetch ${url}: ${describeCause(err)}`, true);
  } finally {
    clearTimeout(timer);
  }
}

/** undici hides the useful part ("ECONNREFUSED", "terminated") in `cause`. */
function describeCause(err: unknown): string {
  const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
  return errorMessage(err) + cause;
}
