import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';

export type TokenizerKind = 'char' | 'word' | 'bpe';

/** Ids of the roles special tokens play; a token may fill several (GPT-2's <|endoftext|> is bos, eos and pad). */
export interface SpecialTokenIds {
  bos?: number;
  eos?: number;
  pad?: number;
  unk?: number;
}

/** A Hugging Face `tokenizer.json` document (only the fields inkwell reads are typed). */
export interface TokenizerJson {
  version: string;
  added_tokens: AddedTokenJson[];
  normalizer: unknown;
  pre_tokenizer: unknown;
  post_processor: unknown;
  decoder: unknown;
  model: { type: string; vocab: Record<string, number>; [key: string]: unknown };
  [key: string]: unknown;
}

export interface AddedTokenJson {
  id: number;
  content: string;
  single_word: boolean;
  lstrip: boolean;
  rstrip: boolean;
  normalized: boolean;
  special: boolean;
}

/**
 * What every inkwell tokenizer offers. Ids are plain numbers; a dataset stores
 * them as uint16/uint32. `hash()` identifies the exact vocabulary and rules, so
 * token caches built with another tokenizer are detected as stale.
 */
export interface Tokenizer {
  readonly kind: TokenizerKind;
  /** Number of ids; every id is in [0, vocabSize). */
  readonly vocabSize: number;
  readonly special: Readonly<SpecialTokenIds>;
  /** Special token strings and their ids; they are matched verbatim in input text. */
  readonly specialTokens: ReadonlyMap<string, number>;
  encode(text: string): number[];
  decode(ids: ArrayLike<number>): string;
  tokenToId(token: string): number | undefined;
  idToToken(id: number): string | undefined;
  /** The Hugging Face tokenizer.json document. */
  toJSON(): TokenizerJson;
  /** The Hugging Face tokenizer_config.json that accompanies it (special tokens, class). */
  config(): Record<string, unknown>;
  /** sha256 (hex) of the canonical tokenizer.json. */
  hash(): string;
}

export function addedToken(id: number, content: string): AddedTokenJson {
  return { id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true };
}

export function hashJson(json: TokenizerJson): string {
  // A pure-JS SHA-256 (same digest as node:crypto's) so tokenizers also run in a browser.
  return bytesToHex(sha256(utf8ToBytes(JSON.stringify(json))));
}

/**
 * Splits `text` around special tokens (longest match first), the way Hugging
 * Face treats added tokens: `onText` gets the plain stretches, `onSpecial` the
 * id of each special token, in order.
 */
export function forEachSegment(
  text: string,
  specials: ReadonlyMap<string, number>,
  pattern: RegExp | undefined,
  onText: (segment: string) => void,
  onSpecial: (id: number) => void,
): void {
  if (!pattern) {
    if (text.length > 0) onText(text);
    return;
  }
  let last = 0;
  pattern.lastIndex = 0;
  for (let m = pattern.exec(text); m; m = pattern.exec(text)) {
    if (m.index > last) onText(text.slice(last, m.index));
    onSpecial(specials.get(m[0])!);
    last = m.index + m[0].length;
  }
  if (last < text.length) onText(text.slice(last));
}

/** Global regex matching any of `tokens`, longest first; undefined when there are none. */
export function specialTokenPattern(tokens: Iterable<string>): RegExp | undefined {
  const list = [...tokens].sort((a, b) => b.length - a.length);
  if (list.length === 0) return undefined;
  return new RegExp(list.map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g');
}

/** Guesses roles from conventional names: <|endoftext|>, <s>/</s>, <bos>/<eos>, <pad>, <unk>. */
export function inferSpecialRoles(tokens: ReadonlyMap<string, number>): SpecialTokenIds {
  const pick = (...names: string[]) => names.map((n) => tokens.get(n)).find((id) => id !== undefined);
  const ids: SpecialTokenIds = {};
  const bos = pick('<bos>', '<s>', '<|bos|>', '<|endoftext|>');
  const eos = pick('<eos>', '</s>', '<|eos|>', '<|endoftext|>');
  const pad = pick('<pad>', '<|pad|>', '<|endoftext|>');
  const unk = pick('<unk>', '<|unk|>');
  if (bos !== undefined) ids.bos = bos;
  if (eos !== undefined) ids.eos = eos;
  if (pad !== undefined) ids.pad = pad;
  if (unk !== undefined) ids.unk = unk;
  return ids;
}

/** tokenizer_config.json naming each special role by its string. */
export function specialTokensConfig(tok: Tokenizer): Record<string, string> {
  const out: Record<string, string> = {};
  for (const role of ['bos', 'eos', 'pad', 'unk'] as const) {
    const id = tok.special[role];
    if (id !== undefined) out[`${role}_token`] = tok.idToToken(id)!;
  }
  return out;
}
