/**
 * Samples at each evaluation: written to samples.jsonl and told to onSample,
 * seeded (the same run writes the same text), and invisible to training: the
 * same seed gives the same losses and weights with and without them, dropout
 * included; a resume cuts samples.jsonl back to the checkpoint as it does
 * metrics.jsonl.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Gpt } from '../../src/models/gpt.js';
import { initWeights } from '../../src/nn/params.js';
import { loadModel } from '../../src/io/model-dir.js';
import { SAMPLES_FILE, Trainer, type SampleInfo, type SampleOptions, type TrainConfig } from '../../src/train/trainer.js';
import { tinyCorpus, tmpDir } from '../helpers/corpus.js';

const corpus = tinyCorpus();
const bundle = () => {
  const m = new Gpt({ vocabSize: corpus.tokenizer.vocabSize, nPositions: 16, nEmbd: 32, nLayer: 2, nHead: 2, bias: true, dropout: 0.1, layerNormEps: 1e-5 });
  return { model: m, weights: initWeights(m.specs, 42), tokenizer: corpus.tokenizer };
};
const config: TrainConfig = {
  batchSize: 8,
  contextLength: 16,
  maxSteps: 30,
  optimizer: { name: 'adamw' },
  schedule: { lr: 1e-2 },
  evalInterval: 10,
  evalBatches: 2,
  logInterval: 1,
  seed: 3,
  threads: 1,
};

interface Record {
  step: number;
  loss?: number;
  val_loss?: number;
  lr?: number;
  grad_norm?: number;
}

/** What of metrics.jsonl does not depend on the clock. */
const curve = (out: string) =>
  fs.readFileSync(path.join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => {
    const r = JSON.parse(l) as Record;
    return [r.step, r.loss, r.val_loss, r.lr, r.grad_norm];
  });

async function train(out: string, samples?: SampleOptions, maxSteps = config.maxSteps): Promise<SampleInfo[]> {
  const told: SampleInfo[] = [];
  const t = new Trainer({ bundle: bundle(), train: corpus.train, val: corpus.val, config: { ...config, maxSteps, checkpointInterval: 10 }, outDir: out, samples, events: { onSample: (s) => told.push(s) } });
  await t.run();
  await t.release();
  return told;
}

const readSamples = (out: string) => fs.readFileSync(path.join(out, SAMPLES_FILE), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as SampleInfo & { temperature: number; seed: number });

test('a sample after each evaluation goes to samples.jsonl and onSample, and changes nothing of the training', async () => {
  const plain = tmpDir();
  const sampled = tmpDir();
  const again = tmpDir();
  assert.deepEqual(await train(plain), []);
  assert.equal(fs.existsSync(path.join(plain, SAMPLES_FILE)), false, 'no samples unless asked for');
  const told = await train(sampled, { maxNewTokens: 40 });
  assert.deepEqual(curve(sampled), curve(plain));
  const a = loadModel(plain).weights;
  for (const [name, w] of loadModel(sampled).weights) assert.deepEqual(w, a.get(name), name);

  const written = readSamples(sampled);
  assert.deepEqual(written.map((s) => s.step), [10, 20, 30]);
  assert.deepEqual(told.map((s) => [s.step, s.prompt, s.text]), written.map((s) => [s.step, s.prompt, s.text]));
  for (const s of written) {
    assert.equal(s.tokens, 40);
    assert.ok(s.text.length > 0 && s.prompt.length > 0, JSON.stringify(s));
    assert.equal(s.seed, config.seed);
  }
  // The opening of the validation data is the default prompt.
  const opening = new Int32Array(32);
  corpus.val.read(0, 32, opening, 0);
  assert.ok(corpus.tokenizer.decode([...opening]).startsWith(written[0]!.prompt));
  // Seeded: the same run writes the same samples.
  await train(again, { maxNewTokens: 40 });
  assert.deepEqual(readSamples(again).map((s) => s.text), written.map((s) => s.text));
});

test('a given prompt is continued, and a resume keeps only the samples its checkpoint covers', async () => {
  const out = tmpDir();
  const samples = { maxNewTokens: 12, prompt: 'the ' };
  await train(out, samples, 20);
  // The lost tail of a killed run: a sample written after the last checkpoint.
  fs.appendFileSync(path.join(out, SAMPLES_FILE), JSON.stringify({ step: 25, prompt: 'the ', text: 'lost', tokens: 1 }) + '\n');
  const resumed = Trainer.resume(out, { train: corpus.train, val: corpus.val }, undefined, { maxSteps: 30 }, undefined, samples);
  await resumed.run();
  await resumed.release();
  const written = readSamples(out);
  assert.deepEqual(written.map((s) => s.step), [10, 20, 30]);
  assert.ok(written.every((s) => s.prompt === 'the ' && s.tokens === 12));
});
