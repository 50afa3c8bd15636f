/**
 * "Train in your browser", end to end in headless Chromium: 100 steps of the
 * char GPT on a pasted paragraph lower the loss; the downloaded zip, loaded by
 * `inkwell generate` in Node, continues the prompt greedily exactly as the
 * page did; a reload resumes from the step saved in IndexedDB.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { runCli } from '../helpers/run-cli.js';
import { builtApp, downloadModel, launchChromium, screenshots, serveStatic, skipReason } from './browser.js';

const PARAGRAPH = `The old lighthouse keeper climbed the stairs every evening at dusk. He trimmed the wick, wiped the glass,
and watched the lamp throw its long white arm across the water. The ships knew the light and the light knew the ships.
On stormy nights he stayed awake until dawn, listening to the wind and the waves, and the lamp never once went out.
`.repeat(2);

test('browser training: loss falls, the zip generates the same text in Node, a reload resumes', { skip: skipReason(), timeout: 120_000 }, async () => {
  const app = await builtApp();
  const server = await serveStatic({ '/': app.outDir });
  const { context, close } = await launchChromium();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'inkwell-train-page-'));
  try {
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${server.url}/train.html`);
    await page.waitForSelector('body[data-state="idle"]');
    assert.equal(await page.evaluate(() => crossOriginIsolated), true, 'served with COOP/COEP');
    // No GPU in the tests' Chromium: no WebGPU adapter, so wasm, and the page says why.
    assert.match(await page.textContent('#stat-runtime') ?? '', /^wasm, [1-4] threads?$/);
    assert.equal(await page.getAttribute('body', 'data-execution'), 'wasm');
    assert.match(await page.textContent('#runtime-note') ?? '', /^Not on WebGPU: (WebGPU gave no adapter|this browser has no WebGPU \(navigator\.gpu\))\.$/);

    await page.setInputFiles('#file', { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('A text from a file.\n') });
    await page.waitForSelector('#status:has-text("Loaded notes.txt.")');
    assert.equal(await page.inputValue('#text'), 'A text from a file.\n');
    await page.fill('#text', PARAGRAPH);
    await page.selectOption('#recipe', 'char-gpt');
    await page.fill('#steps', '100');
    await page.click('#train');
    await page.waitForSelector('#chart[data-points="100"]', { timeout: 90_000 });
    await page.waitForSelector('body[data-state="idle"]');
    const first = Number(await page.getAttribute('#chart', 'data-first-loss'));
    const last = Number(await page.getAttribute('#chart', 'data-last-loss'));
    assert.ok(last < first - 0.8, `loss fell from ${first} to ${last}`);
    assert.match(await page.textContent('#status') ?? '', /Trained at step 100/);

    await page.fill('#prompt', 'The light');
    await page.fill('#max-tokens', '40');
    await page.fill('#temperature', '0');
    await page.click('#generate');
    await page.waitForSelector('#output[data-tokens]');
    const pageText = (await page.getAttribute('#output', 'data-text'))!;
    assert.equal(JSON.parse((await page.getAttribute('#output', 'data-tokens'))!).length, 40);
    assert.equal(await page.textContent('#output'), `The light${pageText}`, 'the streamed pieces add up to the result');

    await screenshots(page, 'train');

    const dir = await downloadModel(page, tmp);
    const cli = await runCli(['generate', '--model', dir, '--prompt', 'The light', '--greedy', '--max-new-tokens', '40', '--json']);
    assert.equal(cli.code, 0, cli.stderr);
    assert.equal((JSON.parse(cli.stdout) as { completion: string }).completion, pageText, 'the same greedy continuation in Node');

    await page.reload();
    await page.waitForSelector('body[data-state="idle"]');
    assert.match(await page.textContent('#status') ?? '', /Resumed the model saved in this browser at step 100/);
    assert.equal(await page.getAttribute('#chart', 'data-points'), '100');
    assert.equal(await page.inputValue('#text'), PARAGRAPH);
    await page.fill('#steps', '5');
    await page.click('#train');
    await page.waitForSelector('#chart[data-points="105"]');
    await page.waitForSelector('body[data-state="idle"]');
    assert.match(await page.textContent('#status') ?? '', /Trained at step 105/);
    assert.deepEqual(errors, []);
  } finally {
    await close();
    await server.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
