/**
 * The word-level tokenizer's split, written once as two regular expressions
 * that inkwell runs here and that the saved tokenizer.json hands to Hugging
 * Face's pre-tokenizers (a Sequence of two Splits), so both sides cut text the
 * same way. The patterns use only explicit Unicode property classes, which
 * mean the same in JavaScript's `u` regexes, in @huggingface/tokenizers
 * (which compiles them with the `u` flag) and in Oniguruma (the Rust
 * library's engine); `\w`, `\s` and `\b` are avoided because each engine
 * reads them differently (ASCII or Unicode, U+FEFF or U+0085 included or not).
 *
 * The split follows spaCy/wink-nlp's English conventions for ordinary prose:
 * letter-and-digit runs, contraction pieces ("did" + "n't", "Zoë" + "'s"),
 * dash runs ("--") and every other symbol on its own (emoji, ZWJ, CJK
 * punctuation one code point at a time).
 */

/** Step 1 (Split, behavior Removed): whitespace separates pieces and is dropped. */
export const WHITESPACE_PATTERN = '\\p{White_Space}+';

const WORD_CHAR = '[\\p{L}\\p{M}\\p{N}]';
const NOT_WORD_CHAR = `(?!${WORD_CHAR})`;

/** Step 2 (Split, behavior Isolated): the pieces of one whitespace-free chunk; it matches every code point of such a chunk. */
export const WORD_PATTERN = [
  `${WORD_CHAR}+(?=n't${NOT_WORD_CHAR})`,
  `n't${NOT_WORD_CHAR}`,
  `'(?:s|re|ve|m|ll|d)${NOT_WORD_CHAR}`,
  `${WORD_CHAR}+`,
  '-{2,}',
  '[^\\p{L}\\p{M}\\p{N}\\p{White_Space}]',
].join('|');

const whitespace = new RegExp(WHITESPACE_PATTERN, 'gu');
const word = new RegExp(WORD_PATTERN, 'gu');

/**
 * Word units of `text`, exactly as Hugging Face's Split pre-tokenizers
 * produce them: whitespace removed, then each chunk cut into the pattern's
 * matches and (Isolated behaviour) whatever lies between them.
 */
export function splitWords(text: string): string[] {
  const out: string[] = [];
  for (const chunk of text.split(whitespace)) {
    if (chunk === '') continue;
    let last = 0;
    for (const m of chunk.matchAll(word)) {
      if (m.index > last) out.push(chunk.slice(last, m.index));
      if (m[0].length > 0) out.push(m[0]);
      last = m.index + m[0].length;
    }
    if (last < chunk.length) out.push(chunk.slice(last));
  }
  return out;
}

/** The tokenizer.json pre_tokenizer that performs splitWords. */
export function wordPreTokenizerJson(): unknown {
  return {
    type: 'Sequence',
    pretokenizers: [
      { type: 'Split', pattern: { Regex: WHITESPACE_PATTERN }, behavior: 'Removed', invert: false },
      { type: 'Split', pattern: { Regex: WORD_PATTERN }, behavior: 'Isolated', invert: false },
    ],
  };
}
