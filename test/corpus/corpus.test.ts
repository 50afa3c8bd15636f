import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { zipSync, strToU8 } from 'fflate';
import { readCorpus } from '../../src/corpus/corpus.js';
import { trainWordLevel } from '../../src/tokenizers/word-level.js';
import { InkwellError } from '../../src/utils/errors.js';
import { SAMPLE_BOOKS, tempDir } from '../helpers/books.js';

function writeBooks(dir: string): void {
  for (const [name, text] of Object.entries(SAMPLE_BOOKS)) writeFileSync(join(dir, `${name}.txt`), text);
  writeFileSync(join(dir, 'README'), 'not a book');
}

test('reads a directory of .txt files sorted by name, with NLTK titles as metadata', () => {
  const dir = tempDir();
  writeBooks(dir);
  const docs = readCorpus(dir);
  assert.deepEqual(docs.map((d) => d.name), ['austen-mini', 'chesterton-mini', 'melville-mini']);
  assert.equal(docs[0]!.metadata.titleLine, 'Mini Emma by Jane Austen 1816');
  assert.ok(docs[0]!.text.startsWith('Emma Woodhouse'));
});

test('reads single files, globs and several specs', () => {
  const dir = tempDir();
  mkdirSync(join(dir, 'nested', 'deeper'), { recursive: true });
  writeFileSync(join(dir, 'nested', 'a.txt'), 'alpha');
  writeFileSync(join(dir, 'nested', 'deeper', 'b.txt'), 'beta');
  writeFileSync(join(dir, 'nested', 'c.md'), 'gamma');
  assert.deepEqual(readCorpus(join(dir, 'nested', '**', '*.txt')).map((d) => d.name), ['a', 'b']);
  assert.deepEqual(readCorpus(join(dir, 'nested', '*.txt')).map((d) => d.name), ['a']);
  assert.deepEqual(readCorpus([join(dir, 'nested', 'c.md'), join(dir, 'nested', 'a.txt')]).map((d) => d.name), ['c', 'a']);
});

test("reads NLTK's gutenberg.zip layout, decoding Latin-1 members", () => {
  const dir = tempDir();
  const zip = zipSync({
    'gutenberg/README': strToU8('readme'),
    'gutenberg/austen-mini.txt': strToU8(SAMPLE_BOOKS['austen-mini']!),
    'gutenberg/caesar.txt': Uint8Array.from([...Buffer.from('[Caesar]\nC'), 0xe6, 0x73, 0x61, 0x72]),
  });
  writeFileSync(join(dir, 'gutenberg.zip'), zip);
  const docs = readCorpus(join(dir, 'gutenberg.zip'));
  assert.deepEqual(docs.map((d) => d.name), ['austen-mini', 'caesar']);
  assert.equal(docs[1]!.text, 'Cæsar\n');
  assert.equal(docs[1]!.encoding, 'latin1');
  assert.match(docs[1]!.source, /gutenberg\.zip:gutenberg\/caesar\.txt$/);
});

test('bad input gives clear errors naming the path', () => {
  const dir = tempDir();
  const expectError = (fn: () => unknown, pattern: RegExp) =>
    assert.throws(fn, (err: unknown) => err instanceof InkwellError && pattern.test(err.message));
  expectError(() => readCorpus(join(dir, 'missing.txt')), /missing\.txt: no such file/);
  expectError(() => readCorpus(join(dir, 'nothing-*.txt')), /matches no files/);
  writeFileSync(join(dir, 'empty.txt'), '\n\n');
  expectError(() => readCorpus(join(dir, 'empty.txt')), /is empty/);
  writeFileSync(join(dir, 'blob.bin'), Buffer.from([0, 1, 2, 3, 0, 0]));
  expectError(() => readCorpus(join(dir, 'blob.bin')), /blob\.bin looks like a binary file/);
  writeFileSync(join(dir, 'broken.zip'), 'PK not really');
  expectError(() => readCorpus(join(dir, 'broken.zip')), /cannot read zip archive .*broken\.zip/);
});

test('clean: false keeps the text exactly as written, so a char tokenizer round-trips it, \\r included', () => {
  const dir = tempDir();
  const raw = 'Title: X\r\n\r\n*** START OF THE PROJECT GUTENBERG EBOOK X ***\r\nCafe\u0301 \tline\rend\r\n';
  writeFileSync(join(dir, 'crlf.txt'), raw);
  const [doc] = readCorpus(join(dir, 'crlf.txt'), { clean: false });
  assert.equal(doc!.text, raw);
  const tok = trainWordLevel([doc!.text], 'char');
  assert.equal(tok.decode(tok.encode(doc!.text)), raw);
  assert.ok(tok.tokenToId('\r') !== undefined);
  const [cleaned] = readCorpus(join(dir, 'crlf.txt'));
  assert.equal(cleaned!.text, 'Café \tline\nend\n');
});
