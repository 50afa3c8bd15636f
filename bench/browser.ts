/**
 * Browser train-step time: full training steps (graph run, clipping, AdamW)
 * of the char-gpt preset's GPT (4×128, ctx 64, batch 12) in onnxruntime-web
 * (wasm, 1 and 2 threads, in Debian's headless Chromium, cross-origin
 * isolated) beside the same StepTrainer code on onnxruntime-node. Same graph,
 * same optimizer code; only the ONNX Runtime host differs.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { StepTrainer } from '../web/src/lib/step-trainer.js';
import { RECIPES } from '../web/src/lib/recipes.js';
import { SAMPLE_TEXT } from '../web/src/lib/sample-text.js';
import { buildWeb } from '../web/build.js';
import type { BrowserContext } from 'playwright-core';
import { launchChromium, serveStatic, skipReason } from '../test/web/browser.js';

const RECIPE = 'bench-gpt';
const STEPS = 12;
const WARMUP = 2;
const THREADS = [1, 2];

interface BrowserRow {
  bench: 'browser-train-step';
  model: string;
  threads: number;
  browser_ms: number | null;
  node_ms: number;
  ratio: number | null;
  browser_tokens_per_s: number | null;
  node_tokens_per_s: number;
  note?: string;
}

async function nodeStepMs(threads: number): Promise<number> {
  const t = await StepTrainer.create(RECIPE, SAMPLE_TEXT.repeat(4), { threads });
  try {
    const times: number[] = [];
    for (let i = 0; i < STEPS; i++) times.push((await t.next()).ms);
    return median(times.slice(WARMUP));
  } finally {
    await t.release();
  }
}

/** The median step time of the benchmark page at `threads`, in a browser page of `context` on `url`. */
async function browserStepMs(context: BrowserContext, url: string, threads: number): Promise<number> {
  const page = await context.newPage();
  try {
    await page.goto(`${url}/bench.html?threads=${threads}&steps=${STEPS}&backend=wasm`);
    await page.waitForSelector('body[data-result]', { timeout: 300_000 });
    const r = JSON.parse((await page.getAttribute('body', 'data-result'))!) as { execution?: string; threads?: number; medianMs?: number; error?: string };
    if (r.error || r.threads !== threads || r.execution !== 'wasm') throw new Error(`browser bench at ${threads} threads: ${r.error ?? `ran on ${r.execution} with ${r.threads} threads`}`);
    return r.medianMs!;
  } finally {
    await page.close();
  }
}

/** Node and browser in turn at each thread count, so both see the same (shared, noisy) machine. */
export async function benchBrowser(): Promise<BrowserRow[]> {
  const r = RECIPES[RECIPE];
  const tokens = r.batchSize * r.contextLength;
  const model = `GPT ${r.model.nLayer}×${r.model.nEmbd}, ctx ${r.contextLength}, batch ${r.batchSize}`;
  const skip = skipReason();
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'inkwell-bench-web-'));
  const server = skip ? undefined : await serveStatic({ '/': (await buildWeb(out, { entries: ['bench', 'train-worker'] })).outDir });
  const browser = skip ? undefined : await launchChromium();
  try {
    const rows: BrowserRow[] = [];
    for (const threads of THREADS) {
      const nodeMs = await nodeStepMs(threads);
      const b = browser && server ? await browserStepMs(browser.context, server.url, threads) : null;
      rows.push({
        bench: 'browser-train-step',
        model,
        threads,
        browser_ms: b,
        node_ms: nodeMs,
        ratio: b === null ? null : b / nodeMs,
        browser_tokens_per_s: b === null ? null : tokens / (b / 1000),
        node_tokens_per_s: tokens / (nodeMs / 1000),
        ...(skip ? { note: `browser skipped: ${skip}` } : {}),
      });
    }
    return rows;
  } finally {
    await browser?.close();
    await server?.close();
    fs.rmSync(out, { recursive: true, force: true });
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}
