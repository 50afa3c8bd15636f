/**
 * Where evaluation text comes from: a training run keeps its token cache in
 * `RUN/data/` (train.bin, val.bin, meta.json); a model saved as `RUN/best`
 * finds it in its parent. A user can also bring any text file.
 */
import fs from 'node:fs';
import { openTokenCacheSplit, readTokenCacheMeta, type SplitName } from '../dataset/token-cache.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import { InkwellError } from '../utils/errors.js';

/** Up to `maxTokens` tokens from the start of one split of a token cache built with `tokenizer`. */
export function readSplit(dataDir: string, split: SplitName, tokenizer: Tokenizer, maxTokens = Infinity): { tokens: Int32Array; total: number } {
  const meta = readTokenCacheMeta(dataDir, tokenizer);
  const total = meta.splits[split].tokens;
  const source = openTokenCacheSplit(dataDir, split, tokenizer);
  try {
    const tokens = new Int32Array(Math.min(total, maxTokens));
    source.read(0, tokens.length, tokens, 0);
    return { tokens, total };
  } finally {
    source.close();
  }
}

/** A UTF-8 text file, encoded; its name is given in errors as `flag`. */
export function readTextFile(file: string, tokenizer: Tokenizer, flag = '--text'): Int32Array {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new InkwellError(`${flag} ${file}: cannot read the file`);
  }
  if (text.trim() === '') throw new InkwellError(`${flag} ${file} is empty`);
  return Int32Array.from(tokenizer.encode(text));
}

/** Documents encoded one after another, separated by the tokenizer's eos token when it has one (as token caches are). */
export function encodeDocuments(docs: ReadonlyArray<{ text: string }>, tokenizer: Tokenizer): Int32Array {
  const ids: number[] = [];
  for (const d of docs) {
    for (const id of tokenizer.encode(d.text)) ids.push(id);
    if (tokenizer.special.eos !== undefined) ids.push(tokenizer.special.eos);
  }
  return Int32Array.from(ids);
}
