import { InkwellError } from '../utils/errors.js';
import { splitWords } from './words.js';
import {
  addedToken, forEachSegment, hashJson, inferSpecialRoles, specialTokenPattern, specialTokensConfig,
  type SpecialTokenIds, type Tokenizer, type TokenizerJson,
} from './tokenizer.js';

/** Default special tokens of char and word tokenizers, ids 0–3 in this order. */
export const DEFAULT_WORD_SPECIALS: readonly string[] = ['<pad>', '<unk>', '<bos>', '<eos>'];

/**
 * Hugging Face's pre-tokenization for word mode, after whitespace splitting:
 * words, spaCy-style contraction pieces ("did" + "n't", "'s", "'ll"), dash
 * runs and single punctuation marks. It approximates wink-nlp's tokeniser,
 * which inkwell itself uses, so other runtimes get the same ids for ordinary
 * prose; exotic inputs (e.g. "Mr." abbreviations) may split differently there.
 */
const HF_WORD_PATTERN = "\\w+(?=n't\\b)|n't\\b|'(?:s|re|ve|m|ll|d)\\b|\\w+|-{2,}|[^\\w\\s]";

export type WordLevelMode = 'char' | 'word';

export interface WordLevelParts {
  mode: WordLevelMode;
  /** Token → id, special tokens included. */
  vocab: ReadonlyMap<string, number>;
  specialTokens: ReadonlyMap<string, number>;
  /** Word mode: lowercase text before lookup. */
  lowercase?: boolean;
}

/**
 * Character- or word-level tokenizer: a plain vocabulary lookup (Hugging
 * Face's WordLevel model). Character mode splits text into Unicode code
 * points and decodes by concatenation (lossless for in-vocabulary text); word
 * mode uses the NLP word tokenisation and decodes by joining with spaces.
 * Unknown units map to <unk>.
 */
export class WordLevelTokenizer implements Tokenizer {
  readonly kind: WordLevelMode;
  readonly vocabSize: number;
  readonly special: Readonly<SpecialTokenIds>;
  readonly specialTokens: ReadonlyMap<string, number>;
  readonly lowercase: boolean;
  private readonly vocab: ReadonlyMap<string, number>;
  private readonly idToTok: string[];
  private readonly specialPattern: RegExp | undefined;
  private hashValue: string | undefined;

  constructor(parts: WordLevelParts) {
    this.kind = parts.mode;
    this.vocab = parts.vocab;
    this.specialTokens = parts.specialTokens;
    this.lowercase = parts.lowercase ?? false;
    this.idToTok = [];
    for (const [tok, id] of parts.vocab) this.idToTok[id] = tok;
    this.vocabSize = this.idToTok.length;
    for (let id = 0; id < this.vocabSize; id++) {
      if (this.idToTok[id] === undefined) throw new InkwellError(`vocabulary has no token with id ${id}; ids must be 0..${this.vocabSize - 1}`);
    }
    this.special = inferSpecialRoles(parts.specialTokens);
    this.specialPattern = specialTokenPattern(parts.specialTokens.keys());
  }

  encode(text: string): number[] {
    const out: number[] = [];
    forEachSegment(text, this.specialTokens, this.specialPattern, (segment) => {
      const units = this.kind === 'char' ? segment : splitWords(this.lowercase ? segment.toLowerCase() : segment);
      for (const unit of units) out.push(this.lookup(unit));
    }, (id) => out.push(id));
    return out;
  }

  decode(ids: ArrayLike<number>): string {
    const parts: string[] = new Array<string>(ids.length);
    for (let i = 0; i < ids.length; i++) {
      const tok = this.idToTok[ids[i]!];
      if (tok === undefined) throw new InkwellError(`token id ${ids[i]} is not in the vocabulary (size ${this.vocabSize})`);
      parts[i] = tok;
    }
    return parts.join(this.kind === 'char' ? '' : ' ');
  }

  tokenToId(token: string): number | undefined {
    return this.vocab.get(token);
  }

  idToToken(id: number): string | undefined {
    return this.idToTok[id];
  }

  toJSON(): TokenizerJson {
    const vocab: Record<string, number> = {};
    this.idToTok.forEach((tok, id) => { vocab[tok] = id; });
    const unk = this.special.unk;
    const isChar = this.kind === 'char';
    return {
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: [...this.specialTokens].sort((a, b) => a[1] - b[1]).map(([content, id]) => addedToken(id, content)),
      normalizer: !isChar && this.lowercase ? { type: 'Lowercase' } : null,
      pre_tokenizer: isChar
        ? { type: 'Split', pattern: { Regex: '[\\s\\S]' }, behavior: 'Isolated', invert: false }
        : {
          type: 'Sequence',
          pretokenizers: [
            { type: 'WhitespaceSplit' },
            { type: 'Split', pattern: { Regex: HF_WORD_PATTERN }, behavior: 'Isolated', invert: false },
          ],
        },
      post_processor: null,
      decoder: isChar ? { type: 'Fuse' } : null,
      model: { type: 'WordLevel', vocab, unk_token: unk === undefined ? '<unk>' : this.idToTok[unk]! },
    };
  }

  config(): Record<string, unknown> {
    return { tokenizer_class: 'PreTrainedTokenizerFast', clean_up_tokenization_spaces: false, ...specialTokensConfig(this) };
  }

  hash(): string {
    this.hashValue ??= hashJson(this.toJSON());
    return this.hashValue;
  }

  private lookup(unit: string): number {
    const id = this.vocab.get(unit) ?? this.special.unk;
    if (id === undefined) throw new InkwellError(`"${unit}" is not in the vocabulary and the tokenizer has no <unk> token`);
    return id;
  }
}

export interface WordLevelTrainOptions {
  /** Maximum vocabulary size including special tokens (default: no limit). */
  vocabSize?: number;
  /** Drop units seen fewer times than this (default 1 for chars, 2 for words). */
  minFrequency?: number;
  /** Special tokens given the first ids (default <pad> <unk> <bos> <eos>). */
  specialTokens?: readonly string[];
  /** Word mode: lowercase before counting and encoding (default false). */
  lowercase?: boolean;
}

/**
 * Builds a char or word vocabulary: special tokens first, then units by
 * descending frequency (ties in code-point order), capped at vocabSize.
 * Character vocabularies are then sorted by code point, as char-RNN
 * tutorials do (`sorted(set(text))`).
 */
export function trainWordLevel(texts: Iterable<string>, mode: WordLevelMode, options: WordLevelTrainOptions = {}): WordLevelTokenizer {
  const specials = options.specialTokens ?? DEFAULT_WORD_SPECIALS;
  const lowercase = mode === 'word' && (options.lowercase ?? false);
  const counts = new Map<string, number>();
  for (const text of texts) {
    const units = mode === 'char' ? text : splitWords(lowercase ? text.toLowerCase() : text);
    for (const u of units) counts.set(u, (counts.get(u) ?? 0) + 1);
  }
  const minFrequency = options.minFrequency ?? (mode === 'char' ? 1 : 2);
  const room = (options.vocabSize ?? Infinity) - specials.length;
  if (room < 1) throw new InkwellError(`--vocab-size must exceed the ${specials.length} special tokens`);
  const byCode = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  let units = [...counts]
    .filter(([u, c]) => c >= minFrequency && !specials.includes(u))
    .sort((a, b) => b[1] - a[1] || byCode(a[0], b[0]))
    .slice(0, room)
    .map(([u]) => u);
  if (mode === 'char') units = units.sort(byCode);
  if (units.length === 0) throw new InkwellError('the corpus yields an empty vocabulary', 'lower --min-frequency or use a larger corpus');
  const vocab = new Map<string, number>();
  specials.forEach((s, i) => vocab.set(s, i));
  for (const u of units) vocab.set(u, vocab.size);
  const specialTokens = new Map(specials.map((s, i) => [s, i] as [string, number]));
  return new WordLevelTokenizer({ mode, vocab, specialTokens, lowercase });
}
