/**
 * cleanGutenbergText for text that arrives in pieces ending at line breaks:
 * the same markers and the same order (header through the start marker,
 * leading blank lines and the producer credit, everything from the end
 * marker on, the bracketed title line, outer whitespace), applied with the
 * same regular expressions to the first HEAD_CHARS of the body and then to
 * each piece, so the result equals the whole-text cleaner's (the markers are
 * single lines). Trailing whitespace is held back until more text follows.
 */
import { END_MARKERS, PRODUCER_CREDIT, START_MARKERS, TITLE_LINE, firstMatch } from './clean.js';

/** Body text gathered before the head rules run (they look at the start of the body only). */
const HEAD_CHARS = 64 * 1024;
/** A producer credit or blank run longer than this is not waited for. */
const HEAD_LIMIT = 1024 * 1024;

/** Character offset (in the normalised text) just after the first start marker, or undefined when there is none. */
export function findBodyStart(pieces: Iterable<string>): number | undefined {
  let offset = 0;
  for (const piece of pieces) {
    const m = firstMatch(piece, START_MARKERS);
    if (m) return offset + m.index + m[0].length;
    offset += piece.length;
  }
  return undefined;
}

export class StreamingCleaner {
  private skip: number;
  private readonly hasStart: boolean;
  private phase: 'head' | 'body' | 'done' = 'head';
  private head = '';
  private pending: string[] = [];
  private leadingNewlines = true;

  /** `bodyStart`: findBodyStart() of the same text. */
  constructor(bodyStart: number | undefined) {
    this.hasStart = bodyStart !== undefined;
    this.skip = bodyStart ?? 0;
  }

  /** Cleaned text for one more piece (possibly none yet). */
  push(piece: string): string[] {
    if (this.phase === 'done') return [];
    let text = piece;
    if (this.skip > 0) {
      if (text.length <= this.skip) {
        this.skip -= text.length;
        return [];
      }
      text = text.slice(this.skip);
      this.skip = 0;
    }
    if (this.phase === 'body') return this.body(text);
    this.head += text;
    return this.head.length < HEAD_CHARS ? [] : this.processHead(false);
  }

  /** The rest, ending with the single final line break. */
  finish(): string[] {
    const out = this.phase === 'head' ? this.processHead(true) : [];
    this.phase = 'done';
    return [...out, '\n'];
  }

  private processHead(final: boolean): string[] {
    const waiting = !final && this.head.length < HEAD_LIMIT;
    let b = this.head;
    if (this.hasStart) {
      if (waiting && b.trim() === '') return [];
      b = b.replace(/^\s*\n/, '');
      const credit = PRODUCER_CREDIT.exec(b);
      if (credit && waiting && credit[0].length === b.length) return [];
      b = b.replace(PRODUCER_CREDIT, '');
    }
    const end = firstMatch(b, END_MARKERS);
    if (end) b = b.slice(0, end.index);
    if (!end && waiting && /^\s*$/.test(b)) return [];
    const title = TITLE_LINE.exec(b);
    if (title) b = b.slice(title[0].length);
    this.head = '';
    this.phase = end ? 'done' : 'body';
    return this.emit(b);
  }

  private body(text: string): string[] {
    const end = firstMatch(text, END_MARKERS);
    if (end) this.phase = 'done';
    return this.emit(end ? text.slice(0, end.index) : text);
  }

  private emit(piece: string): string[] {
    let text = piece;
    if (this.leadingNewlines) {
      text = text.replace(/^\n+/, '');
      if (text === '') return [];
      this.leadingNewlines = false;
    }
    const kept = text.trimEnd();
    if (kept.length === 0) {
      this.pending.push(text);
      return [];
    }
    const out = [...this.pending, kept];
    this.pending = kept.length < text.length ? [text.slice(kept.length)] : [];
    return out;
  }
}
