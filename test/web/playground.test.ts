/**
 * The playground, end to end in headless Chromium, served by the real
 * `inkwell serve` (createServer with the built pages beside /v1, same-origin)
 * over a tiny char GPT trained here for 30 steps. The page must stream
 * exactly the text that the same server completes, not streamed, for the
 * request the page sent (greedy); shade every token by the probability the
 * server reported; list the server's top-5 alternatives on focus; and show
 * the server's own error for a setting it refuses.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { saveModel } from '../../src/io/model-dir.js';
import { createServer } from '../../src/serve/server.js';
import { StepTrainer } from '../../web/src/lib/step-trainer.js';
import { tempDir } from '../helpers/books.js';
import { builtApp, launchChromium, screenshots, skipReason } from './browser.js';

const TEXT = 'She sells sea shells by the sea shore, and the shells she sells are surely sea shells. '.repeat(6);
const MODEL = 'tiny-char-gpt';

interface Completion {
  choices: Array<{ text: string; logprobs: { tokens: string[]; token_logprobs: number[]; top_logprobs: Array<Record<string, number>> } }>;
}

test('playground on inkwell serve: streams the server greedy completion, shades tokens, shows alternatives and server errors', { skip: skipReason(), timeout: 120_000 }, async () => {
  const trainer = await StepTrainer.create('char-gpt', TEXT, { seed: 2, threads: 1 });
  for (let i = 0; i < 30; i++) await trainer.next();
  const dir = path.join(tempDir(), MODEL);
  saveModel(dir, trainer.bundle);
  await trainer.release();
  const app = await builtApp();
  const server = await createServer({ models: [{ name: MODEL, dir }], port: 0, threads: 1, site: { roots: { '/': app.outDir } } });
  const url = await server.listen();
  const { context, close } = await launchChromium();
  try {
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const served = await page.goto(`${url}/playground.html`);
    assert.equal(served?.headers()['cross-origin-embedder-policy'], 'require-corp', 'the site server headers, from inkwell serve');
    await page.waitForSelector(`#model option[value="${MODEL}"]`, { state: 'attached' });
    await page.fill('#prompt', 'She sells');
    await page.fill('#max-tokens', '30');
    await page.fill('#temperature', '0');
    const sent = page.waitForRequest((r) => r.url() === `${url}/v1/completions`);
    await page.click('#generate');
    const body = (await sent).postDataJSON() as Record<string, unknown>;
    assert.equal(body.stream, true);
    await page.waitForSelector('#output[data-done]');

    // The same settings, not streamed, from the same server.
    const expected = (await (await fetch(`${url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...body, stream: false }) })).json()) as Completion;
    const want = expected.choices[0]!;
    assert.ok(want.text.length > 0);
    assert.equal(await page.getAttribute('#output', 'data-text'), want.text);
    assert.equal(await page.textContent('#output'), `She sells${want.text}`);
    assert.equal(await page.locator('#output .tok').count(), 30);
    assert.match(await page.textContent('#status') ?? '', /^30 tokens in [\d.]+ s \(finished: length\)\.$/);
    const shown = await page.locator('#output .tok').evaluateAll((spans) => spans.map((s) => ({ p: Number((s as HTMLElement).dataset.p), background: (s as HTMLElement).style.background })));
    shown.forEach((s, i) => assert.ok(Math.abs(s.p - Math.exp(want.logprobs.token_logprobs[i]!)) < 1e-5, `token ${i}: the server's probability`));
    assert.ok(new Set(shown.map((s) => s.background)).size > 1, 'tokens of different probability are shaded differently');

    await page.focus('#output .tok >> nth=0');
    await page.waitForSelector('#alternatives:not([hidden])');
    const rows = await page.locator('#alternatives tr td:first-child').allTextContents();
    assert.deepEqual(rows.map((r) => JSON.parse(r) as string).sort(), Object.keys(want.logprobs.top_logprobs[0]!).sort(), "the server's top-5 alternatives");
    assert.equal(rows.length, 5);
    assert.equal(await page.locator('#alternatives tr.chosen').count(), 1, 'greedy picks the most likely, listed among the five');
    await screenshots(page, 'playground', () => page.focus('#output .tok >> nth=3'));

    await page.fill('#top-p', '2');
    await page.click('#generate');
    await page.waitForSelector('#status.error');
    const refused = await fetch(`${url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...body, top_p: 2 }) });
    assert.equal(refused.status, 400);
    const message = ((await refused.json()) as { error: { message: string } }).error.message;
    assert.match(message, /top_p/);
    assert.equal(await page.textContent('#status'), `The server refused: ${message}`);
    assert.deepEqual(errors, []);
  } finally {
    await close();
    await server.close(0);
  }
});
