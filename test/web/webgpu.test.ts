/**
 * WebGPU in "Train in your browser" and "Run in your browser", in headless
 * Chromium with WebGPU on (--enable-unsafe-webgpu, the GPU process kept): on a
 * machine without a GPU its adapter is SwiftShader, a software fallback, which
 * the pages pass over unless `?backend=webgpu` asks for it. On it, training
 * starts from the same loss as wasm and follows the same curve within float
 * tolerance, the trained model's greedy text equals `inkwell generate`'s in
 * Node on the downloaded zip, and an exported model generates Node's greedy
 * tokens. Without any adapter the test skips, saying so (the wasm fallback
 * itself is asserted by the other page tests, whose Chromium has no GPU).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { createDecoder } from '../../src/generate/decoders.js';
import { generateText } from '../../src/generate/generate.js';
import { runCli } from '../helpers/run-cli.js';
import { builtApp, downloadModel, exportedModel, launchChromium, screenshots, serveStatic, skipReason } from './browser.js';

const PARAGRAPH = `The keeper of the light rowed out each morning to read the tide and to count the gulls on the rocks.
In the evening he climbed the stairs and lit the lamp, and its beam swept the dark water until dawn.
`.repeat(3);
// On SwiftShader a step of the char GPT takes seconds and compiling its shaders tens of seconds: a few steps show the curve.
const STEPS = 3;
const PROMPT = 'The keeper';

interface Trained {
  firstLoss: number;
  lastLoss: number;
  text: string;
  tokens: number[];
}

/** STEPS steps of the char GPT on the train page at `query`, then a greedy continuation of PROMPT. */
async function trainInPage(page: Page, url: string): Promise<Trained> {
  await page.goto(url);
  await page.waitForSelector('body[data-state="idle"]');
  await page.fill('#text', PARAGRAPH);
  await page.selectOption('#recipe', 'char-gpt');
  await page.fill('#steps', String(STEPS));
  await page.click('#train');
  await page.waitForSelector(`#chart[data-points="${STEPS}"]`, { timeout: 180_000 });
  await page.waitForSelector('body[data-state="idle"]');
  await page.fill('#prompt', PROMPT);
  await page.fill('#max-tokens', '10');
  await page.fill('#temperature', '0');
  await page.click('#generate');
  await page.waitForSelector('#output[data-tokens]', { timeout: 60_000 });
  return {
    firstLoss: Number(await page.getAttribute('#chart', 'data-first-loss')),
    lastLoss: Number(await page.getAttribute('#chart', 'data-last-loss')),
    text: (await page.getAttribute('#output', 'data-text'))!,
    tokens: JSON.parse((await page.getAttribute('#output', 'data-tokens'))!) as number[],
  };
}

test('WebGPU, when Chromium has an adapter: training and inference on it agree with wasm and with Node', { skip: skipReason(), timeout: 420_000 }, async (t) => {
  const app = await builtApp();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'inkwell-webgpu-'));
  const { trainer } = await exportedModel(path.join(tmp, 'export'));
  const server = await serveStatic({ '/': app.outDir, '/model/': path.join(tmp, 'export') });
  const gpuBrowser = await launchChromium({ webgpu: true });
  try {
    const page = await gpuBrowser.context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${server.url}/index.html`);
    const adapter = await page.evaluate(async () => {
      const gpu = (navigator as { gpu?: { requestAdapter(): Promise<{ info?: { vendor?: string; architecture?: string; isFallbackAdapter?: boolean } } | null> } }).gpu;
      const a = gpu ? await gpu.requestAdapter() : null;
      return a ? { name: `${a.info?.vendor ?? ''} ${a.info?.architecture ?? ''}`.trim(), fallback: a.info?.isFallbackAdapter ?? false } : null;
    });
    if (!adapter) {
      t.skip('this Chromium gives no WebGPU adapter even with --enable-unsafe-webgpu: only the wasm fallback is tested (by the other page tests)');
      return;
    }

    // Left to choose, a page passes over a software adapter (and says so) and takes a hardware one.
    await page.goto(`${server.url}/train.html`);
    await page.waitForSelector('body[data-state="idle"]');
    if (adapter.fallback) {
      assert.equal(await page.getAttribute('body', 'data-execution'), 'wasm');
      assert.match(await page.textContent('#runtime-note') ?? '', /^Not on WebGPU: the WebGPU adapter \(.+\) is a software fallback, slower than wasm\.$/);
    } else {
      assert.equal(await page.getAttribute('body', 'data-execution'), 'webgpu');
    }

    const wasm = await trainInPage(page, `${server.url}/train.html?backend=wasm&threads=1`);
    await page.evaluate(() => new Promise<void>((resolve, reject) => {
      const r = indexedDB.deleteDatabase('inkwell');
      r.onsuccess = () => resolve();
      r.onerror = () => reject(new Error('cannot delete the saved run'));
    }));
    const gpu = await trainInPage(page, `${server.url}/train.html?backend=webgpu&threads=1`);
    assert.equal(await page.getAttribute('body', 'data-execution'), 'webgpu');
    assert.match(await page.textContent('#stat-runtime') ?? '', /^WebGPU \(.+\)$/);
    assert.equal(await page.textContent('#runtime-note'), '');
    t.diagnostic(`adapter ${adapter.name}${adapter.fallback ? ' (fallback)' : ''}; loss wasm ${wasm.firstLoss} → ${wasm.lastLoss}, webgpu ${gpu.firstLoss} → ${gpu.lastLoss}`);
    // The same graph from the same weights: the same first loss; float differences then grow a little over the steps.
    assert.ok(Math.abs(gpu.firstLoss - wasm.firstLoss) < 1e-4, `first loss: webgpu ${gpu.firstLoss}, wasm ${wasm.firstLoss}`);
    assert.ok(Math.abs(gpu.lastLoss - wasm.lastLoss) < 2e-2, `loss after ${STEPS} steps: webgpu ${gpu.lastLoss}, wasm ${wasm.lastLoss}`);
    assert.ok(gpu.lastLoss < gpu.firstLoss, `webgpu loss fell from ${gpu.firstLoss} to ${gpu.lastLoss}`);
    await screenshots(page, 'train-webgpu');

    // The model trained on WebGPU, downloaded, continues the prompt in Node as the page did.
    const dir = await downloadModel(page, tmp);
    const cli = await runCli(['generate', '--model', dir, '--prompt', PROMPT, '--greedy', '--max-new-tokens', '10', '--json']);
    assert.equal(cli.code, 0, cli.stderr);
    assert.equal((JSON.parse(cli.stdout) as { completion: string }).completion, gpu.text, 'the same greedy continuation in Node');

    // An exported model on WebGPU: Node's greedy tokens.
    const decoder = await createDecoder(trainer.bundle, 1, { threads: 1 });
    const expected = await generateText({ decoder, tokenizer: trainer.bundle.tokenizer }, 'Orbiting', { greedy: true, maxNewTokens: 12 });
    await decoder.release();
    await page.goto(`${server.url}/run.html?backend=webgpu&model=/model/`);
    await page.waitForSelector('body[data-model="loaded"]');
    assert.equal(await page.getAttribute('body', 'data-execution'), 'webgpu');
    await page.fill('#prompt', 'Orbiting');
    await page.fill('#max-tokens', '12');
    await page.fill('#temperature', '0');
    await page.click('#generate');
    await page.waitForSelector('#output[data-tokens]', { timeout: 60_000 });
    assert.deepEqual(JSON.parse((await page.getAttribute('#output', 'data-tokens'))!), expected.tokens);
    await screenshots(page, 'run-webgpu');
    assert.deepEqual(errors, []);
  } finally {
    await trainer.release();
    await gpuBrowser.close();
    await server.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
