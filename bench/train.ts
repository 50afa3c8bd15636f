/**
 * Training throughput (tokens/s of full optimizer steps through the Trainer:
 * forward, backward, clipping, AdamW) for the configurations issue 4 targets,
 * beside PyTorch's torch_ref.py throughput in the same run, in alternating rounds;
 * ratios, MFU against the measured matmul peak, and peak RSS (each config in its
 * own process).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openTokenSource } from '../src/dataset/token-source.js';
import { Gpt } from '../src/models/gpt.js';
import type { LanguageModel } from '../src/models/lm.js';
import { RnnLm } from '../src/models/rnn.js';
import { countParams, initWeights } from '../src/nn/params.js';
import { trainWordLevel } from '../src/tokenizers/word-level.js';
import { Trainer } from '../src/train/trainer.js';
import { Rng } from '../src/utils/rng.js';
import { benchMatmul } from './matmul.js';
import { bestTorch, torchAvailable } from './torch.js';

interface TrainBenchConfig {
  name: string;
  model: 'gpt' | 'lstm' | 'gru';
  vocab: number;
  ctx: number;
  batch: number;
  layers: number;
  dim: number;
  heads?: number;
  hidden?: number;
  steps: number;
}

export const TRAIN_CONFIGS: TrainBenchConfig[] = [
  { name: 'gpt-4x128-ctx64-b12', model: 'gpt', vocab: 65, ctx: 64, batch: 12, layers: 4, heads: 4, dim: 128, steps: 30 },
  { name: 'gpt-6x384-ctx256-b8', model: 'gpt', vocab: 65, ctx: 256, batch: 8, layers: 6, heads: 6, dim: 384, steps: 6 },
  { name: 'lstm-2x256-emb128-ctx64-b32', model: 'lstm', vocab: 65, ctx: 64, batch: 32, layers: 2, dim: 128, hidden: 256, steps: 20 },
  { name: 'gru-2x256-emb128-ctx64-b32', model: 'gru', vocab: 65, ctx: 64, batch: 32, layers: 2, dim: 128, hidden: 256, steps: 20 },
];

function buildModel(c: TrainBenchConfig): LanguageModel {
  if (c.model === 'gpt') return new Gpt({ vocabSize: c.vocab, nPositions: c.ctx, nEmbd: c.dim, nLayer: c.layers, nHead: c.heads!, bias: true, dropout: 0, layerNormEps: 1e-5 });
  return new RnnLm({ cell: c.model, vocabSize: c.vocab, embeddingDim: c.dim, hiddenSize: c.hidden!, numLayers: c.layers, dropout: 0, tieWeights: false });
}

/** Training FLOPs per token: 6 per weight use (fwd + bwd) plus attention's score and mix matmuls (as nanoGPT's estimate_mfu). */
function flopsPerToken(c: TrainBenchConfig, model: LanguageModel): number {
  if (c.model === 'gpt') {
    const n = countParams(model.specs) - c.vocab * c.dim - c.ctx * c.dim; // embeddings are lookups...
    return 6 * (n + c.vocab * c.dim) + 12 * c.layers * c.dim * c.ctx; // ...but the tied head is a matmul
  }
  const gates = c.model === 'lstm' ? 4 : 3;
  const h = c.hidden!;
  const rnn = Array.from({ length: c.layers }, (_, l) => gates * h * ((l === 0 ? c.dim : h) + h)).reduce((a, b) => a + b, 0);
  return 6 * (rnn + h * c.vocab);
}

/** Runs one config in this process; prints its JSON (called in a child process so peak RSS is its own). */
export async function runOne(c: TrainBenchConfig): Promise<Record<string, unknown>> {
  const model = buildModel(c);
  const dir = mkdtempSync(join(tmpdir(), 'inkwell-bench-'));
  const rng = new Rng(0);
  writeFileSync(join(dir, 'tokens.bin'), Uint16Array.from({ length: 200_000 }, () => rng.int(c.vocab)));
  const tokenizer = trainWordLevel([Array.from({ length: c.vocab }, (_, i) => String.fromCodePoint(0x4e00 + i)).join('')], 'char', { specialTokens: [] });
  const times: number[] = [];
  let last = performance.now();
  const trainer = new Trainer({
    bundle: { model, weights: initWeights(model.specs, 1), tokenizer },
    train: openTokenSource(join(dir, 'tokens.bin'), 'uint16'),
    config: {
      batchSize: c.batch,
      contextLength: c.ctx,
      maxSteps: c.steps + 2,
      optimizer: { name: 'adamw', betas: [0.9, 0.99], weightDecay: 0.1 },
      schedule: { lr: 1e-3 },
      gradClip: 1,
      logInterval: 1,
      sampling: c.model === 'gpt' ? 'random' : 'sequential',
      seed: 1,
    },
    events: {
      onStep: () => {
        const now = performance.now();
        times.push(now - last);
        last = now;
      },
    },
  });
  try {
    await trainer.run();
  } finally {
    await trainer.release();
    rmSync(dir, { recursive: true, force: true });
  }
  const steady = times.slice(2).sort((a, b) => a - b); // the first steps compile the graph and warm up
  const stepMs = steady[Math.floor(steady.length / 2)]!;
  return {
    params: countParams(model.specs),
    step_ms: stepMs,
    train_tok_s: (c.batch * c.ctx) / (stepMs / 1000),
    flops_per_token: flopsPerToken(c, model),
    peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
  };
}

/** Rounds per config, ours then PyTorch's in each, so a drift of this shared machine's speed reaches both alike; the ratio is the median of the rounds' ratios. */
const ROUNDS = 3;

export async function benchTrain(names?: string[]): Promise<object[]> {
  const peak = (await benchMatmul(1024)).gflops_best as number;
  const noTorch = torchAvailable();
  const results: object[] = [];
  for (const c of TRAIN_CONFIGS.filter((x) => !names?.length || names.includes(x.name))) {
    const script = fileURLToPath(import.meta.url);
    const torchArgs = ['throughput', '--model', c.model, '--vocab', String(c.vocab), '--ctx', String(c.ctx), '--batch', String(c.batch), '--layers', String(c.layers), '--dim', String(c.dim), '--iters', String(Math.max(3, Math.ceil(c.steps / 2)))];
    if (c.heads) torchArgs.push('--heads', String(c.heads));
    if (c.hidden) torchArgs.push('--hidden', String(c.hidden));
    const rounds = Array.from({ length: noTorch ? 1 : ROUNDS }, () => {
      const ours = JSON.parse(execFileSync(process.execPath, [script, c.name], { encoding: 'utf8' }).trim()) as Record<string, number>;
      return { ours, torch: noTorch ? undefined : bestTorch(torchArgs, 'train_tok_s') };
    });
    const ours = rounds.map((r) => r.ours).sort((a, b) => a.train_tok_s! - b.train_tok_s!)[Math.floor(rounds.length / 2)]!;
    const mfu = (ours.train_tok_s! * ours.flops_per_token!) / (peak * 1e9);
    const row: Record<string, unknown> = { bench: 'train', config: c.name, inkwell: ours, mfu, matmul_peak_gflops: peak };
    if (noTorch) row.pytorch = { skipped: noTorch };
    else {
      const ratios = rounds.map((r) => r.ours.train_tok_s! / (r.torch!.train_tok_s as number));
      row.pytorch = rounds.map((r) => r.torch!).sort((a, b) => (a.train_tok_s as number) - (b.train_tok_s as number))[Math.floor(rounds.length / 2)];
      row.speedup = [...ratios].sort((a, b) => a - b)[Math.floor(ratios.length / 2)];
      row.speedup_rounds = ratios.map((r) => Math.round(r * 100) / 100);
      row.inkwell_tok_s_rounds = rounds.map((r) => Math.round(r.ours.train_tok_s!));
    }
    results.push(row);
  }
  return results;
}

// Child-process entry: `node dist/bench/train.js <config name>`.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const c = TRAIN_CONFIGS.find((x) => x.name === process.argv[2]);
  if (!c) throw new Error(`unknown train bench config ${process.argv[2]}`);
  console.log(JSON.stringify(await runOne(c)));
}
