/**
 * "Run in your browser", end to end in headless Chromium: a GPT exported the
 * way transformers.js loads it (config.json, tokenizer.json, onnx/model.onnx
 * built from Gpt.buildDecodeGraph() with toOnnx) generates in the page, with
 * no server doing the work, the same greedy tokens as inkwell in Node.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { createDecoder } from '../../src/generate/decoders.js';
import { generateText } from '../../src/generate/generate.js';
import { builtApp, exportedModel, launchChromium, screenshots, serveStatic, skipReason } from './browser.js';

test('an exported GPT generates in the page the greedy tokens inkwell generates in Node', { skip: skipReason(), timeout: 90_000 }, async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'inkwell-run-page-'));
  const { trainer } = await exportedModel(tmp);
  const app = await builtApp();
  const server = await serveStatic({ '/': app.outDir, '/model/': tmp });
  const { context, close } = await launchChromium();
  try {
    const decoder = await createDecoder(trainer.bundle, 1, { threads: 1 });
    const expected = await generateText({ decoder, tokenizer: trainer.bundle.tokenizer }, 'Orbiting', { greedy: true, maxNewTokens: 50 });
    await decoder.release();

    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${server.url}/run.html?model=/model/`);
    await page.waitForSelector('body[data-model="loaded"]');
    assert.equal(await page.textContent('#stat-width'), '4 × 64');
    await page.fill('#prompt', 'Orbiting');
    await page.fill('#max-tokens', '50');
    await page.fill('#temperature', '0');
    await page.click('#generate');
    await page.waitForSelector('#output[data-tokens]');
    assert.deepEqual(JSON.parse((await page.getAttribute('#output', 'data-tokens'))!), expected.tokens);
    assert.equal(await page.textContent('#output'), `Orbiting${expected.text}`);
    assert.match(await page.textContent('#gen-status') ?? '', /^50 tokens, \d+ tokens\/s \(finished: length\)\.$/);

    await screenshots(page, 'run');

    await page.fill('#temperature', '9');
    await page.click('#generate');
    await page.waitForSelector('#gen-status.error');
    assert.equal(await page.textContent('#gen-status'), "Cannot generate: Temperature must be a number from 0 to 5, got '9'");
    await page.fill('#temperature', '0');

    // A folder without the model shows the failing URL in the page.
    await page.fill('#model-url', '/missing/');
    await page.click('#load');
    await page.waitForSelector('#status.error');
    assert.match(await page.textContent('#status') ?? '', /Cannot load the model: .*\/missing\/config\.json: HTTP 404/);

    await page.goto(`${server.url}/index.html`);
    await screenshots(page, 'index');
    assert.deepEqual(errors, []);
  } finally {
    await trainer.release();
    await close();
    await server.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
