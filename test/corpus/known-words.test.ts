import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { knownWords, wordList, wordsOf } from '../../src/corpus/known-words.js';
import { SAMPLE_BOOKS, tempDir } from '../helpers/books.js';

const MAIN = resolve(fileURLToPath(import.meta.url), '..', '..', '..', 'src', 'cli', 'main.js');

test('words are the lowercased letter-bearing units; the share counts words found in the corpus list', () => {
  assert.deepEqual(wordsOf("Emma didn't mind -- 1909, Zoë's."), ['emma', 'did', "n't", 'mind', 'zoë', "'s"]);
  const list = wordList(Object.values(SAMPLE_BOOKS));
  const r = knownWords('Emma Woodhouse sat prean soned in the WORLD, prean.', list);
  assert.equal(r.words, 9);
  assert.equal(r.known, 5);
  assert.equal(r.share, 5 / 9);
  assert.deepEqual(r.unknown, ['sat', 'prean', 'soned']);
  assert.deepEqual(knownWords('1909 -- !', list), { words: 0, known: 0, share: 0, unknown: [] });
});

test('inkwell data known-words reads a file or stdin and refuses a text without words', () => {
  const dir = tempDir();
  const corpus = join(dir, 'book.txt');
  writeFileSync(corpus, SAMPLE_BOOKS['melville-mini']!);
  const run = (args: string[], input = '') => spawnSync(process.execPath, [MAIN, 'data', 'known-words', '--corpus', corpus, ...args], { encoding: 'utf8', input });
  const ok = run(['--text', '-'], 'Call me Ishmael, said the zorb.');
  assert.equal(ok.status, 0, ok.stderr);
  assert.equal(ok.stdout.trim(), "4 of 6 words (66.7%) occur in the corpus's word list; not in it: said, zorb");
  const json = run(['--text', '-', '--json'], 'call ME');
  assert.equal(JSON.parse(json.stdout).share, 1);
  const none = run(['--text', '-'], '...');
  assert.equal(none.status, 1);
  assert.match(none.stderr, /--text - has no words to check/);
  const missing = run(['--text', join(dir, 'nope.txt')]);
  assert.match(missing.stderr, /--text .*nope\.txt: cannot read the file/);
});
