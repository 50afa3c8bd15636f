import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeText } from '../../src/corpus/decode.js';
import { cleanGutenbergText } from '../../src/corpus/clean.js';
import { InkwellError } from '../../src/utils/errors.js';
import { gutenbergWrapped } from '../helpers/books.js';

test('decodes UTF-8 with and without BOM, normalising CRLF and NFC', () => {
  const plain = decodeText(Buffer.from('caf\u0065\u0301\r\nline\rnext', 'utf8'), 'a.txt');
  assert.equal(plain.encoding, 'utf-8');
  assert.equal(plain.text, 'caf\u00e9\nline\nnext');
  const bom = decodeText(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('hello', 'utf8')]), 'b.txt');
  assert.equal(bom.text, 'hello');
});

test('falls back to Latin-1 for bytes that are not UTF-8', () => {
  const d = decodeText(Buffer.from([0x43, 0x61, 0x65, 0x73, 0x61, 0x72, 0x20, 0xe9, 0xe6]), 'caesar.txt');
  assert.equal(d.encoding, 'latin1');
  assert.equal(d.text, 'Caesar éæ');
});

test('rejects binary data naming the file', () => {
  assert.throws(() => decodeText(Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 1, 2]), 'image.png'), (err: unknown) => {
    assert.ok(err instanceof InkwellError);
    assert.match(err.message, /image\.png looks like a binary file/);
    return true;
  });
});

test('strips modern Project Gutenberg header, producer credit and footer', () => {
  const raw = decodeText(Buffer.from(gutenbergWrapped('CHAPTER I\r\n\r\nEmma Woodhouse, handsome.\r\n'), 'utf8'), 'pg158.txt').text;
  const c = cleanGutenbergText(raw);
  assert.equal(c.body, 'CHAPTER I\n\nEmma Woodhouse, handsome.\n');
  assert.equal(c.metadata.title, 'Emma');
  assert.equal(c.metadata.author, 'Jane Austen');
  assert.equal(c.strippedBoilerplate, true);
});

test('strips older "THIS PROJECT GUTENBERG" and small-print variants', () => {
  const older = '*** START OF THIS PROJECT GUTENBERG EBOOK ALICE ***\n\nAlice was beginning.\n\nEnd of the Project Gutenberg EBook of Alice\n';
  assert.equal(cleanGutenbergText(older).body, 'Alice was beginning.\n');
  const ancient = 'The Project Gutenberg Etext\nlegal words\n*END*THE SMALL PRINT! FOR PUBLIC DOMAIN ETEXTS*Ver.04.29.93*END*\n\nParadise Lost\nOf Man\'s first disobedience\n';
  assert.equal(cleanGutenbergText(ancient).body, 'Paradise Lost\nOf Man\'s first disobedience\n');
});

test("keeps NLTK's bracketed title line as metadata", () => {
  const c = cleanGutenbergText('[Emma by Jane Austen 1816]\n\nVOLUME I\n');
  assert.equal(c.metadata.titleLine, 'Emma by Jane Austen 1816');
  assert.equal(c.body, 'VOLUME I\n');
  assert.equal(c.strippedBoilerplate, false);
});
