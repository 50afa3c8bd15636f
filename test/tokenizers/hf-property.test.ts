/**
 * Property test: for every kind of tokenizer inkwell trains, Hugging Face's
 * own JavaScript tokenizers library, given the saved tokenizer.json and
 * tokenizer_config.json, produces inkwell's ids on random Unicode text —
 * accents (composed and combining), emoji with ZWJ and variation selectors,
 * CJK, CRLF, tabs, exotic whitespace, contractions and special tokens.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { trainByteLevelBpe } from '../../src/tokenizers/bpe-trainer.js';
import { trainWordLevel } from '../../src/tokenizers/word-level.js';
import type { Tokenizer } from '../../src/tokenizers/tokenizer.js';
import { SAMPLE_BOOKS } from '../helpers/books.js';

const RUNS = 400;

const TRAINING = [
  ...Object.values(SAMPLE_BOOKS),
  "Zoë's book, naïve café\r\nthe crème brûlée\tcost £3. 東京は晴れ。 He didn't — she won't 👍🏽 ❤️ 👨‍👩‍👧 I'm",
];

const PIECES = [
  'Zoë', "Zoë's book", 'e\u0301', 'é', 'naïve', "didn't", "can't", "'s", "'ll", 'n\'t', "'", '--', '—', '...', 'Mr.', '3.5', '£',
  '👨‍👩‍👧', '❤️', '👍🏽', '\u200d', '東京', '中文字', '。', 'ｆｕｌｌ', '\r\n', '\r', '\n', '\t', ' ', '  ', '\u00a0', '\u2028', '\u0085', '\ufeff', '\u3000',
  '<eos>', '<unk>', '<pad>', '<|endoftext|>', 'THE', 'The', 'the', 'Emma', 'İstanbul', 'ß', 'ǅ',
];

const piece = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...PIECES) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 6 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 4 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme-ascii', maxLength: 8 }) },
);
const text = fc.array(piece, { maxLength: 12 }).map((parts) => parts.join(''));

function hfTwin(tok: Tokenizer): HfTokenizer {
  // Through JSON text, exactly as the files on disk would be read.
  return new HfTokenizer(JSON.parse(JSON.stringify(tok.toJSON())), JSON.parse(JSON.stringify(tok.config())));
}

const KINDS: Array<[string, () => Tokenizer]> = [
  ['char', () => trainWordLevel(TRAINING, 'char')],
  ['char without specials but <unk>', () => trainWordLevel(TRAINING, 'char', { specialTokens: [] })],
  ['word', () => trainWordLevel(TRAINING, 'word', { minFrequency: 1 })],
  ['word, lowercase', () => trainWordLevel(TRAINING, 'word', { minFrequency: 1, lowercase: true })],
  ['byte-level bpe', () => trainByteLevelBpe(TRAINING, { vocabSize: 400, minFrequency: 1 })],
];

for (const [name, make] of KINDS) {
  test(`@huggingface/tokenizers gives inkwell's ids on random Unicode: ${name} (${RUNS} cases)`, () => {
    const tok = make();
    const hf = hfTwin(tok);
    let cases = 0;
    let unknowns = 0;
    fc.assert(fc.property(text, (t) => {
      cases++;
      const ours = tok.encode(t);
      assert.deepEqual(hf.encode(t, { add_special_tokens: false }).ids, ours, JSON.stringify(t));
      if (tok.special.unk !== undefined) unknowns += ours.filter((id) => id === tok.special.unk).length;
    }), { numRuns: RUNS, seed: 16 });
    assert.equal(cases, RUNS);
    if (tok.kind !== 'bpe') assert.ok(unknowns > 0, 'the cases reached characters outside the vocabulary');
  });
}

test('the char tokenizer round-trips any text made of its characters, \\r and \\t included, in inkwell and in Hugging Face', () => {
  const tok = trainWordLevel(TRAINING, 'char', { specialTokens: [] });
  const hf = hfTwin(tok);
  const alphabet = [...new Set(TRAINING.join(''))];
  assert.ok(alphabet.includes('\r') && alphabet.includes('\t'));
  fc.assert(fc.property(fc.array(fc.constantFrom(...alphabet), { maxLength: 40 }).map((cs) => cs.join('')), (t) => {
    const ids = tok.encode(t);
    assert.ok(!ids.includes(tok.special.unk!));
    assert.equal(tok.decode(ids), t);
    if (ids.length > 0) assert.equal(hf.decode(ids), t);
  }), { numRuns: RUNS, seed: 16 });
});

test('word split: "Zoë\'s book" is three units on both sides, and wink-style contractions hold', () => {
  const tok = trainWordLevel(["Zoë's book. I didn't go, and she'll stay -- east"], 'word', { minFrequency: 1 });
  const hf = hfTwin(tok);
  const pieces = (t: string) => tok.encode(t).map((id) => tok.idToToken(id));
  assert.deepEqual(pieces("Zoë's book"), ['Zoë', "'s", 'book']);
  assert.deepEqual(hf.encode("Zoë's book").tokens, ['Zoë', "'s", 'book']);
  assert.deepEqual(pieces("I didn't go, and she'll stay -- east"), ['I', 'did', "n't", 'go', ',', 'and', 'she', "'ll", 'stay', '--', 'east']);
  assert.deepEqual(pieces('Zoë wrote 👍'), ['Zoë', '<unk>', '<unk>']);
});
