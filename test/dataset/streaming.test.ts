/**
 * The streamed corpus path (corpus/documents.ts, clean-stream.ts,
 * dataset/encode-stream.ts) against the whole-text one: tiny chunk sizes
 * must give the same text, the same ids and the same cache as one chunk,
 * and the text handed to the tokenizer must stay bounded by the chunk size
 * however large the corpus (what let a 200 MB corpus crash V8 before).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { readCorpus } from '../../src/corpus/corpus.js';
import { listCorpus } from '../../src/corpus/documents.js';
import { prepareTokenCache } from '../../src/dataset/token-cache.js';
import { ChunkedEncoder } from '../../src/dataset/encode-stream.js';
import { trainByteLevelBpe } from '../../src/tokenizers/bpe-trainer.js';
import { trainWordLevel } from '../../src/tokenizers/word-level.js';
import type { Tokenizer } from '../../src/tokenizers/tokenizer.js';
import { gutenbergWrapped, SAMPLE_BOOKS, tempDir } from '../helpers/books.js';

const BODY = [
  '[Emma by Jane Austen 1816]',
  '',
  '',
  'CHAPTER I',
  '',
  'Emma Woodhouse, handsome, clever, and rich, with a comfortable home',
  'and happy disposition, seemed to unite some of the best blessings',
  'of existence; the café was closed — “naïve” 🐋 cafe\u0301 was e\u0301te\u0301.',
  '',
  'She was the youngest of the two daughters of a most affectionate,',
  "indulgent father; and had, in consequence of her sister's marriage,",
  'been mistress of his house from a very early period.   ',
  '',
].join('\n');

function fixtures(): { dir: string; files: string[] } {
  const dir = tempDir();
  const files: Record<string, string | Buffer> = {
    'wrapped.txt': gutenbergWrapped(BODY),
    'nltk.txt': SAMPLE_BOOKS['austen-mini']! + '\r\n\r\n' + BODY.repeat(3) + '\n\n\n',
    'latin1.txt': Buffer.from('Caf\xe9 cr\xe8me, na\xefve.\r\nSecond line of it.\r\n'.repeat(20), 'latin1'),
    'plain.txt': 'no markers here\n'.repeat(30) + '*** END OF THE PROJECT GUTENBERG EBOOK X ***\ntail to drop\n',
  };
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return { dir, files: Object.keys(files).sort().map((f) => join(dir, f)) };
}

test('streamed cleaning equals whole-text cleaning at every chunk size (CRLF, UTF-8 and NFC across chunk edges, PG markers)', () => {
  const { files } = fixtures();
  for (const file of files) {
    for (const clean of [true, false]) {
      const whole = readCorpus(file, { clean })[0]!.text;
      for (const chunkBytes of [16, 17, 31, 64, 100, 257, 4096]) {
        const [doc] = listCorpus(file, { clean, chunkBytes });
        const text = [...doc!.pieces()].join('');
        assert.equal(text, whole, `${file} clean=${clean} chunkBytes=${chunkBytes}`);
        assert.equal(doc!.chars, whole.length);
        assert.equal(doc!.lastInnerNewline, whole.length >= 2 ? whole.lastIndexOf('\n', whole.length - 2) : -1);
      }
    }
  }
});

const ALPHABET = ['a', 'b', 'é', 'Z', '7', ' ', ' ', '\n', '\t', "'", 's', 't', '.', '-', '<eos>', '🐋', '\u0301', '  ', '\n\n'];
const sample = 'aa bb a b ab ba. the cat\'s 77 b-a\n\n\tZé a\n'.repeat(20);
const TOKENIZERS: Array<[string, Tokenizer]> = [
  ['char', trainWordLevel([sample + '<eos>🐋\u0301'], 'char', { specialTokens: ['<eos>'] })],
  ['word', trainWordLevel([sample], 'word', { minFrequency: 1, specialTokens: ['<unk>', '<eos>'] })],
  ['bpe', trainByteLevelBpe([sample], { vocabSize: 300, minFrequency: 1, specialTokens: ['<eos>'] })],
];

test('chunked encoding gives the ids of one encode() of the whole text (fast-check, char/word/bpe)', () => {
  for (const [kind, tokenizer] of TOKENIZERS) {
    fc.assert(fc.property(fc.array(fc.constantFrom(...ALPHABET), { maxLength: 200 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 9 }), (parts, chunk, pieceLen) => {
      const text = parts.join('');
      const ids: number[] = [];
      const encoder = new ChunkedEncoder(tokenizer, (x) => ids.push(...x), chunk);
      for (let i = 0; i < text.length; i += pieceLen) encoder.push(text.slice(i, i + pieceLen));
      encoder.finish();
      assert.deepEqual(ids, tokenizer.encode(text), `${kind}: ${JSON.stringify(text)}`);
    }), { numRuns: 300, seed: 15 });
  }
});

test('a token cache built with tiny chunks equals one built from whole texts: bins, split and documents', () => {
  const { dir, files } = fixtures();
  for (const [kind, tokenizer] of TOKENIZERS) {
    for (const specs of [files, [files[0]!]]) {
      const a = join(dir, `${kind}-${specs.length}-whole`);
      const b = join(dir, `${kind}-${specs.length}-chunked`);
      const whole = prepareTokenCache(readCorpus(specs), tokenizer, a, { valFraction: 0.3, seed: 2 });
      const chunked = prepareTokenCache(listCorpus(specs, { chunkBytes: 24 }), tokenizer, b, { valFraction: 0.3, seed: 2, encodeChars: 5 });
      for (const bin of ['train.bin', 'val.bin']) assert.deepEqual(readFileSync(join(b, bin)), readFileSync(join(a, bin)), `${kind} ${specs.length} ${bin}`);
      assert.deepEqual({ ...chunked, corpus: undefined }, { ...whole, corpus: undefined });
      assert.ok(whole.splits.val.tokens > 0 && whole.splits.train.tokens > 0);
      assert.equal(chunked.corpus!.files[0]!.sha256.length, 64);
      assert.equal(chunked.corpus!.bytes, specs.reduce((n, f) => n + readFileSync(f).length, 0));
    }
  }
});

test('memory does not grow with the corpus: the tokenizer never sees more than a few chunks of text at once', () => {
  const dir = tempDir();
  const big = join(dir, 'big.txt');
  writeFileSync(big, 'the whale and the sea under a white night\n'.repeat(25_000));
  const [, tokenizer] = TOKENIZERS[2]!;
  let longest = 0;
  let calls = 0;
  const spy: Tokenizer = Object.assign(Object.create(tokenizer) as Tokenizer, {
    encode: (text: string) => { longest = Math.max(longest, text.length); calls++; return tokenizer.encode(text); },
  });
  const [doc] = listCorpus(big, { chunkBytes: 4096 });
  let longestPiece = 0;
  for (const piece of doc!.pieces()) longestPiece = Math.max(longestPiece, piece.length);
  // The cleaner gathers the first 64 KiB of a body before its head rules run (clean-stream.ts); after that, one chunk at a time.
  assert.ok(longestPiece <= 64 * 1024 + 4096, `pieces stay within the head buffer or a chunk (${longestPiece})`);
  const meta = prepareTokenCache([doc!], spy, join(dir, 'cache'), { valFraction: 0.1, encodeChars: 1024 });
  assert.ok(doc!.chars > 1_000_000 && calls > 900, `${calls} encodes of ${doc!.chars} characters`);
  assert.ok(longest <= 1024, `longest text given to the tokenizer: ${longest}`);
  assert.equal(meta.splits.train.tokens + meta.splits.val.tokens, tokenizer.encode(readCorpus(big)[0]!.text).length + 2);
  assert.deepEqual(readdirSync(join(dir, 'cache')).sort(), ['meta.json', 'train.bin', 'val.bin']);
});
