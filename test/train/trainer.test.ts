/** The trainer on a tiny GPT: learning, evaluation, best model, resume, divergence and early stopping. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Gpt } from '../../src/models/gpt.js';
import { initWeights } from '../../src/nn/params.js';
import { loadModel } from '../../src/io/model-dir.js';
import { Trainer, type TrainConfig } from '../../src/train/trainer.js';
import { tinyCorpus, tmpDir } from '../helpers/corpus.js';

const corpus = tinyCorpus();
const model = (dropout = 0) =>
  new Gpt({ vocabSize: corpus.tokenizer.vocabSize, nPositions: 16, nEmbd: 32, nLayer: 2, nHead: 2, bias: true, dropout, layerNormEps: 1e-5 });
const bundle = (dropout = 0) => {
  const m = model(dropout);
  return { model: m, weights: initWeights(m.specs, 42), tokenizer: corpus.tokenizer };
};
const base: TrainConfig = {
  batchSize: 8,
  contextLength: 16,
  maxSteps: 80,
  optimizer: { name: 'adamw', betas: [0.9, 0.99], weightDecay: 0.1 },
  schedule: { lr: 1e-2, warmupSteps: 5, decay: 'cosine', decaySteps: 80, minLr: 1e-3 },
  gradClip: 1,
  evalInterval: 20,
  evalBatches: 4,
  logInterval: 1,
  seed: 7,
  threads: 1,
};

test('training a tiny GPT lowers train and validation loss, keeps the best model and writes metrics', async () => {
  const out = tmpDir();
  const losses: number[] = [];
  const vals: number[] = [];
  const t = new Trainer({ bundle: bundle(), train: corpus.train, val: corpus.val, config: base, outDir: out, events: { onStep: (s) => losses.push(s.loss), onEval: (e) => vals.push(e.valLoss) } });
  const r = await t.run();
  await t.release();
  assert.equal(r.steps, 80);
  assert.ok(losses[0]! > 2.5, `initial loss ${losses[0]} should be near ln(vocab)`);
  assert.ok(r.finalTrainLoss < 1.9, `final train loss ${r.finalTrainLoss} (${losses.filter((_, i) => i % 10 === 0).map((l) => l.toFixed(2)).join(' ')})`);
  assert.equal(vals.length, 4);
  assert.ok(vals[3]! < vals[0]!, `val loss ${vals.join(' → ')}`);
  assert.equal(r.bestValLoss, Math.min(...vals));
  const best = loadModel(path.join(out, 'best'));
  assert.equal(best.model.configJson().n_layer, 2);
  const saved = loadModel(out);
  assert.equal(saved.metadata.step, '80');
  const metrics = fs.readFileSync(path.join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(metrics.filter((m) => 'loss' in m).length, 80);
  assert.equal(metrics.filter((m) => 'val_loss' in m).length, 4);
});

test('a resumed run continues the same loss curve as an uninterrupted one (with dropout)', async () => {
  const config: TrainConfig = { ...base, maxSteps: 10, evalInterval: 0, checkpointInterval: 5 };
  const record = async (t: Trainer) => {
    const l: number[] = [];
    (t as unknown as { o: { events: object } }).o.events = { onStep: (s: { loss: number }) => l.push(s.loss) };
    await t.run();
    await t.release();
    return l;
  };
  const straight = await record(new Trainer({ bundle: bundle(0.1), train: corpus.train, config, outDir: tmpDir() }));

  const out = tmpDir();
  const first = await record(new Trainer({ bundle: bundle(0.1), train: corpus.train, config: { ...config, maxSteps: 5 }, outDir: out }));
  const second = await record(Trainer.resume(out, { train: corpus.train }, undefined, { maxSteps: 10 }));
  assert.deepEqual([...first, ...second], straight);
  const lines = fs.readFileSync(path.join(out, 'metrics.jsonl'), 'utf8').trim().split('\n');
  assert.deepEqual(lines.map((l) => JSON.parse(l).step), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
});

test('divergence stops with a clear message and leaves the last good checkpoint', async () => {
  const out = tmpDir();
  const config: TrainConfig = { ...base, optimizer: { name: 'sgd' }, schedule: { lr: 1e30 }, gradClip: 0, checkpointInterval: 1, evalInterval: 0 };
  const t = new Trainer({ bundle: bundle(), train: corpus.train, config, outDir: out });
  await assert.rejects(t.run(), /training diverged: the loss or gradients became NaN\/inf at step \d+; the last good checkpoint is in/);
  const saved = loadModel(out);
  for (const w of saved.weights.values()) assert.ok(w.every(Number.isFinite));
});

test('early stopping ends the run after `patience` evaluations without improvement', async () => {
  const config: TrainConfig = { ...base, schedule: { lr: 0 }, evalInterval: 1, patience: 2, maxSteps: 50 };
  const t = new Trainer({ bundle: bundle(), train: corpus.train, val: corpus.val, config });
  const r = await t.run();
  assert.ok(r.stoppedEarly);
  assert.equal(r.steps, 3);
});
