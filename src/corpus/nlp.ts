import type { WinkMethods } from 'wink-nlp';
import { loadWink } from './wink-loader.js';

/**
 * The tutorial's spaCy/NLTK preprocessing, done with wink-nlp's English lite
 * model: sentence splitting, word tokenisation (contractions split like
 * spaCy: "didn't" → "did", "n't"), lowercasing, stop-word removal and lemmas.
 */

export interface WordOptions {
  /** Lowercase every token (default false). */
  lowercase?: boolean;
  /** Drop English stop words such as "the", "and" (default false). */
  removeStopWords?: boolean;
  /** Replace each word by its lemma, e.g. "cried" → "cry" (default false; lemmas are lowercase). */
  lemmatize?: boolean;
  /** Keep punctuation tokens (default true). */
  punctuation?: boolean;
}

let cached: WinkMethods | undefined;

/** wink-nlp instance, created on first use (see wink-loader.ts). */
function nlp(): WinkMethods {
  cached ??= loadWink();
  return cached;
}

/** Token kinds that are layout, not words: runs of spaces, tabs and newlines. */
const LAYOUT_TYPES = new Set(['tabCRLF', 'spacing']);

export function splitSentences(text: string): string[] {
  return nlp().readDoc(text).sentences().out();
}

/** Word tokens of `text` (no whitespace tokens), transformed as `options` asks. */
export function tokenizeWords(text: string, options: WordOptions = {}): string[] {
  const { its } = nlp();
  const tokens = nlp().readDoc(text).tokens();
  // wink's typings declare `lemma` with an extra model-addons argument that `out` supplies itself.
  const values = tokens.out(options.lemmatize ? (its.lemma as unknown as typeof its.value) : its.value);
  const types = tokens.out(its.type);
  const stop = options.removeStopWords ? tokens.out(its.stopWordFlag) : undefined;
  const keepPunctuation = options.punctuation ?? true;
  const out: string[] = [];
  for (let i = 0; i < values.length; i++) {
    const type = types[i]!;
    if (LAYOUT_TYPES.has(type)) continue;
    if (!keepPunctuation && type === 'punctuation') continue;
    if (stop?.[i]) continue;
    const v = values[i]!;
    out.push(options.lowercase ? v.toLowerCase() : v);
  }
  return out;
}

export interface TextStats {
  characters: number;
  /** Word and number tokens (punctuation and whitespace excluded). */
  words: number;
  sentences: number;
  /** Distinct lowercased words. */
  vocabulary: number;
  /** vocabulary / words: lexical diversity. */
  typeTokenRatio: number;
}

/** Stats of one text, plus its vocabulary so that corpus totals can take the union. */
export function textStats(text: string): TextStats & { vocabularySet: Set<string> } {
  const { its } = nlp();
  const doc = nlp().readDoc(text);
  const tokens = doc.tokens();
  const types = tokens.out(its.type);
  const normals = tokens.out(its.normal);
  const vocabularySet = new Set<string>();
  let words = 0;
  for (let i = 0; i < types.length; i++) {
    const t = types[i];
    if (t !== 'word' && t !== 'number') continue;
    words++;
    vocabularySet.add(normals[i]!);
  }
  return {
    characters: countCodePoints(text),
    words,
    sentences: doc.sentences().length(),
    vocabulary: vocabularySet.size,
    typeTokenRatio: ratio(vocabularySet.size, words),
    vocabularySet,
  };
}

/** Corpus totals from per-text stats: sums, except the vocabulary, which is the union. */
export function mergeStats(parts: ReadonlyArray<TextStats & { vocabularySet: Set<string> }>): TextStats {
  const union = new Set<string>();
  let characters = 0, words = 0, sentences = 0;
  for (const p of parts) {
    characters += p.characters;
    words += p.words;
    sentences += p.sentences;
    for (const w of p.vocabularySet) union.add(w);
  }
  return { characters, words, sentences, vocabulary: union.size, typeTokenRatio: ratio(union.size, words) };
}

function ratio(types: number, tokens: number): number {
  return tokens === 0 ? 0 : types / tokens;
}

function countCodePoints(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    // A high surrogate starts a pair that is one character.
    if (c < 0xd800 || c > 0xdbff) n++;
  }
  return n;
}
