/** Fine-tuning a tiny pretrained GPT on a new corpus: frozen parameters, layer-wise lr, LoRA outputs, the forgetting report and errors. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { readCorpus } from '../../src/corpus/corpus.js';
import { prepareTokenCache } from '../../src/dataset/token-cache.js';
import { finetune, resumeFinetune } from '../../src/finetune/finetune.js';
import { findRunData } from '../../src/train/run-dir.js';
import { layerOf, planLayers } from '../../src/finetune/layers.js';
import { loadModel, saveModel } from '../../src/io/model-dir.js';
import { readSafetensors } from '../../src/io/safetensors.js';
import { Gpt } from '../../src/models/gpt.js';
import { initWeights } from '../../src/nn/params.js';
import { Trainer, type TrainConfig } from '../../src/train/trainer.js';
import { InkwellError } from '../../src/utils/errors.js';
import { syntheticText, tinyCorpus, tmpDir } from '../helpers/corpus.js';

const corpus = tinyCorpus(200);
const gpt = new Gpt({ vocabSize: corpus.tokenizer.vocabSize, nPositions: 16, nEmbd: 16, nLayer: 2, nHead: 2, bias: true, dropout: 0, layerNormEps: 1e-5 });
const config: TrainConfig = {
  batchSize: 4,
  contextLength: 16,
  maxSteps: 6,
  optimizer: { name: 'adamw', weightDecay: 0.1 },
  schedule: { lr: 1e-2 },
  evalInterval: 3,
  evalBatches: 2,
  logInterval: 1,
  seed: 3,
  threads: 1,
};

/** A "pretrained" run directory: model files plus its token cache in data/. */
function pretrainedRun(): string {
  const dir = tmpDir();
  const docs = readCorpus(corpus.dir);
  saveModel(dir, { model: gpt, weights: initWeights(gpt.specs, 1), tokenizer: corpus.tokenizer });
  prepareTokenCache(docs, corpus.tokenizer, path.join(dir, 'data'), { valFraction: 0.2 });
  return dir;
}

test('layer plan: depth of GPT and RNN names, frozen layers and lr·d^(L−1−i)', () => {
  assert.equal(layerOf('transformer.wte.weight', 4), -1);
  assert.equal(layerOf('transformer.h.2.mlp.c_fc.weight', 4), 2);
  assert.equal(layerOf('transformer.h.3.attn.c_attn.lora_A.weight', 4), 3);
  assert.equal(layerOf('transformer.ln_f.weight', 4), 4);
  assert.equal(layerOf('rnn.weight_hh_l1', 2), 1);
  assert.equal(layerOf('score.weight', 2), 2);
  const names = Object.keys(gpt.specs);
  const plan = planLayers(names, 2, { freezeEmbeddings: true, freezeLayers: 1, layerLrDecay: 0.5 });
  assert.ok(!plan.trainable.some((n) => n.startsWith('transformer.h.0.') || n.includes('wte') || n.includes('wpe')));
  assert.equal(plan.lrScale['transformer.h.1.ln_1.weight'], 1);
  assert.equal(planLayers(names, 2, { layerLrDecay: 0.5 }).lrScale['transformer.h.0.ln_1.weight'], 0.5);
  assert.equal(planLayers(names, 2, { layerLrDecay: 0.5 }).lrScale['transformer.wte.weight'], 0.25);
  assert.equal(plan.lrScale['transformer.ln_f.weight'], 1);
  assert.throws(() => planLayers(names, 2, { freezeLayers: 3 }), /--freeze-layers must be an integer in \[0, 2\]/);
});

test('frozen parameters do not change; trained ones do, and the optimizer keeps slots for them only', async () => {
  const weights = initWeights(gpt.specs, 1);
  const before = new Map([...weights].map(([k, v]) => [k, Float32Array.from(v)]));
  const { trainable, lrScale } = planLayers(Object.keys(gpt.specs), 2, { freezeEmbeddings: true, freezeLayers: 1, layerLrDecay: 0.8 });
  const t = new Trainer({ bundle: { model: gpt, weights, tokenizer: corpus.tokenizer }, train: corpus.train, config: { ...config, evalInterval: 0, trainable, lrScale } });
  await t.run();
  await t.release();
  for (const [name, w] of weights) {
    const changed = w.some((v, i) => v !== before.get(name)![i]);
    assert.equal(changed, trainable.includes(name), `${name} ${changed ? 'changed' : 'did not change'}`);
  }
  const adamBytes = trainable.reduce((n, k) => n + weights.get(k)!.length * 8, 0);
  assert.equal(t.optimizerBytes, adamBytes);
});

test('LoRA fine-tuning reports trainable share, optimizer memory, both domains, and writes PEFT adapter files and a merged model', async () => {
  const from = pretrainedRun();
  const newCorpus = tmpDir();
  fs.writeFileSync(path.join(newCorpus, 'new.txt'), syntheticText(300, 9));
  const out = tmpDir();
  const report = await finetune({ from, docs: readCorpus(newCorpus), outDir: out, train: config, valFraction: 0.2, lora: { r: 2, alpha: 4, targetModules: ['c_attn', 'c_fc'] }, merge: true });
  assert.equal(report.method, 'lora');
  assert.equal(report.parameters.trainable, 2 * (2 * 16 + 48 * 2 + 2 * 16 + 64 * 2));
  assert.equal(report.optimizerBytes, report.parameters.trainable * 8);
  assert.ok(report.originalDomain && Number.isFinite(report.originalDomain.before) && Number.isFinite(report.originalDomain.after));
  assert.ok(report.newDomain.after <= report.newDomain.before, `${report.newDomain.before} → ${report.newDomain.after}`);
  const adapter = readSafetensors(path.join(out, 'adapter', 'adapter_model.safetensors'));
  assert.ok(adapter.tensors.has('base_model.model.transformer.h.0.attn.c_attn.lora_A.weight'));
  assert.equal(JSON.parse(fs.readFileSync(path.join(out, 'adapter', 'adapter_config.json'), 'utf8')).peft_type, 'LORA');
  const merged = loadModel(path.join(out, 'merged'));
  assert.ok(merged.model instanceof Gpt);
  assert.ok(loadModel(path.join(out, 'best')).weights.has('transformer.h.1.mlp.c_fc.lora_B.weight'), 'a LoRA run directory reloads');
  assert.match(fs.readFileSync(path.join(out, 'finetune_report.md'), 'utf8'), /original domain \(forgetting\)/);
  // The base weights inside the LoRA run stay exactly the pretrained ones.
  const base = loadModel(from);
  const best = loadModel(path.join(out, 'best'));
  for (const [k, v] of base.weights) assert.deepEqual(best.weights.get(k), v, k);
});

test('the original token cache is found beside a run or above its best/; a missing --from is a clear error', async () => {
  const from = pretrainedRun();
  assert.equal(findRunData(from), path.join(from, 'data'));
  assert.equal(findRunData(path.join(from, 'best')), path.join(from, 'best', '..', 'data'));
  await assert.rejects(finetune({ from: path.join(from, 'nope'), docs: [], outDir: tmpDir(), train: config }), (e: Error) => e instanceof InkwellError && /^--from .*nope does not exist/.test(e.message));
});

test('an interrupted LoRA fine-tune resumes from its checkpoint to the weights, adapter and report of an uninterrupted one', async () => {
  const from = pretrainedRun();
  const newCorpus = tmpDir();
  fs.writeFileSync(path.join(newCorpus, 'new.txt'), syntheticText(300, 9));
  const o = { from, docs: readCorpus(newCorpus), train: { ...config, checkpointInterval: 3 }, valFraction: 0.2, lora: { r: 2, alpha: 4, targetModules: ['c_attn'] } };
  const whole = tmpDir();
  const ref = await finetune({ ...o, outDir: whole });
  const cut = tmpDir();
  // The process "dies" right after the step-3 checkpoint is committed.
  await assert.rejects(finetune({ ...o, outDir: cut, events: { onCheckpoint: (s) => { if (s === 3) throw new Error('killed'); } } }), /killed/);
  assert.ok(!fs.existsSync(path.join(cut, 'finetune_report.json')));
  const resumed = await resumeFinetune(cut, { threads: 1 });
  for (const f of ['model.safetensors', 'optimizer.safetensors', 'best/model.safetensors', 'adapter/adapter_model.safetensors']) {
    assert.deepEqual(fs.readFileSync(path.join(cut, f)), fs.readFileSync(path.join(whole, f)), f);
  }
  assert.deepEqual(resumed.newDomain, ref.newDomain);
  assert.deepEqual(resumed.originalDomain, ref.originalDomain);
  assert.equal(resumed.result.steps, ref.result.steps);
  // A second finetune into either directory is refused; the run file is checked field by field.
  await assert.rejects(finetune({ ...o, outDir: whole }), /already holds a run.*/);
  fs.writeFileSync(path.join(cut, 'finetune_run.json'), JSON.stringify({ ...JSON.parse(fs.readFileSync(path.join(cut, 'finetune_run.json'), 'utf8')), newBefore: 'NaN' }));
  await assert.rejects(resumeFinetune(cut), (e: Error) => e instanceof InkwellError && /finetune_run\.json: field 'newBefore'/.test(e.message));
  await assert.rejects(resumeFinetune(tmpDir()), /no fine-tuning run there/);
});
