import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SAMPLE_BOOKS, tempDir } from '../helpers/books.js';

const MAIN = resolve(fileURLToPath(import.meta.url), '..', '..', '..', 'src', 'cli', 'main.js');

function inkwell(args: string[], input?: string): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', input, env: { ...process.env, INKWELL_CACHE: tempDir() } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function assertCleanFailure(r: { code: number; stderr: string }, pattern: RegExp): void {
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, pattern);
  assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
}

const corpus = tempDir();
for (const [name, text] of Object.entries(SAMPLE_BOOKS)) writeFileSync(join(corpus, `${name}.txt`), text);

test('tokenizer train → encode → decode, data prepare and data stats --json', () => {
  const out = tempDir();
  const train = inkwell(['tokenizer', 'train', '--type', 'bpe', '--vocab-size', '300', '--min-frequency', '1', '--corpus', corpus, '--out', out]);
  assert.equal(train.code, 0, train.stderr);
  assert.ok(existsSync(join(out, 'tokenizer.json')) && existsSync(join(out, 'tokenizer_config.json')));
  const enc = inkwell(['tokenizer', 'encode', '--tokenizer', out, 'Call me Ishmael.']);
  assert.equal(enc.code, 0, enc.stderr);
  const dec = inkwell(['tokenizer', 'decode', '--tokenizer', out], enc.stdout);
  assert.equal(dec.stdout, 'Call me Ishmael.\n');
  const cache = tempDir();
  const prep = inkwell(['data', 'prepare', '--corpus', corpus, '--tokenizer', out, '--out', cache, '--val-fraction', '0.3']);
  assert.equal(prep.code, 0, prep.stderr);
  assert.deepEqual(readdirSync(cache).sort(), ['meta.json', 'train.bin', 'val.bin']);
  const stats = inkwell(['data', 'stats', '--json', '--corpus', corpus]);
  const report = JSON.parse(stats.stdout);
  assert.equal(report.books.length, 3);
  assert.equal(report.books[0].title, 'Mini Emma by Jane Austen 1816');
});

test('bad input fails with a clear message, no stack trace, and no partial output', () => {
  const dir = tempDir();
  assertCleanFailure(inkwell(['data', 'stats', '--corpus', join(dir, 'missing')]), /error: --corpus .*missing: no such file or directory/);
  writeFileSync(join(dir, 'empty.txt'), '');
  assertCleanFailure(inkwell(['data', 'stats', '--corpus', join(dir, 'empty.txt')]), /error: corpus .*empty\.txt is empty/);
  writeFileSync(join(dir, 'photo.txt'), Buffer.from([0xff, 0xd8, 0, 0, 0x10]));
  assertCleanFailure(inkwell(['data', 'stats', '--corpus', join(dir, 'photo.txt')]), /photo\.txt looks like a binary file/);
  writeFileSync(join(dir, 'tokenizer.json'), '{"model": {"type": "BPE", "vocab": {"a"');
  const out = join(dir, 'cache');
  assertCleanFailure(inkwell(['data', 'prepare', '--corpus', corpus, '--tokenizer', join(dir, 'tokenizer.json'), '--out', out]), /tokenizer\.json is not valid JSON/);
  assert.equal(existsSync(out), false);
  assertCleanFailure(inkwell(['tokenizer', 'train', '--type', 'bpe', '--vocab-size', '10', '--corpus', corpus, '--out', join(dir, 't')]), /--vocab-size must be an integer from 257/);
  assert.equal(existsSync(join(dir, 't')), false);
  const badFlag = inkwell(['tokenizer', 'train', '--vocab-size', 'many', '--corpus', corpus, '--out', join(dir, 't')]);
  assert.equal(badFlag.code, 1);
  assert.match(badFlag.stderr, /--vocab-size/);
  assert.equal(readFileSync(join(dir, 'empty.txt'), 'utf8'), '');
});
