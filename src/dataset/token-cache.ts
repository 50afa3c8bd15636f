import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { InkwellError, errorMessage } from '../utils/errors.js';
import { AtomicFileWriter, writeJsonAtomic } from '../utils/fs.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import type { Document } from '../corpus/corpus.js';
import { splitDocuments } from '../corpus/split.js';
import { BYTES_PER_TOKEN, dtypeFor, openTokenSource, toLittleEndian, type TokenDtype, type TokenSource } from './token-source.js';

export type SplitName = 'train' | 'val';

/** The JSON sidecar (`meta.json`) of a token cache directory. */
export interface TokenCacheMeta {
  version: 1;
  /** Tokenizer.hash() of the tokenizer that produced the ids: a mismatch means the cache is stale. */
  tokenizerHash: string;
  vocabSize: number;
  dtype: TokenDtype;
  /** Id appended after every document (the tokenizer's eos), or null. */
  separator: number | null;
  valFraction: number;
  seed: number;
  splits: Record<SplitName, { file: string; tokens: number }>;
  documents: Array<{ name: string; source: string; split: SplitName; offset: number; tokens: number }>;
}

const META = 'meta.json';

export interface PrepareOptions {
  /** Share of the corpus (by characters, whole documents) held out for validation (default 0.1). */
  valFraction?: number;
  /** Seed of the document split (default 0). */
  seed?: number;
  /** Append the tokenizer's eos id after each document (default: when it has one). */
  separateDocuments?: boolean;
  onProgress?: (done: number, total: number, name: string) => void;
}

/**
 * Encodes a corpus once into `dir`: train.bin and val.bin (flat little-endian
 * uint16, or uint32 above 65,536 ids) and meta.json. Documents are encoded and
 * streamed one at a time; each .bin is written atomically, and meta.json goes
 * last, so an interrupted run never leaves a cache that looks complete.
 */
export function prepareTokenCache(docs: readonly Document[], tokenizer: Tokenizer, dir: string, options: PrepareOptions = {}): TokenCacheMeta {
  const valFraction = options.valFraction ?? 0.1;
  const seed = options.seed ?? 0;
  const separator = (options.separateDocuments ?? true) ? tokenizer.special.eos ?? null : null;
  const dtype = dtypeFor(tokenizer.vocabSize);
  const split = splitDocuments(docs, valFraction, seed);
  const meta: TokenCacheMeta = {
    version: 1,
    tokenizerHash: tokenizer.hash(),
    vocabSize: tokenizer.vocabSize,
    dtype,
    separator,
    valFraction,
    seed,
    splits: { train: { file: 'train.bin', tokens: 0 }, val: { file: 'val.bin', tokens: 0 } },
    documents: [],
  };
  const total = split.train.length + split.val.length;
  let done = 0;
  for (const name of ['train', 'val'] as const) {
    const writer = new AtomicFileWriter(join(dir, meta.splits[name].file));
    try {
      for (const doc of split[name]) {
        const ids = tokenizer.encode(doc.text);
        if (separator !== null) ids.push(separator);
        writer.write(packTokens(ids, dtype));
        meta.documents.push({ name: doc.name, source: doc.source, split: name, offset: meta.splits[name].tokens, tokens: ids.length });
        meta.splits[name].tokens += ids.length;
        options.onProgress?.(++done, total, doc.name);
      }
      writer.commit();
    } catch (err) {
      writer.abort();
      throw err;
    }
  }
  writeJsonAtomic(join(dir, META), meta);
  return meta;
}

function packTokens(ids: readonly number[], dtype: TokenDtype): Buffer {
  const arr = dtype === 'uint16' ? Uint16Array.from(ids) : Uint32Array.from(ids);
  return toLittleEndian(Buffer.from(arr.buffer, arr.byteOffset, arr.byteLength), dtype);
}

/**
 * Reads and checks a token cache: meta.json must parse, match `tokenizer`
 * (when given) by hash, and each .bin must have the recorded size.
 */
export function readTokenCacheMeta(dir: string, tokenizer?: Tokenizer): TokenCacheMeta {
  const path = join(dir, META);
  if (!existsSync(path)) throw new InkwellError(`no token cache in ${dir} (missing ${META})`, 'build it with `inkwell data prepare`');
  let meta: TokenCacheMeta;
  try {
    meta = JSON.parse(readFileSync(path, 'utf8')) as TokenCacheMeta;
  } catch (err) {
    throw new InkwellError(`${path} is not valid JSON: ${errorMessage(err)}`, 'rebuild the cache with `inkwell data prepare`');
  }
  if (meta.version !== 1 || !meta.splits || !(meta.dtype in BYTES_PER_TOKEN)) throw new InkwellError(`${path} is not an inkwell token cache sidecar`);
  if (tokenizer && meta.tokenizerHash !== tokenizer.hash()) {
    throw new InkwellError(
      `token cache ${dir} is stale: it was built with tokenizer ${meta.tokenizerHash.slice(0, 12)}, not ${tokenizer.hash().slice(0, 12)}`,
      'rebuild it with `inkwell data prepare` using this tokenizer',
    );
  }
  for (const name of ['train', 'val'] as const) {
    const file = join(dir, meta.splits[name].file);
    const expected = meta.splits[name].tokens * BYTES_PER_TOKEN[meta.dtype];
    const actual = existsSync(file) ? statSync(file).size : -1;
    if (actual !== expected) {
      throw new InkwellError(`token file ${file} has ${actual < 0 ? 'gone missing' : `${actual} bytes, expected ${expected}`}`, 'rebuild the cache with `inkwell data prepare`');
    }
  }
  return meta;
}

/** Opens one split of a checked token cache for reading. */
export function openTokenCacheSplit(dir: string, split: SplitName, tokenizer?: Tokenizer, streamAboveBytes?: number): TokenSource {
  const meta = readTokenCacheMeta(dir, tokenizer);
  return openTokenSource(join(dir, meta.splits[split].file), meta.dtype, streamAboveBytes);
}
