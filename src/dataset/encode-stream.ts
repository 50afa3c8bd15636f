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
 * HARD_LIMIT_FACTOR chunks (at least 64 Ki characters) is cut at a code
 * point boundary (ids may then differ from one whole encode at that cut).
 */
import type { Tokenizer } from '../tokenizers/tokenizer.js';

export const DEFAULT_ENCODE_CHARS = 1024 * 1024;
const HARD_LIMIT_FACTOR = 8;
const MIN_HARD_LIMIT = 64 * 1024;
const WS = /\s/;

export class ChunkedEncoder {
  private buffer = '';
  private readonly specials: string[];
  private readonly prefixSpace: boolean;
  private readonly longestSpecial: number;

  constructor(private readonly tokenizer: Tokenizer, private readonly onIds: (ids: number[]) => void, private readonly chunkChars = DEFAULT_ENCODE_CHARS) {
    this.specials = [...tokenizer.specialTokens.keys()].filter((s) => s.length > 1);
    this.longestSpecial = this.specials.reduce((n, s) => Math.max(n, s.length), 0);
    const pre = tokenizer.kind === 'bpe' ? (tokenizer.toJSON().pre_tokenizer as { add_prefix_space?: unknown } | null) : null;
    this.prefixSpace = pre?.add_prefix_space === true;
  }

  push(text: string): void {
    this.buffer += text;
    while (this.buffer.length >= this.chunkChars) {
      let cut = this.safeCut(this.buffer);
      if (cut <= 0) {
        if (this.buffer.length < Math.max(this.chunkChars * HARD_LIMIT_FACTOR, MIN_HARD_LIMIT)) return;
        cut = this.hardCut(this.buffer);
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

  /**
   * The last safe cut at or before chunkChars, else the last one in `text`
   * (0 when there is none). Cuts stay a special token's length from the end,
   * where a special token may still be arriving.
   */
  private safeCut(text: string): number {
    const last = text.length - this.longestSpecial;
    for (const from of [Math.min(this.chunkChars, last), last]) {
      for (let i = Math.min(from, text.length - 1); i > 0; i--) {
        if (this.isSafe(text, i) && !this.insideSpecial(text, i)) return i;
      }
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

  /** The first code point boundary from chunkChars on that is not inside a special token. */
  private hardCut(text: string): number {
    for (let i = this.chunkChars; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (!(c >= 0xdc00 && c <= 0xdfff) && !this.insideSpecial(text, i)) return i;
    }
    return text.length;
  }

  private insideSpecial(t: string, i: number): boolean {
    for (const s of this.specials) {
      const p = t.lastIndexOf(s, i - 1);
      if (p >= 0 && p + s.length > i) return true;
    }
    return false;
  }
}

