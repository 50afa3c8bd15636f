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
    return new WordLevelTokenizer({
      mode: decoder?.type === 'Fuse' ? 'char' : 'word',
      vocab,
      specialTokens,
      lowercase: normalizer?.type === 'Lowercase',
    });
  }
  throw new InkwellError(`unsupported tokenizer model type "${String(type)}" (inkwell reads BPE and WordLevel)`);
}

export function parseMerge(m: unknown, rank: number): [string, string] {
  if (Array.isArray(m) && m.length === 2 && typeof m[0] === 'string' && typeof m[1] === 'string') return [m[0], m[1]];
  if (typeof m === 'string') {
    const space = m.indexOf(' ', 1);
    if (space > 0) return [m.slice(0, space), m.slice(space + 1)];
  }
  throw new InkwellError(`merge ${rank} is malformed: ${JSON.stringify(m)}`);
}
