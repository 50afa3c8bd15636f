/** tokenizer.json (parsed) → tokenizer: no file access, so it runs in a browser too (files are read in io.ts). */
import { InkwellError } from '../utils/errors.js';
import { ByteLevelBpeTokenizer } from './bpe.js';
import { WordLevelTokenizer } from './word-level.js';
import type { Tokenizer, TokenizerJson } from './tokenizer.js';

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
  if (json.added_tokens != null && !Array.isArray(json.added_tokens)) throw new InkwellError('added_tokens must be a list');
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
    if (!sameJson(json.pre_tokenizer, WordLevelTokenizer.preTokenizerJson(mode))) {
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

/** Structural equality of two parsed JSON values, key order aside (node:util's isDeepStrictEqual is not in browsers). */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null || Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => Object.hasOwn(b, k) && sameJson((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

export function parseMerge(m: unknown, rank: number): [string, string] {
  if (Array.isArray(m) && m.length === 2 && typeof m[0] === 'string' && typeof m[1] === 'string') return [m[0], m[1]];
  if (typeof m === 'string') {
    const space = m.indexOf(' ', 1);
    if (space > 0) return [m.slice(0, space), m.slice(space + 1)];
  }
  throw new InkwellError(`merge ${rank} is malformed: ${JSON.stringify(m)}`);
}
