/**
 * The benchmark page: full train steps of the `bench-gpt` recipe in the
 * training worker, timed there per step. The result (JSON in
 * body[data-result]) is what bench/browser.ts reads.
 */
import { byId, runtimeLabel, showStatus, wantedExecution, wantedThreads } from '../lib/dom.js';
import type { FromWorker, ToWorker } from '../lib/protocol.js';
import { RECIPES } from '../lib/recipes.js';
import { SAMPLE_TEXT } from '../lib/sample-text.js';

/** Steps left out of the timing: the first runs pay for ORT's allocations and kernel selection. */
const WARMUP = 2;
const status = byId('status', HTMLElement);
const asked = Number(new URLSearchParams(location.search).get('steps'));
const steps = Number.isInteger(asked) && asked > WARMUP ? asked : 12;
const r = RECIPES['bench-gpt'];
const worker = new Worker(new URL('./train-worker.js', import.meta.url), { type: 'module' });
const send = (m: ToWorker) => worker.postMessage(m);
const times: number[] = [];
let threads = 0;
let execution = 'wasm';

worker.onmessage = (e: MessageEvent<FromWorker>) => {
  const m = e.data;
  if (m.type === 'ready') {
    threads = m.runtime.threads;
    execution = m.runtime.execution;
    byId('stat-threads', HTMLElement).textContent = `${runtimeLabel(m.runtime).text}${m.isolated ? '' : ' (page not cross-origin isolated)'}`;
    showStatus(status, `Timing ${steps} steps…`);
    send({ type: 'train', recipe: 'bench-gpt', text: SAMPLE_TEXT.repeat(4), steps, save: false });
  } else if (m.type === 'step') {
    times.push(m.result.ms);
  } else if (m.type === 'trained') {
    const timed = times.slice(WARMUP).sort((a, b) => a - b);
    const median = timed[Math.floor(timed.length / 2)]!;
    const tokensPerSecond = (r.batchSize * r.contextLength) / (median / 1000);
    byId('stat-median', HTMLElement).textContent = `${median.toFixed(1)} ms`;
    byId('stat-tps', HTMLElement).textContent = tokensPerSecond.toFixed(0);
    showStatus(status, 'Done.');
    document.body.dataset.result = JSON.stringify({ execution, threads, steps: timed.length, medianMs: median, tokensPerSecond, stepsMs: times });
  } else if (m.type === 'error') {
    showStatus(status, m.message, true);
    document.body.dataset.result = JSON.stringify({ error: m.message });
  }
};
send({ type: 'init', threads: wantedThreads(), prefer: wantedExecution() });
