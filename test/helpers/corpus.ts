/** A small synthetic corpus and token cache for model and trainer tests (no ../shared needed). */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after } from 'node:test';
import { readCorpus } from '../../src/corpus/corpus.js';
import { openTokenCacheSplit, prepareTokenCache } from '../../src/dataset/token-cache.js';
import type { TokenSource } from '../../src/dataset/token-source.js';
import { trainWordLevel } from '../../src/tokenizers/word-level.js';
import type { Tokenizer } from '../../src/tokenizers/tokenizer.js';
import { Rng } from '../../src/utils/rng.js';

/** A fresh temporary directory, removed when the test (or test file) that made it finishes. */
export function tmpDir(prefix = 'inkwell-test-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Seeded sentences from a tiny grammar: learnable structure, some entropy. */
export function syntheticText(sentences: number, seed = 0): string {
  const rng = new Rng(seed);
  const pick = (xs: string[]) => xs[rng.int(xs.length)]!;
  const subj = ['the cat', 'a dog', 'the old man', 'my sister', 'a bird'];
  const verb = ['sees', 'likes', 'follows', 'hears', 'finds'];
  const obj = ['the moon', 'a red ball', 'the river', 'some bread', 'the garden'];
  const lines: string[] = [];
  for (let i = 0; i < sentences; i++) lines.push(`${pick(subj)} ${pick(verb)} ${pick(obj)}.`);
  return lines.join('\n') + '\n';
}

export interface TinyCorpus {
  dir: string;
  tokenizer: Tokenizer;
  train: TokenSource;
  val: TokenSource;
}

/** Two documents, a char tokenizer without specials, and a prepared token cache. */
export function tinyCorpus(sentences = 400): TinyCorpus {
  const dir = tmpDir();
  fs.writeFileSync(path.join(dir, 'a.txt'), syntheticText(sentences, 1));
  fs.writeFileSync(path.join(dir, 'b.txt'), syntheticText(Math.ceil(sentences / 4), 2));
  const docs = readCorpus(dir);
  const tokenizer = trainWordLevel(docs.map((d) => d.text), 'char', { specialTokens: [] });
  const cache = path.join(dir, 'cache');
  prepareTokenCache(docs, tokenizer, cache, { valFraction: 0.2 });
  return { dir, tokenizer, train: openTokenCacheSplit(cache, 'train', tokenizer), val: openTokenCacheSplit(cache, 'val', tokenizer) };
}
