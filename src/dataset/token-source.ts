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

/** Files above this size are streamed with positioned reads instead of being loaded whole. */
export const DEFAULT_STREAM_ABOVE_BYTES = 512 * 1024 * 1024;

export function openTokenSource(path: string, dtype: TokenDtype, streamAboveBytes = DEFAULT_STREAM_ABOVE_BYTES): TokenSource {
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
  if (bytes > streamAboveBytes) return new StreamingSource(fd, bytes / width, dtype);
  const all = Buffer.allocUnsafe(bytes);
  let at = 0;
  while (at < bytes) at += readSync(fd, all, at, bytes - at, at);
  closeSync(fd);
  return new MemorySource(view(toLittleEndian(all, dtype), dtype));
}

function view(buf: Buffer, dtype: TokenDtype): Uint16Array | Uint32Array {
  // Copy into a fresh, aligned ArrayBuffer (pooled Buffers may be misaligned).
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
