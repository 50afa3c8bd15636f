import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { InkwellError, errorMessage } from '../utils/errors.js';
import { AtomicFileWriter, writeJsonAtomic } from '../utils/fs.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import type { Document } from '../corpus/corpus.js';
import { isCorpusDocument, memoryDocument, type CorpusDocument } from '../corpus/documents.js';
import { DEFAULT_CHUNK_BYTES, scanFile } from '../corpus/file-text.js';
import { planSplit } from '../corpus/split.js';
import { ChunkedEncoder } from './encode-stream.js';
import { validateMeta, type CorpusRecord, type SplitName, type TokenCacheMeta } from './cache-meta.js';
import { BYTES_PER_TOKEN, dtypeFor, openTokenSource, toLittleEndian, type TokenDtype, type TokenSource } from './token-source.js';

export type { CorpusRecord, SplitName, TokenCacheMeta } from './cache-meta.js';

const META = 'meta.json';
const REBUILD_HINT = 'rebuild the cache with `inkwell data prepare` (or --rebuild-cache)';

export interface PrepareOptions {
  /** Share of the corpus (by characters, whole documents) held out for validation (default 0.1). */
  valFraction?: number;
  /** Seed of the document split (default 0). */
  seed?: number;
  /** Append the tokenizer's eos id after each document (default: when it has one). */
  separateDocuments?: boolean;
  /** Characters handed to the tokenizer at a time (default 1 Mi): what bounds memory while encoding. */
  encodeChars?: number;
  /** Whether the documents were cleaned, for the corpus record (default true). */
  clean?: boolean;
  onProgress?: (done: number, total: number, name: string) => void;
}

/** What meta.json records of a corpus: each file's size and sha256, and a digest over them. */
export function corpusRecord(docs: readonly CorpusDocument[], clean: boolean): CorpusRecord {
  const files = docs.map((d) => ({ source: d.source, ...(d.path === undefined ? {} : { path: d.path }), bytes: d.bytes, sha256: d.sha256 }));
  const digest = createHash('sha256');
  for (const f of files) digest.update(`${f.sha256}\n`);
  return { clean, bytes: files.reduce((n, f) => n + f.bytes, 0), sha256: digest.digest('hex'), files };
}

/**
 * Encodes a corpus once into `dir`: train.bin and val.bin (flat little-endian
 * uint16, or uint32 above 65,536 ids) and meta.json. Each document streams
 * through the tokenizer a bounded chunk at a time (ChunkedEncoder) into the
 * .bin writers, so memory does not grow with the corpus. Both .bin files are
 * written to temporary files and renamed only when all is encoded; the old
 * meta.json is removed first and the new one goes last, so an error or a
 * crash never leaves a cache that looks complete, and an error leaves no
 * temporary file (a killed run's are swept by the next prepare).
 */
export function prepareTokenCache(input: readonly (Document | CorpusDocument)[], tokenizer: Tokenizer, dir: string, options: PrepareOptions = {}): TokenCacheMeta {
  const docs = input.map((d) => (isCorpusDocument(d) ? d : memoryDocument(d)));
  const valFraction = options.valFraction ?? 0.1;
  const seed = options.seed ?? 0;
  const separator = (options.separateDocuments ?? true) ? tokenizer.special.eos ?? null : null;
  const dtype = dtypeFor(tokenizer.vocabSize);
  const plan = planSplit(docs.map((d) => d.chars), valFraction, seed, docs.length === 1 ? docs[0]!.lastInnerNewline : -1);
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
    corpus: corpusRecord(docs, options.clean ?? true),
  };
  sweepStaleTemps(dir);
  const writers: Partial<Record<SplitName, AtomicFileWriter>> = {};
  const entries: Record<SplitName, TokenCacheMeta['documents']> = { train: [], val: [] };
  try {
    for (const name of ['train', 'val'] as const) writers[name] = new AtomicFileWriter(join(dir, meta.splits[name].file));
    let split: SplitName = 'train';
    let docTokens = 0;
    const encoder = new ChunkedEncoder(tokenizer, (ids) => {
      writers[split]!.write(packTokens(ids, dtype));
      docTokens += ids.length;
    }, options.encodeChars);
    const endDocument = (name: string, source: string): void => {
      encoder.finish();
      if (separator !== null) {
        writers[split]!.write(packTokens([separator], dtype));
        docTokens++;
      }
      entries[split].push({ name, source, split, offset: meta.splits[split].tokens, tokens: docTokens });
      meta.splits[split].tokens += docTokens;
      docTokens = 0;
    };
    docs.forEach((doc, i) => {
      if (plan.kind === 'documents') {
        split = plan.isVal[i] ? 'val' : 'train';
        for (const piece of doc.pieces()) encoder.push(piece);
        endDocument(doc.name, doc.source);
      } else {
        // A lone document: its train part ends at the plan's cut, which the stream finds on the way.
        split = 'train';
        let offset = 0;
        let cut = plan.atLineBreak ? -1 : plan.target;
        for (const piece of doc.pieces()) {
          if (cut < 0) {
            const lf = piece.indexOf('\n', Math.max(0, plan.target - offset));
            if (lf >= 0) cut = offset + lf + 1;
          }
          if (split === 'train' && cut >= 0 && cut <= offset + piece.length) {
            encoder.push(piece.slice(0, cut - offset));
            endDocument(`${doc.name}#train`, doc.source);
            split = 'val';
            encoder.push(piece.slice(cut - offset));
          } else encoder.push(piece);
          offset += piece.length;
        }
        endDocument(`${doc.name}#${split}`, doc.source);
      }
      options.onProgress?.(i + 1, docs.length, doc.name);
    });
    rmSync(join(dir, META), { force: true });
    writers.train!.commit();
    writers.val!.commit();
  } catch (err) {
    writers.train?.abort();
    writers.val?.abort();
    throw err;
  }
  meta.documents = [...entries.train, ...entries.val];
  writeJsonAtomic(join(dir, META), meta);
  return meta;
}

/** Removes temporary files that a killed prepare (whose pid is gone) left in `dir`. */
function sweepStaleTemps(dir: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const m = /^\.(?:train\.bin|val\.bin|meta\.json)\.(\d+)\.[0-9a-f]{8}\.tmp$/.exec(name);
    if (m && !processAlive(Number(m[1]))) rmSync(join(dir, name), { force: true });
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function packTokens(ids: readonly number[], dtype: TokenDtype): Buffer {
  const arr = dtype === 'uint16' ? Uint16Array.from(ids) : Uint32Array.from(ids);
  return toLittleEndian(Buffer.from(arr.buffer, arr.byteOffset, arr.byteLength), dtype);
}

/**
 * Reads and checks a token cache: meta.json must parse and pass
 * validateMeta, match `tokenizer` (when given) by hash and vocabulary size,
 * and each .bin must be a file of the recorded size.
 */
export function readTokenCacheMeta(dir: string, tokenizer?: Tokenizer): TokenCacheMeta {
  const path = join(dir, META);
  if (!existsSync(path)) throw new InkwellError(`no token cache in ${dir} (missing ${META})`, 'build it with `inkwell data prepare`');
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new InkwellError(`${path} is not valid JSON: ${errorMessage(err)}`, 'rebuild the cache with `inkwell data prepare`');
  }
  const meta = validateMeta(raw, path);
  if (tokenizer && (meta.tokenizerHash !== tokenizer.hash() || meta.vocabSize !== tokenizer.vocabSize)) {
    throw new InkwellError(
      `token cache ${dir} is stale: it was built with tokenizer ${meta.tokenizerHash.slice(0, 12)}, not ${tokenizer.hash().slice(0, 12)}`,
      'rebuild it with `inkwell data prepare` using this tokenizer',
    );
  }
  for (const name of ['train', 'val'] as const) {
    const file = join(dir, meta.splits[name].file);
    const expected = meta.splits[name].tokens * BYTES_PER_TOKEN[meta.dtype];
    const stats = existsSync(file) ? statSync(file) : undefined;
    if (stats && !stats.isFile()) throw new InkwellError(`token file ${file} is not a file`, REBUILD_HINT);
    const actual = stats ? stats.size : -1;
    if (actual !== expected) {
      throw new InkwellError(`token file ${file} has ${actual < 0 ? 'gone missing' : `${actual} bytes, expected ${expected}`}`, 'rebuild the cache with `inkwell data prepare`');
    }
  }
  return meta;
}

/** Opens one split of a checked token cache for reading; every id is checked against the vocabulary (a streamed max). */
export function openTokenCacheSplit(dir: string, split: SplitName, tokenizer?: Tokenizer, streamAboveBytes?: number): TokenSource {
  const meta = readTokenCacheMeta(dir, tokenizer);
  return openTokenSource(join(dir, meta.splits[split].file), meta.dtype, streamAboveBytes, meta.vocabSize);
}

/**
 * The first recorded corpus file that is present but no longer what the
 * cache was built from (size, then streamed sha256), or undefined. Files
 * that are gone are not held against the cache: its tokens stand alone.
 */
export function changedCorpusFile(meta: TokenCacheMeta): string | undefined {
  for (const f of meta.corpus?.files ?? []) {
    if (f.path === undefined || !existsSync(f.path)) continue;
    if (statSync(f.path).size !== f.bytes || scanFile(f.path, DEFAULT_CHUNK_BYTES).sha256 !== f.sha256) return f.path;
  }
  return undefined;
}

/** Refuses a cache whose corpus changed since it was built, naming the file and the flag that rebuilds. */
export function checkCorpusUnchanged(dir: string, meta: TokenCacheMeta): void {
  const changed = changedCorpusFile(meta);
  if (changed) {
    throw new InkwellError(`corpus file ${changed} has changed since the token cache ${dir} was built from it`, 'pass --rebuild-cache to encode it again (or restore the file)');
  }
}
