/**
 * How much of a generated text is real words: the share of its words that
 * occur in a corpus's word list. A model that has learnt spelling writes words
 * a reader has seen; one that has not writes "prean soned of mages". Words
 * are the letter-bearing units of the word tokenizer's split (so "didn't" is
 * "did" + "n't"), compared lowercased.
 */
import { splitWords } from '../tokenizers/word-split.js';

export interface KnownWordsReport {
  words: number;
  known: number;
  /** known / words (0 for a text without words). */
  share: number;
  /** Distinct unknown words, in order of first appearance. */
  unknown: string[];
}

const LETTER = /\p{L}/u;

/** Lowercased words of `text` (units with at least one letter). */
export function wordsOf(text: string): string[] {
  return splitWords(text.toLowerCase()).filter((u) => LETTER.test(u));
}

/** The corpus's word list. */
export function wordList(texts: Iterable<string>): Set<string> {
  const list = new Set<string>();
  for (const t of texts) for (const w of wordsOf(t)) list.add(w);
  return list;
}

export function knownWords(sample: string, list: ReadonlySet<string>): KnownWordsReport {
  const words = wordsOf(sample);
  const unknown = new Set<string>();
  let known = 0;
  for (const w of words) {
    if (list.has(w)) known++;
    else unknown.add(w);
  }
  return { words: words.length, known, share: words.length === 0 ? 0 : known / words.length, unknown: [...unknown] };
}
