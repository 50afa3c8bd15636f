/**
 * The token cache's sidecar (`meta.json`), checked field by field on read: a
 * hand-edited or hostile file must fail here with one line naming the file
 * and the field, not later as a wrong read (a split path outside the cache
 * directory, ids wider than the dtype, a document past the end of its split).
 */
import { basename } from 'node:path';
import { InkwellError } from '../utils/errors.js';
import { BYTES_PER_TOKEN, type TokenDtype } from './token-source.js';

export type SplitName = 'train' | 'val';

/** One input file of the corpus a cache was built from. */
export interface CorpusFileRecord {
  source: string;
  /** Set when the source is a plain file: what a changed corpus is checked against. */
  path?: string;
  bytes: number;
  sha256: string;
}

export interface CorpusRecord {
  /** Whether the text was cleaned (NFC, LF, Project Gutenberg boilerplate removed). */
  clean: boolean;
  bytes: number;
  /** sha256 over the files' sha256 digests in order. */
  sha256: string;
  files: CorpusFileRecord[];
}

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
  /** The corpus the ids came from (absent in caches written before it was recorded). */
  corpus?: CorpusRecord;
}

type Json = Record<string, unknown>;

/** The parsed meta.json `raw` of `path` as a TokenCacheMeta, or an InkwellError naming the bad field. */
export function validateMeta(raw: unknown, path: string): TokenCacheMeta {
  const bad = (field: string, what: string): never => {
    throw new InkwellError(`${path}: ${field} ${what}`, 'rebuild the cache with `inkwell data prepare` (or --rebuild-cache)');
  };
  const obj = (v: unknown, field: string): Json => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : bad(field, 'must be an object'));
  const int = (v: unknown, field: string, min = 0): number => (Number.isSafeInteger(v) && (v as number) >= min ? (v as number) : bad(field, `must be an integer ≥ ${min}`));
  const str = (v: unknown, field: string): string => (typeof v === 'string' ? v : bad(field, 'must be a string'));
  const m = obj(raw, 'the file');
  if (m['version'] !== 1) bad('version', 'must be 1 (not an inkwell token cache sidecar?)');
  const tokenizerHash = str(m['tokenizerHash'], 'tokenizerHash');
  const vocabSize = int(m['vocabSize'], 'vocabSize', 1);
  const dtype = m['dtype'];
  if (typeof dtype !== 'string' || !Object.hasOwn(BYTES_PER_TOKEN, dtype)) bad('dtype', 'must be "uint16" or "uint32"');
  if (dtype === 'uint16' && vocabSize > 65536) bad('vocabSize', `${vocabSize} does not fit dtype uint16`);
  const separator = m['separator'] === null ? null : int(m['separator'], 'separator');
  if (separator !== null && separator >= vocabSize) bad('separator', `${separator} is outside the vocabulary (size ${vocabSize})`);
  const valFraction = m['valFraction'];
  if (typeof valFraction !== 'number' || !(valFraction >= 0 && valFraction < 1)) bad('valFraction', 'must be a number in [0, 1)');
  const seed = int(m['seed'], 'seed');
  const splitsRaw = obj(m['splits'], 'splits');
  const splits = {} as TokenCacheMeta['splits'];
  for (const name of ['train', 'val'] as const) {
    const s = obj(splitsRaw[name], `splits.${name}`);
    const file = str(s['file'], `splits.${name}.file`);
    // The split must be a file of this directory: "../../other/train.bin" would read (and trust) another cache.
    if (file !== basename(file) || file === '.' || file === '..' || file === '' || file.includes('\\') || file === 'meta.json') {
      bad(`splits.${name}.file`, `"${file}" must be a file name inside the cache directory`);
    }
    splits[name] = { file, tokens: int(s['tokens'], `splits.${name}.tokens`) };
  }
  if (splits.train.file === splits.val.file) bad('splits', 'train and val must be different files');
  if (!Array.isArray(m['documents'])) bad('documents', 'must be an array');
  const documents = (m['documents'] as unknown[]).map((d, i) => {
    const e = obj(d, `documents[${i}]`);
    const split = e['split'];
    if (split !== 'train' && split !== 'val') bad(`documents[${i}].split`, 'must be "train" or "val"');
    const offset = int(e['offset'], `documents[${i}].offset`);
    const tokens = int(e['tokens'], `documents[${i}].tokens`);
    if (offset + tokens > splits[split as SplitName].tokens) bad(`documents[${i}]`, `ends past the ${split as string} split`);
    return { name: str(e['name'], `documents[${i}].name`), source: str(e['source'], `documents[${i}].source`), split: split as SplitName, offset, tokens };
  });
  const meta: TokenCacheMeta = { version: 1, tokenizerHash, vocabSize, dtype: dtype as TokenDtype, separator, valFraction: valFraction as number, seed, splits, documents };
  if (m['corpus'] !== undefined) {
    const c = obj(m['corpus'], 'corpus');
    if (typeof c['clean'] !== 'boolean') bad('corpus.clean', 'must be true or false');
    if (!Array.isArray(c['files'])) bad('corpus.files', 'must be an array');
    const files = (c['files'] as unknown[]).map((f, i) => {
      const e = obj(f, `corpus.files[${i}]`);
      const record: CorpusFileRecord = { source: str(e['source'], `corpus.files[${i}].source`), bytes: int(e['bytes'], `corpus.files[${i}].bytes`), sha256: str(e['sha256'], `corpus.files[${i}].sha256`) };
      if (e['path'] !== undefined) record.path = str(e['path'], `corpus.files[${i}].path`);
      return record;
    });
    meta.corpus = { clean: c['clean'] as boolean, bytes: int(c['bytes'], 'corpus.bytes'), sha256: str(c['sha256'], 'corpus.sha256'), files };
  }
  return meta;
}
