import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { InkwellError, errorMessage } from '../utils/errors.js';
import { writeJsonAtomic } from '../utils/fs.js';
import { ByteLevelBpeTokenizer } from './bpe.js';
import { fromTokenizerJson, parseMerge } from './from-json.js';
import type { Tokenizer, TokenizerJson } from './tokenizer.js';

export { fromTokenizerJson };

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
