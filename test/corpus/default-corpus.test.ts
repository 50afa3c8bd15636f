import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readCorpus } from '../../src/corpus/corpus.js';
import { BUNDLED_CORPUS_DIR, resolveCorpusSpecs } from '../../src/corpus/default-corpus.js';
import { SAMPLE_BOOKS, tempDir } from '../helpers/books.js';

const MAIN = resolve(fileURLToPath(import.meta.url), '..', '..', '..', 'src', 'cli', 'main.js');

function bookDir(): string {
  const dir = tempDir();
  writeFileSync(join(dir, 'a.txt'), SAMPLE_BOOKS['austen-mini']!);
  return dir;
}

test('the default corpus is the first of --corpus, $INKWELL_CORPUS, shared data, download cache, bundled books', () => {
  const shared = bookDir();
  const cache = bookDir();
  const bundled = bookDir();
  const missing = join(tempDir(), 'absent');
  const emptyCache = tempDir();
  mkdirSync(join(emptyCache, 'partial'));
  writeFileSync(join(emptyCache, 'manifest.json'), '{}');
  const all = { env: 'env-books', sharedDir: shared, cacheDir: cache, bundledDir: bundled };

  assert.deepEqual(resolveCorpusSpecs(['x.txt', 'y.txt'], all), { specs: ['x.txt', 'y.txt'], origin: 'flag', description: '--corpus x.txt y.txt' });
  assert.equal(resolveCorpusSpecs([], all).origin, 'env', 'an empty --corpus list names nothing');
  assert.deepEqual(resolveCorpusSpecs(undefined, all).specs, ['env-books']);
  assert.deepEqual(resolveCorpusSpecs(undefined, { ...all, env: '' }), { specs: [shared], origin: 'shared', description: `the shared Gutenberg books in ${shared}` });
  assert.deepEqual(resolveCorpusSpecs(undefined, { ...all, env: '', sharedDir: missing }).specs, [cache]);
  const last = resolveCorpusSpecs(undefined, { env: '', sharedDir: missing, cacheDir: emptyCache, bundledDir: bundled });
  assert.equal(last.origin, 'bundled', 'a cache folder without .txt files is skipped');
  assert.deepEqual(last.specs, [bundled]);
  assert.match(last.description, /inkwell data download/);
  assert.equal(resolveCorpusSpecs(undefined, { env: '', sharedDir: missing, cacheDir: missing }).specs[0], BUNDLED_CORPUS_DIR);
});

test('the bundled books are UTF-8 with LF endings, listed with their ebook numbers, and read as a corpus', () => {
  const files = readdirSync(BUNDLED_CORPUS_DIR).filter((f) => f.endsWith('.txt')).sort();
  assert.ok(files.length >= 5, files.join(', '));
  const readme = readFileSync(join(BUNDLED_CORPUS_DIR, '..', 'README.md'), 'utf8');
  let bytes = 0;
  for (const f of files) {
    const raw = readFileSync(join(BUNDLED_CORPUS_DIR, f));
    bytes += raw.length;
    assert.doesNotThrow(() => new TextDecoder('utf-8', { fatal: true }).decode(raw), `${f} is UTF-8`);
    assert.ok(!raw.includes(13), `${f} has no CR`);
    assert.match(readme, new RegExp(`\\| \`gutenberg/${f.replace('.', '\\.')}\` \\| \\d+ \\|`), `README lists ${f} with its ebook number`);
  }
  assert.ok(bytes < 4_000_000, `a few MB at most (${bytes} bytes)`);
  const docs = readCorpus(BUNDLED_CORPUS_DIR);
  assert.deepEqual(docs.map((d) => d.name), files.map((f) => f.replace(/\.txt$/, '')));
  assert.ok(docs.every((d) => d.encoding === 'utf-8' && d.metadata.titleLine !== undefined && !d.text.startsWith('[')));
  assert.match(docs.find((d) => d.name === 'chesterton-ball')!.text, /é/, 'the Latin-1 original was converted, not mangled');
});

test('a command without --corpus says which corpus it read', () => {
  const books = bookDir();
  const r = spawnSync(process.execPath, [MAIN, 'data', 'stats', '--json'], { encoding: 'utf8', env: { ...process.env, INKWELL_CORPUS: books, INKWELL_CACHE: tempDir() } });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, new RegExp(`corpus: \\$INKWELL_CORPUS \\(${books.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\)`));
  assert.deepEqual((JSON.parse(r.stdout) as { books: Array<{ name: string }> }).books.map((b) => b.name), ['a']);
  const missing = join(books, 'absent');
  const bad = spawnSync(process.execPath, [MAIN, 'data', 'stats'], { encoding: 'utf8', env: { ...process.env, INKWELL_CORPUS: missing } });
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /error: \$INKWELL_CORPUS .*absent: no such file or directory/);
  assert.doesNotMatch(bad.stderr, /^\s+at /m);
});
