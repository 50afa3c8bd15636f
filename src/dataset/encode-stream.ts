/**
 * Encodes a text that arrives in pieces, a bounded chunk at a time, with the
 * same ids as one encode() of the whole text: a chunk is cut only where the
 * tokenizer's pre-tokenization cannot join the two sides —
 *   char: between any two code points;
 *   word: before a whitespace character (words never contain one);
 *   bpe:  before a single space between two non-space characters (GPT-2's
 *         pattern gives the space to the next word, and the next chunk
 *         then starts with a space, so add_prefix_space adds nothing), or
 *         after a single other whitespace character between two
 *         non-space characters when add_prefix_space is off;
 * and never inside a special token. Text with no such place for
 * HARD_LIMIT_FACTOR chunks is cut at a code point boundary (ids may then
 * differ from one whole encode at that cut).
 */
import type { Tokenizer } from '../tokenizers/tokenizer.js';

export const DEFAULT_ENCODE_CHARS = 1024 * 1024;
const HARD_LIMIT_FACTOR = 8;
const WS = /\s/;

export class ChunkedEncoder {
  private buffer = '';
  private readonly specials: string[];
  private readonly prefixSpace: boolean;

  constructor(private readonly tokenizer: Tokenizer, private readonly onIds: (ids: number[]) => void, private readonly chunkChars = DEFAULT_ENCODE_CHARS) {
    this.specials = [...tokenizer.specialTokens.keys()].filter((s) => s.length > 1);
    const pre = tokenizer.kind === 'bpe' ? (tokenizer.toJSON().pre_tokenizer as { add_prefix_space?: unknown } | null) : null;
    this.prefixSpace = pre?.add_prefix_space === true;
  }

  push(text: string): void {
    this.buffer += text;
    while (this.buffer.length >= this.chunkChars) {
      let cut = this.safeCut(this.buffer);
      if (cut <= 0) {
        if (this.buffer.length < this.chunkChars * HARD_LIMIT_FACTOR) return;
        cut = codePointCut(this.buffer, this.chunkChars);
      }
      this.onIds(this.tokenizer.encode(this.buffer.slice(0, cut)));
      this.buffer = this.buffer.slice(cut);
    }
  }

  /** Encodes what is left; the encoder can be used again for a new text. */
  finish(): void {
    if (this.buffer.length > 0) this.onIds(this.tokenizer.encode(this.buffer));
    this.buffer = '';
  }

  /** The last safe cut in `text` (0 when there is none). */
  private safeCut(text: string): number {
    for (let i = text.length - 1; i > 0; i--) {
      if (this.isSafe(text, i) && !this.insideSpecial(text, i)) return i;
    }
    return 0;
  }

  private isSafe(t: string, i: number): boolean {
    const c = t.charCodeAt(i);
    switch (this.tokenizer.kind) {
      case 'char':
        return !(c >= 0xdc00 && c <= 0xdfff);
      case 'word':
        return WS.test(t[i]!);
      case 'bpe': {
        if (c === 32) return i + 1 < t.length && !WS.test(t[i - 1]!) && !WS.test(t[i + 1]!);
        // After one whitespace character w other than a space: "X w | Y".
        const w = t[i - 1]!;
        return !this.prefixSpace && i >= 2 && w !== ' ' && WS.test(w) && !WS.test(t[i - 2]!) && !WS.test(t[i]!);
      }
    }
  }

  private insideSpecial(t: string, i: number): boolean {
    for (const s of this.specials) {
      const p = t.lastIndexOf(s, i - 1);
      if (p >= 0 && p + s.length > i) return true;
    }
    return false;
  }
}

function codePointCut(text: string, at: number): number {
  const c = text.charCodeAt(at);
  return c >= 0xdc00 && c <= 0xdfff ? at + 1 : at;
}
