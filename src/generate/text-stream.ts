/**
 * Turning a growing list of token ids into text increments that are safe to
 * print: whole characters only, and nothing that might turn out to be the
 * start of a stop sequence.
 */
import type { Tokenizer } from '../tokenizers/tokenizer.js';

const REPLACEMENT = '\uFFFD';
/** Ids kept as left context when decoding; enough for word tokenizers' spacing and a split UTF-8 character. */
const CONTEXT_IDS = 16;

/**
 * Byte-level BPE can split one character over several tokens, and decoding
 * them one at a time would print U+FFFD. Instead the recent ids are decoded
 * together and the new suffix is emitted only once the text no longer ends in
 * U+FFFD. Decoding always includes a few earlier ids as context (so word-level
 * tokenizers put their spaces right) but never the whole history, so the cost
 * per token stays constant.
 */
export class IncrementalDetokenizer {
  private window: number[];
  private base: string;

  /** `context`: the ids before the first pushed one (the prompt); only their tail is used. */
  constructor(private readonly tokenizer: Tokenizer, context: readonly number[] = []) {
    this.window = context.slice(-CONTEXT_IDS);
    // A prompt cut inside a character ends in U+FFFD; the completed character then belongs to the output.
    this.base = stripReplacement(tokenizer.decode(this.window));
  }

  /** Adds one id; returns the text it completes ('' while a character is still incomplete). */
  push(id: number): string {
    this.window.push(id);
    const text = this.tokenizer.decode(this.window);
    if (text.endsWith(REPLACEMENT)) return '';
    return this.rebase(text);
  }

  /** The text of ids still held back (an incomplete character decodes as U+FFFD). */
  flush(): string {
    return this.rebase(this.tokenizer.decode(this.window));
  }

  private rebase(text: string): string {
    const piece = text.slice(this.base.length);
    if (this.window.length > CONTEXT_IDS) this.window = this.window.slice(-CONTEXT_IDS);
    this.base = this.tokenizer.decode(this.window);
    return piece;
  }
}

function stripReplacement(s: string): string {
  let end = s.length;
  while (end > 0 && s[end - 1] === REPLACEMENT) end--;
  return s.slice(0, end);
}

/**
 * Cuts the text at the first stop sequence. Text that could be the beginning
 * of a stop sequence is held back until the next piece settles it, so a
 * streamed stop sequence is never printed, even in part.
 */
export class StopSequenceFilter {
  private pending = '';

  constructor(private readonly stops: readonly string[]) {}

  /** `emit`: text now safe to output; `stopped`: a stop sequence was found (and dropped with everything after it). */
  push(text: string): { emit: string; stopped: boolean } {
    const buf = this.pending + text;
    // Earlier output held no unfinished match, so any match starts inside `buf`.
    let cut = -1;
    for (const s of this.stops) {
      const at = buf.indexOf(s);
      if (at >= 0 && (cut < 0 || at < cut)) cut = at;
    }
    if (cut >= 0) {
      this.pending = '';
      return { emit: buf.slice(0, cut), stopped: true };
    }
    let hold = 0;
    for (const s of this.stops) {
      for (let k = Math.min(s.length - 1, buf.length); k > hold; k--) {
        if (buf.endsWith(s.slice(0, k))) {
          hold = k;
          break;
        }
      }
    }
    this.pending = buf.slice(buf.length - hold);
    return { emit: buf.slice(0, buf.length - hold), stopped: false };
  }

  /** Releases held-back text once generation has ended without a stop. */
  flush(): string {
    const rest = this.pending;
    this.pending = '';
    return rest;
  }
}
