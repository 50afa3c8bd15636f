/**
 * The char-gpt quality run of issue 4: nanoGPT's baby shakespeare_char recipe
 * (`inkwell train --preset char-gpt`, 2,000 steps) beside `torch_ref.py train`
 * with the same recipe, seed by seed. Each pair runs at the same time on one
 * thread apiece, so both wall times come from the same machine state; a
 * single run's validation loss (20 batches, as nanoGPT estimates it) moves by
 * ±0.02 from seed to seed, so the summary gives mean and spread.
 * `npm run bench -- quality [seeds]` (default 3); needs tiny shakespeare.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { runTorchAsync, SHARED_DATA, torchAvailable } from './torch.js';

const run = promisify(execFile);
const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'main.js');
const DATA = join(SHARED_DATA, 'tinyshakespeare', 'input.txt');
const SEEDS = [1337, 1, 2, 3, 4];

async function inkwell(seed: number): Promise<{ val_loss: number; train_loss: number; wall_s: number }> {
  const out = mkdtempSync(join(tmpdir(), 'inkwell-quality-'));
  try {
    const t0 = performance.now();
    await run(process.execPath, [CLI, 'train', '--preset', 'char-gpt', '--corpus', DATA, '--seed', String(seed), '--threads', '1', '--out', out], { maxBuffer: 1 << 26 });
    const wall = (performance.now() - t0) / 1000;
    const rows = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>);
    const last = rows.filter((r) => r.val_loss !== undefined).at(-1)!;
    const train = rows.filter((r) => r.loss !== undefined).at(-1)!;
    return { val_loss: last.val_loss!, train_loss: train.loss!, wall_s: wall };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

async function torch(seed: number): Promise<{ val_loss: number; train_loss: number; wall_s: number }> {
  const t0 = performance.now();
  const r = await runTorchAsync(['train', '--data', DATA, '--iters', '2000', '--seed', String(seed)], 1);
  return { val_loss: r.val_loss as number, train_loss: r.train_loss as number, wall_s: (performance.now() - t0) / 1000 };
}

const stats = (xs: number[]) => {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  return { mean, std: Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, xs.length - 1)), min: Math.min(...xs), max: Math.max(...xs) };
};

export async function benchQuality(args: string[]): Promise<object[]> {
  if (!existsSync(DATA)) return [{ bench: 'quality-char-gpt', skipped: `no ${DATA}` }];
  const n = Math.min(SEEDS.length, Number(args[0] ?? 3));
  const noTorch = torchAvailable();
  const rows: object[] = [];
  const ours: number[] = [];
  const theirs: number[] = [];
  for (const seed of SEEDS.slice(0, n)) {
    const [a, b] = await Promise.all([inkwell(seed), noTorch ? Promise.resolve(null) : torch(seed)]);
    ours.push(a.val_loss);
    if (b) theirs.push(b.val_loss);
    rows.push({ bench: 'quality-char-gpt', seed, inkwell: a, pytorch: b ?? { skipped: noTorch }, ...(b ? { wall_ratio: b.wall_s / a.wall_s } : {}) });
  }
  rows.push({ bench: 'quality-char-gpt-summary', seeds: n, target_val_loss: 1.88, inkwell_val_loss: stats(ours), ...(theirs.length ? { pytorch_val_loss: stats(theirs) } : {}) });
  return rows;
}
