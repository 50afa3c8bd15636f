import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { InkwellError, errorMessage } from '../utils/errors.js';
import { writeJsonAtomic } from '../utils/fs.js';
import { ByteLevelBpeTokenizer } from './bpe.js';
import { WordLevelTokenizer } from './word-level.js';
import type { Tokenizer, TokenizerJson } from './tokenizer.js';

/**
 * Loads a tokenizer from a Hugging Face `tokenizer.json`, from GPT-2's
 * original `vocab.json` + `merges.txt` pair, or from a directory holding
 * either (tokenizer.json preferred). Every problem is an InkwellError naming
 * the file.
 */
export function loadTokenizer(path: string): Tokenizer {
  if (!existsSync(path)) throw new InkwellError(`tokenizer ${path} does not exist`, 'pass a tokenizer.json file or a directory containing one');
  if (statSync(path).isDirectory()) {
    if (existsSync(join(path, 'tokenizer.json'))) return loadTokenizerJson(join(path, 'tokenizer.json'));
    if (existsSync(join(path, 'vocab.json')) && existsSync(join(path, 'merges.txt'))) {
      return loadVocabMerges(join(path, 'vocab.json'), join(path, 'merges.txt'));
    }
    throw new InkwellError(`${path} has neither tokenizer.json nor vocab.json + merges.txt`);
  }
  if (basename(path) === 'vocab.json') return loadVocabMerges(path, join(dirname(path), 'merges.txt'));
  return loadTokenizerJson(path);
}

/** Writes tokenizer.json and tokenizer_config.json into `dir` (atomically); returns the tokenizer.json path. */
export function saveTokenizer(tok: Tokenizer, dir: string): string {
  const path = join(dir, 'tokenizer.json');
  writeJsonAtomic(path, tok.toJSON());
  writeJsonAtomic(join(dir, 'tokenizer_config.json'), tok.config());
  return path;
}

function readJson(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new InkwellError(`cannot read ${path}: ${errorMessage(err)}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new InkwellError(`${path} is not valid JSON (truncated or corrupt?): ${errorMessage(err)}`);
  }
}

function loadTokenizerJson(path: string): Tokenizer {
  const json = readJson(path) as Partial<TokenizerJson> | null;
  try {
    return fromTokenizerJson(json);
  } catch (err) {
    if (err instanceof InkwellError) throw new InkwellError(`${path}: ${err.message}`, err.hint);
    throw err;
  }
}

/** Builds a tokenizer from a parsed tokenizer.json document. */
export function fromTokenizerJson(json: Partial<TokenizerJson> | null): Tokenizer {
  if (!json || typeof json !== 'object' || !json.model || typeof json.model.vocab !== 'object' || json.model.vocab === null) {
    throw new InkwellError('not a Hugging Face tokenizer.json (no model.vocab)');
  }
  const vocab = new Map(Object.entries(json.model.vocab));
  for (const [tok, id] of vocab) {
    if (!Number.isInteger(id) || id < 0) throw new InkwellError(`vocabulary entry "${tok}" has invalid id ${String(id)}`);
  }
  const specialTokens = new Map<string, number>();
  for (const t of json.added_tokens ?? []) {
    if (typeof t?.content !== 'string' || !Number.isInteger(t.id)) throw new InkwellError('malformed entry in added_tokens');
    specialTokens.set(t.content, t.id);
  }
  const type = json.model.type;
  if (type === 'BPE') {
    const pre = json.pre_tokenizer as { type?: string; add_prefix_space?: boolean; pretokenizers?: Array<{ type?: string; add_prefix_space?: boolean }> } | null;
    const byteLevel = pre?.type === 'ByteLevel' ? pre : pre?.pretokenizers?.find((p) => p.type === 'ByteLevel');
    if (!byteLevel) throw new InkwellError('only byte-level BPE tokenizers (GPT-2 style, ByteLevel pre-tokenizer) are supported');
    const rawMerges = json.model['merges'];
    if (!Array.isArray(rawMerges)) throw new InkwellError('model.merges is missing');
    return new ByteLevelBpeTokenizer({
      vocab,
      merges: rawMerges.map(parseMerge),
      specialTokens,
      addPrefixSpace: byteLevel.add_prefix_space ?? false,
    });
  }
  if (type === 'WordLevel') {
    const decoder = json.decoder as { type?: string } | null;
    const normalizer = json.normalizer as { type?: string } | null;
    const mode = decoder?.type === 'Fuse' ? 'char' : 'word';
    // inkwell splits text itself; ids are only right when the file asks for the same split.
    if (!isDeepStrictEqual(json.pre_tokenizer, WordLevelTokenizer.preTokenizerJson(mode))) {
      throw new InkwellError(
        `its pre_tokenizer is not inkwell's ${mode} split: ${JSON.stringify(json.pre_tokenizer)}`,
        'retrain the tokenizer with this version of inkwell (`inkwell tokenizer train`)',
      );
    }
    if (normalizer != null && normalizer.type !== 'Lowercase') throw new InkwellError(`unsupported normalizer ${JSON.stringify(normalizer)} (inkwell's WordLevel tokenizers use none or Lowercase)`);
    const unk = json.model['unk_token'];
    if (unk !== null && unk !== undefined && typeof unk !== 'string') throw new InkwellError(`model.unk_token must be a string or null, not ${JSON.stringify(unk)}`);
    return new WordLevelTokenizer({
      mode,
      vocab,
      specialTokens,
      lowercase: normalizer?.type === 'Lowercase',
      ...(typeof unk === 'string' ? { unkToken: unk } : {}),
    });
  }
  throw new InkwellError(`unsupported tokenizer model type "${String(type)}" (inkwell reads BPE and WordLevel)`);
}

function parseMerge(m: unknown, rank: number): [string, string] {
  if (Array.isArray(m) && m.length === 2 && typeof m[0] === 'string' && typeof m[1] === 'string') return [m[0], m[1]];
  if (typeof m === 'string') {
    const space = m.indexOf(' ', 1);
    if (space > 0) return [m.slice(0, space), m.slice(space + 1)];
  }
  throw new InkwellError(`merge ${rank} is malformed: ${JSON.stringify(m)}`);
}

/** GPT-2's original files: vocab.json (token → id) and merges.txt ("#version" line, then "a b" per line). */
function loadVocabMerges(vocabPath: string, mergesPath: string): Tokenizer {
  const raw = readJson(vocabPath);
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new InkwellError(`${vocabPath} is not a token → id object`);
  if (!existsSync(mergesPath)) throw new InkwellError(`${mergesPath} is missing (needed next to ${vocabPath})`);
  const lines = readFileSync(mergesPath, 'utf8').split('\n').map((l) => l.replace(/\r$/, ''));
  const merges: [string, string][] = [];
  lines.forEach((line, i) => {
    if (line === '' || (i === 0 && line.startsWith('#version'))) return;
    try {
      merges.push(parseMerge(line, merges.length));
    } catch {
      throw new InkwellError(`${mergesPath} line ${i + 1} is not "left right": ${JSON.stringify(line)}`);
    }
  });
  const vocab = new Map(Object.entries(raw as Record<string, number>));
  const specialTokens = new Map<string, number>();
  const eot = vocab.get('<|endoftext|>');
  if (eot !== undefined) specialTokens.set('<|endoftext|>', eot);
  try {
    return new ByteLevelBpeTokenizer({ vocab, merges, specialTokens });
  } catch (err) {
    if (err instanceof InkwellError) throw new InkwellError(`${vocabPath}: ${err.message}`);
    throw err;
  }
}
