import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { endianness } from 'node:os';
import { InkwellError } from '../utils/errors.js';
import { checkRange, MemorySource, type TokenSource } from './memory-source.js';

export { tokenSourceFromIds, type TokenSource } from './memory-source.js';

export type TokenDtype = 'uint16' | 'uint32';

export const BYTES_PER_TOKEN: Record<TokenDtype, number> = { uint16: 2, uint32: 4 };

/** uint16 while every id fits, as nanoGPT and llm.c store tokens. */
export function dtypeFor(vocabSize: number): TokenDtype {
  return vocabSize <= 65536 ? 'uint16' : 'uint32';
}

/** Token files are little-endian on disk; big-endian hosts swap after reading and before writing. */
export function toLittleEndian(buf: Buffer, dtype: TokenDtype): Buffer {
  if (endianness() === 'BE') {
    if (dtype === 'uint16') buf.swap16(); else buf.swap32();
  }
  return buf;
}

/** Files above this size are streamed with positioned reads instead of being loaded whole: 128 MiB keeps a 1 GB corpus's validation split (~200 MB of tokens) out of memory, and every ordinary corpus in it. */
export const DEFAULT_STREAM_ABOVE_BYTES = 128 * 1024 * 1024;

/**
 * Opens a token file; with `vocabSize`, every id is checked to be below it
 * first (a streamed max over the file), so a corrupt or foreign cache fails
 * here with the file's name rather than inside a model's embedding lookup.
 */
export function openTokenSource(path: string, dtype: TokenDtype, streamAboveBytes = DEFAULT_STREAM_ABOVE_BYTES, vocabSize?: number): TokenSource {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    throw new InkwellError(`token file ${path} is missing`, 'rebuild the cache with `inkwell data prepare`');
  }
  const bytes = fstatSync(fd).size;
  const width = BYTES_PER_TOKEN[dtype];
  if (bytes % width !== 0) {
    closeSync(fd);
    throw new InkwellError(`token file ${path} is truncated (${bytes} bytes is not a whole number of ${dtype})`);
  }
  if (bytes > streamAboveBytes) {
    if (vocabSize !== undefined) checkIds(path, vocabSize, maxIdStreamed(fd, bytes, dtype));
    return new StreamingSource(fd, bytes / width, dtype);
  }
  // Unpooled, so the typed array can view it in place (offset 0, aligned) instead of copying it.
  const all = Buffer.allocUnsafeSlow(bytes);
  let at = 0;
  try {
    while (at < bytes) at += readSync(fd, all, at, bytes - at, at);
  } finally {
    closeSync(fd);
  }
  const ids = view(toLittleEndian(all, dtype), dtype);
  if (vocabSize !== undefined) checkIds(path, vocabSize, maxOf(ids));
  return new MemorySource(ids);
}

function maxOf(ids: Uint16Array | Uint32Array): number {
  let max = -1;
  for (let i = 0; i < ids.length; i++) if (ids[i]! > max) max = ids[i]!;
  return max;
}

function maxIdStreamed(fd: number, bytes: number, dtype: TokenDtype): number {
  const chunk = Buffer.allocUnsafeSlow(4 * 1024 * 1024);
  let max = -1;
  for (let at = 0; at < bytes; ) {
    const n = readSync(fd, chunk, 0, Math.min(chunk.length, bytes - at), at);
    if (n === 0) break;
    const whole = n - (n % BYTES_PER_TOKEN[dtype]);
    max = Math.max(max, maxOf(view(toLittleEndian(chunk.subarray(0, whole), dtype), dtype)));
    at += whole;
  }
  return max;
}

function checkIds(path: string, vocabSize: number, max: number): void {
  if (max >= vocabSize) {
    throw new InkwellError(`token file ${path} holds id ${max}, outside its tokenizer's vocabulary (size ${vocabSize})`, 'rebuild the cache with `inkwell data prepare` (or --rebuild-cache)');
  }
}

function view(buf: Buffer, dtype: TokenDtype): Uint16Array | Uint32Array {
  const width = BYTES_PER_TOKEN[dtype];
  if (buf.byteOffset % width === 0) {
    const n = buf.byteLength / width;
    return dtype === 'uint16' ? new Uint16Array(buf.buffer, buf.byteOffset, n) : new Uint32Array(buf.buffer, buf.byteOffset, n);
  }
  // A misaligned (pooled) Buffer is copied into a fresh, aligned ArrayBuffer.
  const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
  return dtype === 'uint16' ? new Uint16Array(ab) : new Uint32Array(ab);
}

/** Reads each window with fs.readSync at its byte offset: memory use is independent of corpus size. */
class StreamingSource implements TokenSource {
  private scratch = Buffer.alloc(0);

  constructor(private fd: number | undefined, readonly length: number, private readonly dtype: TokenDtype) {}

  read(start: number, count: number, out: Int32Array, outOffset: number): void {
    if (this.fd === undefined) throw new Error('token source is closed');
    checkRange(start, count, this.length);
    const width = BYTES_PER_TOKEN[this.dtype];
    const bytes = count * width;
    if (this.scratch.length < bytes) this.scratch = Buffer.alloc(bytes);
    let at = 0;
    while (at < bytes) {
      const n = readSync(this.fd, this.scratch, at, bytes - at, start * width + at);
      if (n === 0) throw new InkwellError('token file shrank while being read');
      at += n;
    }
    out.set(view(toLittleEndian(this.scratch.subarray(0, bytes), this.dtype), this.dtype), outOffset);
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
