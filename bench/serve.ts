/**
 * `npm run bench -- serve`: `inkwell serve` under loopback load, run as its
 * own process (so its RSS is its own), on an initialised 6-layer × 384 GPT
 * (ctx 256, vocab 65) and a 2-layer LSTM (hidden 256, embedding 128):
 *
 * - 1, 8, 32 and 64 concurrent streaming clients, each sending requests one
 *   after another (prompt 16 tokens, 64 new, sampled): total tokens/s, p50/p95
 *   time to first token and inter-token latency, and the 32-client speed-up
 *   over one client (target ≥ 3×);
 * - RSS before and after 10,000 short requests (4 new tokens, 32 clients;
 *   target growth < 10%).
 *
 * Every request must end with `data: [DONE]` and the usage it asked for; a
 * failed or short one is counted (target: none). The load is a fixed number
 * of requests per level, so the bench stops by itself.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { saveModel, type ModelBundle } from '../src/io/model-dir.js';
import { Gpt } from '../src/models/gpt.js';
import { RnnLm } from '../src/models/rnn.js';
import { initWeights } from '../src/nn/params.js';
import { trainWordLevel } from '../src/tokenizers/word-level.js';

const VOCAB = 65;
const PROMPT = 16;
const NEW_TOKENS = 64;
const LEVELS = [1, 8, 32, 64];
/** Requests per client at each level, at least MIN_REQUESTS in all. */
const REQUESTS_PER_CLIENT = 4;
const MIN_REQUESTS = 12;
const RSS_REQUESTS = 10_000;
const RSS_CLIENTS = 32;
const RSS_NEW_TOKENS = 4;
const MAIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'main.js');

const tokenizer = trainWordLevel([Array.from({ length: VOCAB }, (_, i) => String.fromCharCode(0x21 + i)).join('')], 'char', { specialTokens: [] });
const PROMPT_TEXT = Array.from({ length: PROMPT }, (_, i) => String.fromCharCode(0x21 + ((i * 7) % VOCAB))).join('');

const CONFIGS: Array<{ name: string; bundle: () => ModelBundle }> = [
  {
    name: 'gpt-6x384-ctx256',
    bundle: () => {
      const model = new Gpt({ vocabSize: VOCAB, nPositions: 256, nEmbd: 384, nLayer: 6, nHead: 6, bias: true, dropout: 0, layerNormEps: 1e-5 });
      return { model, weights: initWeights(model.specs, 0), tokenizer };
    },
  },
  {
    name: 'lstm-2x256-emb128',
    bundle: () => {
      const model = new RnnLm({ cell: 'lstm', vocabSize: VOCAB, embeddingDim: 128, hiddenSize: 256, numLayers: 2, dropout: 0, tieWeights: false });
      return { model, weights: initWeights(model.specs, 0), tokenizer };
    },
  },
];

interface RequestStats {
  ok: boolean;
  tokens: number;
  ttftMs: number;
  /** Gaps between consecutive text chunks, ms. */
  gapsMs: number[];
}

/** One streaming completion, timed chunk by chunk; ok only with every chunk, the usage asked for, and [DONE]. */
async function streamOnce(url: string, maxTokens: number, seed: number): Promise<RequestStats> {
  const start = performance.now();
  const stats: RequestStats = { ok: false, tokens: 0, ttftMs: NaN, gapsMs: [] };
  try {
    const res = await fetch(`${url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', prompt: PROMPT_TEXT, max_tokens: maxTokens, temperature: 0.9, seed, stream: true, stream_options: { include_usage: true } }),
    });
    if (res.status !== 200 || !res.body) return stats;
    const decoder = new TextDecoder();
    let buffer = '';
    let last = 0;
    let done = false;
    for await (const bytes of res.body) {
      buffer += decoder.decode(bytes as Uint8Array, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const event = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (!event.startsWith('data: ')) return stats;
        const data = event.slice(6);
        if (data === '[DONE]') {
          done = true;
          continue;
        }
        const chunk = JSON.parse(data) as { choices: Array<{ text: string }>; usage?: { completion_tokens: number } };
        if (chunk.usage) stats.tokens = chunk.usage.completion_tokens;
        if (chunk.choices[0]?.text) {
          const now = performance.now();
          if (last === 0) stats.ttftMs = now - start;
          else stats.gapsMs.push(now - last);
          last = now;
        }
      }
    }
    stats.ok = done && stats.tokens === maxTokens;
  } catch {
    stats.ok = false;
  }
  return stats;
}

/** `clients` loops sending `total` requests between them; wall time and every request's stats. */
async function load(url: string, clients: number, total: number, maxTokens: number): Promise<{ seconds: number; stats: RequestStats[] }> {
  const stats: RequestStats[] = [];
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < total) stats.push(await streamOnce(url, maxTokens, next++));
    }),
  );
  return { seconds: (performance.now() - start) / 1000, stats };
}

const percentile = (xs: number[], p: number): number => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
const round = (x: number, digits = 1) => Number(x.toFixed(digits));

async function rssMb(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('inkwell_process_resident_memory_bytes '));
  if (!line) throw new Error('the server reports no inkwell_process_resident_memory_bytes');
  return Number(line.split(' ')[1]) / 2 ** 20;
}

/** Starts `inkwell serve` on a free port; resolves with its URL once it listens. */
function startServe(dir: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [MAIN, 'serve', '--model', `m=${dir}`, '--port', '0', '--max-batch', '64', '--max-queue', '1024'], { stdio: ['ignore', 'ignore', 'pipe'] });
  return new Promise((found, fail) => {
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      const m = /on (http:\/\/127\.0\.0\.1:\d+)\/v1/.exec(stderr);
      if (m) found({ child, url: m[1]! });
    });
    child.on('close', (code) => fail(new Error(`inkwell serve exited (${code}): ${stderr}`)));
  });
}

export async function benchServe(): Promise<object[]> {
  const results: object[] = [];
  for (const c of CONFIGS) {
    const dir = mkdtempSync(join(tmpdir(), 'inkwell-bench-serve-'));
    try {
      saveModel(dir, c.bundle());
      const { child, url } = await startServe(dir);
      const exited = new Promise((resolve) => child.on('close', resolve));
      try {
        await load(url, 8, 16, NEW_TOKENS); // warm-up: sessions, JIT, ORT's thread pool
        const speeds = new Map<number, number>();
        for (const clients of LEVELS) {
          const { seconds, stats } = await load(url, clients, Math.max(MIN_REQUESTS, clients * REQUESTS_PER_CLIENT), NEW_TOKENS);
          const tokens = stats.reduce((n, s) => n + s.tokens, 0);
          speeds.set(clients, tokens / seconds);
          results.push({
            bench: `serve-${c.name}`,
            clients,
            requests: stats.length,
            failed: stats.filter((s) => !s.ok).length,
            tokens,
            tok_s: round(tokens / seconds),
            ttft_ms_p50: round(percentile(stats.map((s) => s.ttftMs), 50)),
            ttft_ms_p95: round(percentile(stats.map((s) => s.ttftMs), 95)),
            itl_ms_p50: round(percentile(stats.flatMap((s) => s.gapsMs), 50), 2),
            itl_ms_p95: round(percentile(stats.flatMap((s) => s.gapsMs), 95), 2),
          });
          console.error(`serve ${c.name}: ${JSON.stringify(results[results.length - 1])}`);
        }
        const before = await rssMb(url);
        const { seconds, stats } = await load(url, RSS_CLIENTS, RSS_REQUESTS, RSS_NEW_TOKENS);
        const after = await rssMb(url);
        results.push({
          bench: `serve-rss-${c.name}`,
          requests: stats.length,
          failed: stats.filter((s) => !s.ok).length,
          clients: RSS_CLIENTS,
          new_tokens: RSS_NEW_TOKENS,
          seconds: round(seconds),
          rss_mb_before: round(before),
          rss_mb_after: round(after),
          rss_growth_pct: round((100 * (after - before)) / before),
          speedup_32_vs_1: round(speeds.get(32)! / speeds.get(1)!, 2),
        });
      } finally {
        child.kill('SIGTERM');
        await exited;
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return results;
}
