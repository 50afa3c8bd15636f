import { InkwellError } from '../utils/errors.js';
import { BYTE_TO_CHAR, GPT2_PATTERN, byteAlphabet } from './byte-level.js';
import { ByteLevelBpeTokenizer, MAX_VOCAB, pairKey } from './bpe.js';
import { PairHeap } from './pair-heap.js';
import { specialTokenPattern } from './tokenizer.js';

export interface BpeTrainOptions {
  /** Final vocabulary size, special tokens and the 256 byte tokens included. */
  vocabSize: number;
  /** Special tokens, given the first ids in order (default ["<|endoftext|>"]). */
  specialTokens?: readonly string[];
  /** Stop merging when the best pair occurs fewer times than this (default 2). */
  minFrequency?: number;
  /** Called now and then with merges done and merges wanted. */
  onProgress?: (done: number, total: number) => void;
}

/**
 * Trains a GPT-2-style byte-level BPE with the standard incremental algorithm:
 * texts are cut into pre-tokens with GPT-2's pattern and counted once; every
 * distinct pre-token becomes a "word" (array of symbol ids) with a count; pair
 * counts are weighted by word counts and kept in a max-heap. Each merge only
 * revisits the words that contain the merged pair (an index from pair to
 * words), adjusting the counts of neighbouring pairs, so the cost per merge is
 * proportional to the pair's occurrences, not to the corpus.
 *
 * Ids: special tokens first, then the 256 byte tokens in code-point order,
 * then one id per merge. Ties go to the pair with the smaller ids.
 */
export function trainByteLevelBpe(texts: Iterable<string>, options: BpeTrainOptions): ByteLevelBpeTokenizer {
  const specials = options.specialTokens ?? ['<|endoftext|>'];
  const minFrequency = options.minFrequency ?? 2;
  const base = specials.length + 256;
  if (!Number.isInteger(options.vocabSize) || options.vocabSize < base || options.vocabSize > MAX_VOCAB) {
    throw new InkwellError(`--vocab-size must be an integer from ${base} (special tokens + 256 bytes) to ${MAX_VOCAB}, got ${options.vocabSize}`);
  }
  if (new Set(specials).size !== specials.length) throw new InkwellError('special tokens must be distinct');

  const vocab = new Map<string, number>();
  const tokens: string[] = [];
  const addToken = (t: string): number => {
    const existing = vocab.get(t);
    if (existing !== undefined) return existing;
    vocab.set(t, tokens.length);
    tokens.push(t);
    return tokens.length - 1;
  };
  for (const s of specials) addToken(s);
  const byteId = new Int32Array(256);
  for (const ch of byteAlphabet()) byteId[BYTE_TO_CHAR.indexOf(ch)] = addToken(ch);

  const wordCounts = countPreTokens(texts, specials);
  const corpus = buildWords(wordCounts, byteId);
  const { words, lengths, freqs } = corpus;

  // Pair statistics: weighted counts and, per pair, the words it occurs in
  // (may hold duplicates and stale entries; each merge re-checks the word).
  const pairCount = new Map<number, number>();
  const pairWords = new Map<number, number[]>();
  const addPair = (key: number, delta: number, word: number) => {
    pairCount.set(key, (pairCount.get(key) ?? 0) + delta);
    if (delta > 0) {
      const list = pairWords.get(key);
      if (list) list.push(word); else pairWords.set(key, [word]);
    }
  };
  for (let w = 0; w < words.length; w++) {
    const syms = words[w]!;
    for (let i = 0; i + 1 < lengths[w]!; i++) addPair(pairKey(syms[i]!, syms[i + 1]!), freqs[w]!, w);
  }
  const heap = new PairHeap();
  for (const [key, count] of pairCount) heap.push(key, count);

  const merges: Array<[string, string]> = [];
  const wanted = options.vocabSize - tokens.length;
  const seen = new Int32Array(words.length).fill(-1);
  let lastReport = 0;
  while (tokens.length < options.vocabSize) {
    const top = heap.pop();
    if (!top) break;
    const current = pairCount.get(top.key) ?? 0;
    if (current !== top.count) {
      if (current > 0) heap.push(top.key, current);
      continue;
    }
    if (current < minFrequency || current <= 0) break;
    const left = Math.floor(top.key / MAX_VOCAB);
    const right = top.key % MAX_VOCAB;
    const merged = addToken(tokens[left]! + tokens[right]!);
    merges.push([tokens[left]!, tokens[right]!]);

    const touched = new Set<number>();
    for (const w of pairWords.get(top.key) ?? []) {
      if (seen[w] === merges.length) continue;
      seen[w] = merges.length;
      mergeInWord(w, left, right, merged, corpus, (key, delta) => {
        addPair(key, delta, w);
        touched.add(key);
      });
    }
    pairCount.delete(top.key);
    pairWords.delete(top.key);
    for (const key of touched) {
      const c = pairCount.get(key) ?? 0;
      const l = Math.floor(key / MAX_VOCAB), r = key % MAX_VOCAB;
      if (c > 0 && (l === merged || r === merged)) heap.push(key, c);
      else if (c <= 0) { pairCount.delete(key); pairWords.delete(key); }
    }
    if (options.onProgress && (merges.length - lastReport >= 100 || tokens.length === options.vocabSize)) {
      lastReport = merges.length;
      options.onProgress(merges.length, wanted);
    }
  }

  const specialMap = new Map(specials.map((s, i) => [s, i] as [string, number]));
  return new ByteLevelBpeTokenizer({ vocab, merges, specialTokens: specialMap });
}

interface Words {
  words: Int32Array[];
  lengths: Int32Array;
  freqs: Float64Array;
}

/** Counts of GPT-2 pre-tokens over all texts, special tokens cut out. */
function countPreTokens(texts: Iterable<string>, specials: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  const specialPattern = specialTokenPattern(specials);
  for (const text of texts) {
    const segments = specialPattern ? text.split(specialPattern) : [text];
    for (const segment of segments) {
      const pattern = new RegExp(GPT2_PATTERN);
      for (let m = pattern.exec(segment); m; m = pattern.exec(segment)) counts.set(m[0], (counts.get(m[0]) ?? 0) + 1);
    }
  }
  return counts;
}

/** Each distinct pre-token as an array of byte ids, in a deterministic (sorted) order. */
function buildWords(counts: Map<string, number>, byteId: Int32Array): Words {
  const entries = [...counts].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const words: Int32Array[] = [];
  const lengths = new Int32Array(entries.length);
  const freqs = new Float64Array(entries.length);
  entries.forEach(([piece, count], w) => {
    const bytes = Buffer.from(piece, 'utf8');
    const syms = new Int32Array(bytes.length);
    for (let i = 0; i < bytes.length; i++) syms[i] = byteId[bytes[i]!]!;
    words.push(syms);
    lengths[w] = bytes.length;
    freqs[w] = count;
  });
  return { words, lengths, freqs };
}

/**
 * Replaces every (left, right) in word `w` by `merged`, left to right, and
 * reports the pair-count changes: the merged pair and the pairs it broke with
 * its neighbours lose the word's count, the new pairs with `merged` gain it.
 */
function mergeInWord(
  w: number, left: number, right: number, merged: number, corpus: Words,
  change: (key: number, delta: number) => void,
): void {
  const syms = corpus.words[w]!;
  const len = corpus.lengths[w]!;
  const f = corpus.freqs[w]!;
  let out = 0;
  for (let i = 0; i < len; ) {
    if (i + 1 < len && syms[i] === left && syms[i + 1] === right) {
      change(pairKey(left, right), -f);
      if (out > 0) {
        const prev = syms[out - 1]!;
        change(pairKey(prev, left), -f);
        change(pairKey(prev, merged), f);
      }
      if (i + 2 < len) {
        const next = syms[i + 2]!;
        change(pairKey(right, next), -f);
        change(pairKey(merged, next), f);
      }
      syms[out++] = merged;
      i += 2;
    } else {
      syms[out++] = syms[i++]!;
    }
  }
  corpus.lengths[w] = out;
}
