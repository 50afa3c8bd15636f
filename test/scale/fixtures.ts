/**
 * Run directories trained by both engines, for the PyTorch scale-out tests:
 * a tiny corpus, a run made as `inkwell train` makes it (tokenizer, token
 * cache, run.json, initial weights), forks of it, and training a fork for a
 * number of steps in inkwell or in PyTorch (CPU, gloo on loopback).
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { readCorpus } from '../../src/corpus/corpus.js';
import { openTokenCacheSplit } from '../../src/dataset/token-cache.js';
import { loadModel } from '../../src/io/model-dir.js';
import { decodeSafetensors } from '../../src/io/safetensors.js';
import { newRun } from '../../src/train/pipeline.js';
import type { ModelSpec, RunSpec } from '../../src/train/presets.js';
import { Trainer, type TrainConfig } from '../../src/train/trainer.js';
import { findTorchPython, launchTorchRun, writeTorchRun, type LaunchOptions } from '../../src/scale/torch-run.js';
import { saveModel } from '../../src/io/model-dir.js';
import { errorMessage } from '../../src/utils/errors.js';
import { syntheticText, tmpDir } from '../helpers/corpus.js';

/** false when a Python with PyTorch is there; else why the tests skip. */
export const noTorch: string | false = (() => {
  try {
    findTorchPython();
    return false;
  } catch (err) {
    return `PyTorch is not installed (${errorMessage(err)})`;
  }
})();

export const TINY_GPT: ModelSpec = { type: 'gpt', nPositions: 32, nEmbd: 32, nLayer: 2, nHead: 2, bias: true, dropout: 0, layerNormEps: 1e-5 };
export const TINY_LSTM: ModelSpec = { type: 'rnn', cell: 'lstm', embeddingDim: 16, hiddenSize: 24, numLayers: 2, dropout: 0, tieWeights: false };

/** A fresh run directory at step 0: what `inkwell train --engine torch` prepares before PyTorch starts. */
export function makeRun(model: ModelSpec, train: Partial<TrainConfig>, sentences = 300): string {
  const dir = tmpDir('inkwell-scale-');
  const corpus = path.join(dir, 'corpus');
  fs.mkdirSync(corpus);
  fs.writeFileSync(path.join(corpus, 'a.txt'), syntheticText(sentences, 1));
  fs.writeFileSync(path.join(corpus, 'b.txt'), syntheticText(Math.ceil(sentences / 3), 2));
  const spec: RunSpec = {
    tokenizer: { type: 'char' },
    model,
    valFraction: 0.2,
    train: {
      batchSize: 4,
      contextLength: 16,
      maxSteps: 10,
      optimizer: { name: 'adamw', betas: [0.9, 0.99], weightDecay: 0.1 },
      schedule: { lr: 3e-3, warmupSteps: 3, decay: 'cosine', decaySteps: 60, minLr: 3e-4 },
      gradClip: 1,
      evalInterval: 10,
      evalBatches: 2,
      logInterval: 1,
      seed: 11,
      threads: 1,
      ...train,
    },
  };
  const run = path.join(dir, 'run');
  const { bundle } = newRun(spec, readCorpus(corpus), run);
  saveModel(run, bundle);
  return run;
}

/** A copy of a run directory, to train it differently. */
export function fork(run: string): string {
  const dir = path.join(tmpDir('inkwell-scale-fork-'), 'run');
  fs.cpSync(run, dir, { recursive: true });
  return dir;
}

/** Trains the run in inkwell up to step `maxSteps` (resuming its checkpoint when it has one). */
export async function trainInkwell(run: string, maxSteps: number): Promise<void> {
  const { tokenizer } = loadModel(run);
  const data = { train: openTokenCacheSplit(path.join(run, 'data'), 'train', tokenizer), val: openTokenCacheSplit(path.join(run, 'data'), 'val', tokenizer) };
  let trainer: Trainer;
  if (fs.existsSync(path.join(run, 'trainer_state.json'))) {
    trainer = Trainer.resume(run, data, undefined, { maxSteps });
  } else {
    const spec = JSON.parse(fs.readFileSync(path.join(run, 'run.json'), 'utf8')) as RunSpec;
    trainer = new Trainer({ bundle: loadModel(run), ...data, config: { ...spec.train, maxSteps }, outDir: run });
  }
  try {
    await trainer.run();
  } finally {
    await trainer.release();
  }
}

/** Trains the run in PyTorch up to step `maxSteps`, on the CPU; `launch` may ask for several processes. */
export async function trainTorch(run: string, maxSteps: number, launch: LaunchOptions = {}): Promise<string> {
  const folder = writeTorchRun(run, path.join(run, 'torch'), { overrides: { maxSteps }, device: 'cpu' });
  const { output } = await launchTorchRun(folder, { stdio: 'pipe', env: { ...process.env, GLOO_SOCKET_IFNAME: 'lo', OMP_NUM_THREADS: '1' }, ...launch });
  return output;
}

/** The training loss of each logged step, from metrics.jsonl. */
export function losses(run: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const line of fs.readFileSync(path.join(run, 'metrics.jsonl'), 'utf8').split('\n')) {
    if (!line) continue;
    const r = JSON.parse(line) as { step: number; loss?: number };
    if (r.loss !== undefined) out.set(r.step, r.loss);
  }
  return out;
}

/** Tensors of a safetensors file in the run directory (model.safetensors, optimizer.safetensors). */
export function tensors(run: string, file: string): Map<string, Float32Array> {
  const p = path.join(run, file);
  return new Map([...decodeSafetensors(fs.readFileSync(p), p).tensors].map(([k, t]) => [k, t.data]));
}

/** Largest |a − b| of a tensor over its largest |b|: a relative error that ignores near-zero entries' noise. */
/**
 * ‖a − b‖ / ‖b‖ over a whole tensor, and the largest single difference against
 * the tensor's largest entry. Adam divides each update by that element's own
 * gradient scale, so float32 rounding in a small gradient moves one element a
 * little further in one engine than the other: the norm says whether the
 * engines trained the same tensor, the elementwise figure bounds the outlier.
 */
export function relativeError(a: Float32Array, b: Float32Array): { norm: number; max: number } {
  let diff = 0;
  let scale = 0;
  let d2 = 0;
  let b2 = 0;
  for (let i = 0; i < b.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    diff = Math.max(diff, d);
    scale = Math.max(scale, Math.abs(b[i]!));
    d2 += d * d;
    b2 += b[i]! * b[i]!;
  }
  return { norm: Math.sqrt(d2 / (b2 || 1)), max: diff / (scale || 1) };
}

/** A TCP port free on 127.0.0.1 right now (for torchrun's static rendezvous). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}
