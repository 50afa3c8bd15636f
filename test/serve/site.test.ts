/**
 * The web app beside the API on one origin: the site's files with the
 * cross-origin-isolation headers, the runs' list, public pages while the API
 * keeps its key, and the API's JSON 404 for what neither has.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { tempDir } from '../helpers/books.js';
import { tinyRun } from '../helpers/tiny-run.js';
import { API_KEY, client, startServer } from './helpers.js';

const gpt = tinyRun('gpt');
const site = tempDir();
fs.writeFileSync(path.join(site, 'index.html'), '<!doctype html><title>inkwell</title>');
fs.writeFileSync(path.join(site, 'app.js'), 'export {};');
const runs = tempDir();
fs.mkdirSync(path.join(runs, 'live'));
fs.writeFileSync(path.join(runs, 'live', 'metrics.jsonl'), '{"step":1,"loss":3}\n');
const { url } = await startServer({ models: [{ name: 'gpt', dir: gpt.dir }], apiKey: API_KEY, site: { roots: { '/': site }, runsDir: runs } });

test('inkwell serve serves the pages and runs beside /v1, which keeps its key', async () => {
  const page = await fetch(`${url}/`);
  assert.equal(page.status, 200);
  assert.equal(page.headers.get('content-type'), 'text/html; charset=utf-8');
  assert.equal(page.headers.get('cross-origin-opener-policy'), 'same-origin');
  assert.equal(page.headers.get('cross-origin-embedder-policy'), 'require-corp');
  assert.match(await page.text(), /<title>inkwell<\/title>/);
  assert.equal((await fetch(`${url}/app.js`)).headers.get('content-type'), 'text/javascript');
  assert.deepEqual(await (await fetch(`${url}/runs/`)).json(), { runs: ['live'] });
  assert.equal(await (await fetch(`${url}/runs/live/metrics.jsonl`)).text(), '{"step":1,"loss":3}\n');

  assert.equal((await fetch(`${url}/v1/models`)).status, 401, 'the API still needs the key');
  assert.deepEqual((await client(url).models.list()).data.map((m) => m.id), ['gpt']);
  for (const missing of ['/nothing.html', '/%2e%2e/%2e%2e/etc/passwd', '/v1/nothing']) {
    const r = await fetch(`${url}${missing}`, { headers: { authorization: `Bearer ${API_KEY}` } });
    assert.equal(r.status, 404, missing);
    assert.equal(((await r.json()) as { error: { type: string } }).error.type, 'not_found_error', missing);
  }
  const malformed = await fetch(`${url}/%zz`);
  assert.equal(malformed.status, 400, 'a malformed path is refused before any route');
  assert.match(((await malformed.json()) as { error: { message: string } }).error.message, /'\/%zz' is not a valid url component/);
});
