import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { downloadEbooks, urlsFor } from '../../src/corpus/download.js';
import { readManifest } from '../../src/corpus/cache.js';
import { InkwellError } from '../../src/utils/errors.js';
import { gutenbergWrapped, tempDir } from '../helpers/books.js';

const BOOK = Buffer.from(gutenbergWrapped('Emma Woodhouse, handsome, clever, and rich.\r\n'), 'utf8');

/**
 * Fixture server. Paths: /ok/<id>.txt serves BOOK; /flaky/<id>.txt fails with
 * 503 twice then serves; /stall/<id>.txt sends headers and half the body then
 * hangs; /truncated/<id>.txt promises more bytes than it sends and closes;
 * /missing/<id>.txt is 404.
 */
const hits = new Map<string, number>();
const server: Server = createServer((req, res) => {
  const url = req.url ?? '';
  const n = (hits.get(url) ?? 0) + 1;
  hits.set(url, n);
  const [, mode] = url.split('/');
  if (mode === 'ok' || (mode === 'flaky' && n > 2)) {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': BOOK.length });
    res.end(BOOK);
  } else if (mode === 'flaky') {
    res.writeHead(503);
    res.end('busy');
  } else if (mode === 'stall') {
    res.writeHead(200, { 'content-length': BOOK.length });
    res.write(BOOK.subarray(0, 10));
  } else if (mode === 'truncated') {
    res.writeHead(200, { 'content-length': BOOK.length });
    res.end(BOOK.subarray(0, 20));
    res.socket?.destroy();
  } else {
    res.writeHead(404);
    res.end();
  }
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
after(() => { server.closeAllConnections(); server.close(); });
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const fast = { retries: 2, retryDelayMs: 5, politeDelayMs: 0, idleTimeoutMs: 300 };

test('mirror templates and Project Gutenberg URLs', () => {
  assert.deepEqual(urlsFor(158, 'http://m.example/{id}/{id}.txt'), ['http://m.example/158/158.txt']);
  assert.deepEqual(urlsFor(158, 'http://m.example/'), ['http://m.example/cache/epub/158/pg158.txt']);
  assert.equal(urlsFor(158)[0], 'https://www.gutenberg.org/cache/epub/158/pg158.txt');
});

test('downloads into the cache with a sha256 manifest, then reuses it offline', async () => {
  const cacheDir = tempDir();
  const [r] = await downloadEbooks([158], { cacheDir, mirror: `${base}/ok/{id}.txt`, ...fast });
  assert.equal(r!.fromCache, false);
  assert.equal(r!.path, join(cacheDir, 'gutenberg', 'austen-emma.txt'));
  assert.deepEqual(readFileSync(r!.path), BOOK);
  const entry = readManifest(join(cacheDir, 'gutenberg')).files['158']!;
  assert.equal(entry.sha256, createHash('sha256').update(BOOK).digest('hex'));
  assert.equal(entry.bytes, BOOK.length);
  // An unreachable mirror: the verified cached copy is used without any request.
  const [again] = await downloadEbooks([158], { cacheDir, mirror: 'http://127.0.0.1:1/{id}', ...fast });
  assert.equal(again!.fromCache, true);
  // A forced download that fails falls back to the cached copy.
  const events: string[] = [];
  const [forced] = await downloadEbooks([158], { cacheDir, mirror: 'http://127.0.0.1:1/{id}', ...fast, retries: 0, force: true, onEvent: (e) => events.push(e.type) });
  assert.equal(forced!.fromCache, true);
  assert.ok(events.includes('stale-fallback'));
});

test('retries server errors with back-off', async () => {
  const cacheDir = tempDir();
  const events: string[] = [];
  const [r] = await downloadEbooks([9001], { cacheDir, mirror: `${base}/flaky/{id}.txt`, ...fast, onEvent: (e) => events.push(e.type) });
  assert.equal(r!.path, join(cacheDir, 'gutenberg', 'pg9001.txt'));
  assert.equal(events.filter((e) => e === 'retry').length, 2);
});

async function assertFailsCleanly(mode: string, pattern: RegExp): Promise<void> {
  const cacheDir = tempDir();
  await assert.rejects(downloadEbooks([77], { cacheDir, mirror: `${base}/${mode}/{id}.txt`, ...fast, retries: 1 }), (err: unknown) => {
    assert.ok(err instanceof InkwellError, String(err));
    assert.match(err.message, pattern);
    return true;
  });
  // Nothing half-written: no book, no temp file, no manifest entry.
  const dir = join(cacheDir, 'gutenberg');
  assert.deepEqual(existsSync(dir) ? readdirSync(dir) : [], []);
}

test('a stalled body times out and leaves nothing behind', async () => {
  await assertFailsCleanly('stall', /could not download ebook 77: timed out after 300 ms/);
});

test('a truncated body is rejected and leaves nothing behind', async () => {
  await assertFailsCleanly('truncated', /could not download ebook 77: .*(truncated|terminated|fetch)/);
});

test('404 is not retried', async () => {
  hits.clear();
  await assertFailsCleanly('missing', /HTTP 404/);
  assert.equal(hits.get('/missing/77.txt'), 1);
});
