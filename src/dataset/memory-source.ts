/** Tokens in memory as a TokenSource: no file access, so batching also runs in a browser (files: token-source.ts). */

/** Random access to a flat stream of token ids (a token file, or ids in memory). */
export interface TokenSource {
  readonly length: number;
  /** Copies tokens [start, start + count) into out[outOffset…]. */
  read(start: number, count: number, out: Int32Array, outOffset: number): void;
  close(): void;
}

/** Token ids already in memory (e.g. a text encoded by the library API) as a TokenSource. */
export function tokenSourceFromIds(ids: ArrayLike<number>): TokenSource {
  return new MemorySource(Uint32Array.from(ids));
}

export class MemorySource implements TokenSource {
  constructor(private readonly tokens: Uint16Array | Uint32Array) {}

  get length(): number {
    return this.tokens.length;
  }

  read(start: number, count: number, out: Int32Array, outOffset: number): void {
    checkRange(start, count, this.tokens.length);
    out.set(this.tokens.subarray(start, start + count), outOffset);
  }

  close(): void {}
}

export function checkRange(start: number, count: number, length: number): void {
  if (start < 0 || count < 0 || start + count > length) throw new RangeError(`tokens [${start}, ${start + count}) outside [0, ${length})`);
}
