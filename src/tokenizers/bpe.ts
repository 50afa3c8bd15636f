import { InkwellError } from '../utils/errors.js';
import { BYTE_TO_CHAR, CHAR_TO_BYTE, GPT2_PATTERN } from './byte-level.js';
import {
  addedToken, forEachSegment, hashJson, inferSpecialRoles, specialTokenPattern, specialTokensConfig,
  type SpecialTokenIds, type Tokenizer, type TokenizerJson,
} from './tokenizer.js';

/** Pair (left, right) as one number key; ids stay below 2^21. */
const PAIR_BASE = 2097152;
export const pairKey = (left: number, right: number): number => left * PAIR_BASE + right;
export const MAX_VOCAB = PAIR_BASE;

/** Pre-token → ids memo; Gutenberg-sized corpora have ~10^5 distinct words, so it rarely fills. */
const CACHE_LIMIT = 500_000;
const utf8Encoder = new TextEncoder();
/** Invalid UTF-8 (a sequence cut between tokens) decodes to U+FFFD, as Buffer#toString did. */
const utf8Decoder = new TextDecoder();

export interface ByteLevelBpeParts {
  /** Token string → id, byte-level spelling (space is "Ġ"). Includes the special tokens. */
  vocab: ReadonlyMap<string, number>;
  /** Merge rules in priority order, each a pair of token strings. */
  merges: ReadonlyArray<readonly [string, string]>;
  /** Special (added) tokens: matched verbatim in text, never split. */
  specialTokens: ReadonlyMap<string, number>;
  /** Hugging Face's add_prefix_space: prepend a space when a text does not start with one (default false, as GPT-2). */
  addPrefixSpace?: boolean;
}

/**
 * GPT-2-style byte-level BPE: text is cut with GPT-2's pattern, each piece is
 * turned into byte ids and merged by rank (lowest rank first, all its
 * occurrences left to right), which is what Hugging Face's BPE model does, so
 * ids are identical. Decoding concatenates each id's bytes and reads UTF-8.
 */
export class ByteLevelBpeTokenizer implements Tokenizer {
  readonly kind = 'bpe' as const;
  readonly vocabSize: number;
  readonly special: Readonly<SpecialTokenIds>;
  readonly specialTokens: ReadonlyMap<string, number>;
  readonly merges: ReadonlyArray<readonly [string, string]>;
  private readonly vocab: ReadonlyMap<string, number>;
  private readonly idToTok: string[];
  private readonly idBytes: Uint8Array[];
  private readonly byteIds = new Int32Array(256);
  private readonly mergeRank = new Map<number, number>();
  private readonly mergeResult: Int32Array;
  private readonly specialPattern: RegExp | undefined;
  private readonly addPrefixSpace: boolean;
  private readonly cache = new Map<string, number[]>();
  private readonly scratch = new Uint8Array(4096);
  private hashValue: string | undefined;

  constructor(parts: ByteLevelBpeParts) {
    this.vocab = parts.vocab;
    this.merges = parts.merges;
    this.specialTokens = parts.specialTokens;
    this.addPrefixSpace = parts.addPrefixSpace ?? false;
    let maxId = -1;
    for (const id of parts.vocab.values()) maxId = Math.max(maxId, id);
    for (const id of parts.specialTokens.values()) maxId = Math.max(maxId, id);
    if (maxId >= MAX_VOCAB) throw new InkwellError(`vocabulary too large (${maxId + 1} ids, at most ${MAX_VOCAB})`);
    this.vocabSize = maxId + 1;
    this.idToTok = new Array<string>(this.vocabSize);
    this.idBytes = new Array<Uint8Array>(this.vocabSize);
    for (const [tok, id] of parts.vocab) {
      this.idToTok[id] = tok;
      this.idBytes[id] = byteLevelToBytes(tok);
    }
    for (const [tok, id] of parts.specialTokens) {
      this.idToTok[id] = tok;
      this.idBytes[id] = utf8Encoder.encode(tok);
    }
    for (let b = 0; b < 256; b++) {
      const id = parts.vocab.get(BYTE_TO_CHAR[b]!);
      if (id === undefined) throw new InkwellError(`byte-level vocabulary lacks the token for byte ${b} ("${BYTE_TO_CHAR[b]}")`);
      this.byteIds[b] = id;
    }
    this.mergeResult = new Int32Array(parts.merges.length);
    parts.merges.forEach(([a, b], rank) => {
      const left = parts.vocab.get(a);
      const right = parts.vocab.get(b);
      const merged = parts.vocab.get(a + b);
      if (left === undefined || right === undefined || merged === undefined) {
        throw new InkwellError(`merge ${rank} ("${a} ${b}") uses a token missing from the vocabulary`);
      }
      const key = pairKey(left, right);
      if (!this.mergeRank.has(key)) this.mergeRank.set(key, rank);
      this.mergeResult[rank] = merged;
    });
    this.special = inferSpecialRoles(parts.specialTokens);
    this.specialPattern = specialTokenPattern(parts.specialTokens.keys());
  }

  encode(text: string): number[] {
    const out: number[] = [];
    forEachSegment(text, this.specialTokens, this.specialPattern, (segment) => {
      const s = this.addPrefixSpace && !segment.startsWith(' ') ? ' ' + segment : segment;
      const pattern = new RegExp(GPT2_PATTERN);
      for (let m = pattern.exec(s); m; m = pattern.exec(s)) {
        const ids = this.encodePiece(m[0]);
        for (let i = 0; i < ids.length; i++) out.push(ids[i]!);
      }
    }, (id) => out.push(id));
    return out;
  }

  decode(ids: ArrayLike<number>): string {
    let total = 0;
    for (let i = 0; i < ids.length; i++) total += this.bytesOf(ids[i]!).length;
    const buf = new Uint8Array(total);
    let at = 0;
    for (let i = 0; i < ids.length; i++) {
      const bytes = this.bytesOf(ids[i]!);
      buf.set(bytes, at);
      at += bytes.length;
    }
    return utf8Decoder.decode(buf);
  }

  tokenToId(token: string): number | undefined {
    return this.specialTokens.get(token) ?? this.vocab.get(token);
  }

  idToToken(id: number): string | undefined {
    return this.idToTok[id];
  }

  toJSON(): TokenizerJson {
    const vocab: Record<string, number> = {};
    for (const [tok, id] of this.vocab) vocab[tok] = id;
    const byteLevel = { type: 'ByteLevel', add_prefix_space: this.addPrefixSpace, trim_offsets: true, use_regex: true };
    return {
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: [...this.specialTokens].sort((a, b) => a[1] - b[1]).map(([content, id]) => addedToken(id, content)),
      normalizer: null,
      pre_tokenizer: byteLevel,
      post_processor: { ...byteLevel, trim_offsets: false },
      decoder: byteLevel,
      model: {
        type: 'BPE',
        dropout: null,
        unk_token: null,
        continuing_subword_prefix: null,
        end_of_word_suffix: null,
        fuse_unk: false,
        byte_fallback: false,
        ignore_merges: false,
        vocab,
        merges: this.merges.map(([a, b]) => `${a} ${b}`),
      },
    };
  }

  config(): Record<string, unknown> {
    return {
      tokenizer_class: 'GPT2Tokenizer',
      add_prefix_space: this.addPrefixSpace,
      clean_up_tokenization_spaces: false,
      model_max_length: 1024,
      ...specialTokensConfig(this),
    };
  }

  hash(): string {
    this.hashValue ??= hashJson(this.toJSON());
    return this.hashValue;
  }

  private bytesOf(id: number): Uint8Array {
    const bytes = this.idBytes[id];
    if (bytes === undefined) throw new InkwellError(`token id ${id} is not in the vocabulary (size ${this.vocabSize})`);
    return bytes;
  }

  /** Ids of one pre-token, memoised. */
  private encodePiece(piece: string): number[] {
    const hit = this.cache.get(piece);
    if (hit) return hit;
    const ids = this.bpe(this.utf8(piece));
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    this.cache.set(piece, ids);
    return ids;
  }

  private utf8(piece: string): Uint8Array {
    if (piece.length * 3 <= this.scratch.length) {
      const { written } = utf8Encoder.encodeInto(piece, this.scratch);
      return this.scratch.subarray(0, written);
    }
    return utf8Encoder.encode(piece);
  }

  private bpe(bytes: Uint8Array): number[] {
    const syms: number[] = new Array<number>(bytes.length);
    for (let i = 0; i < bytes.length; i++) syms[i] = this.byteIds[bytes[i]!]!;
    let len = syms.length;
    while (len > 1) {
      let bestRank = Infinity;
      let bestAt = -1;
      for (let i = 0; i < len - 1; i++) {
        const r = this.mergeRank.get(pairKey(syms[i]!, syms[i + 1]!));
        if (r !== undefined && r < bestRank) { bestRank = r; bestAt = i; }
      }
      if (bestAt < 0) break;
      const left = syms[bestAt]!;
      const right = syms[bestAt + 1]!;
      const merged = this.mergeResult[bestRank]!;
      let w = bestAt;
      for (let r = bestAt; r < len; ) {
        if (r + 1 < len && syms[r] === left && syms[r + 1] === right) { syms[w++] = merged; r += 2; } else syms[w++] = syms[r++]!;
      }
      len = w;
    }
    syms.length = len;
    return syms;
  }
}

/** Bytes spelled by a byte-level token (its characters mapped back through GPT-2's table). */
function byteLevelToBytes(token: string): Uint8Array {
  const out = new Uint8Array(token.length);
  for (let i = 0; i < token.length; i++) {
    const b = CHAR_TO_BYTE.get(token[i]!);
    // A non-byte-level vocabulary entry (e.g. an added word) decodes as its UTF-8 text.
    if (b === undefined) return utf8Encoder.encode(token);
    out[i] = b;
  }
  return out;
}
