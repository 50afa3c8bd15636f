/**
 * The browser side's core, checked without a browser: the bundles import no
 * Node module (and the check does catch one), the model files and zip round
 * trip, and the in-tab trainer resumes a snapshot exactly (run here on
 * onnxruntime-node through the same runtime interface).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { bundle, nodeImports, repoRoot } from '../../web/build.js';
import { StepTrainer } from '../../web/src/lib/step-trainer.js';
import { unzipModel, zipModel } from '../../web/src/lib/zip.js';
import { bundleFromFiles, modelFiles } from '../../src/io/model-files.js';
import { builtApp } from './browser.js';

const TEXT = 'It is a truth universally acknowledged, that a single man in possession of a good fortune, must be in want of a wife. '.repeat(4);

test('the browser bundles pull the core from src/ and no Node module', async () => {
  const { metafile } = await builtApp();
  assert.deepEqual(nodeImports(metafile), []);
  const inputs = Object.keys(metafile.inputs);
  for (const core of [
    'src/graph/autodiff.ts', 'src/graph/onnx.ts', 'src/models/gpt.ts', 'src/models/rnn.ts', 'src/tokenizers/word-level.ts', 'src/tokenizers/bpe.ts',
    'src/train/optimizers.ts', 'src/generate/sampling.ts', 'src/generate/decoders.ts', 'src/io/safetensors-codec.ts', 'src/runtime/session.ts', 'src/runtime/ort-backend.web.ts',
  ]) {
    assert.ok(inputs.includes(core), `${core} is bundled`);
  }
  assert.ok(!inputs.includes('src/runtime/ort-backend.ts'), 'the Node ONNX Runtime host stays out');
  assert.ok(!inputs.some((f) => f.includes('onnxruntime-node')), 'onnxruntime-node stays out');
});

test('the bundle check names a module that imports a Node built-in', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inkwell-probe-'));
  try {
    const entry = path.join(dir, 'probe.ts');
    fs.writeFileSync(entry, `import { loadModel } from ${JSON.stringify(path.join(repoRoot(), 'src/io/model-dir.ts'))};\nconsole.log(loadModel);\n`);
    const found = nodeImports(await bundle({ probe: entry }, path.join(dir, 'out')));
    assert.ok(found.includes('src/io/model-dir.ts imports node:fs'), found.join('\n'));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('model files → zip → files → bundle round trip, and bad zips are named', async () => {
  const t = await StepTrainer.create('char-gpt', TEXT, { threads: 1 });
  try {
    const files = modelFiles(t.bundle);
    const back = bundleFromFiles(unzipModel(zipModel(files), 'model.zip'), 'model.zip');
    assert.deepEqual(back.model.configJson(), t.bundle.model.configJson());
    assert.equal(back.tokenizer.hash(), t.bundle.tokenizer.hash());
    for (const [name, w] of t.bundle.weights) assert.deepEqual(back.weights.get(name), w, name);
    assert.throws(() => unzipModel(new Uint8Array([1, 2, 3]), 'junk.zip'), /junk\.zip is not a zip file/);
    const noWeights = new Map(files);
    noWeights.delete('model.safetensors');
    assert.throws(() => bundleFromFiles(noWeights, 'x.zip'), /x\.zip: model\.safetensors is missing/);
    const badConfig = new Map(files).set('config.json', '{"model_type": "gpt2",');
    assert.throws(() => bundleFromFiles(badConfig, 'x.zip'), /x\.zip\/config\.json is not valid JSON/);
  } finally {
    await t.release();
  }
});

for (const recipe of ['char-gpt', 'char-lstm']) {
  test(`${recipe}: a restored snapshot continues exactly where training was`, async () => {
    const a = await StepTrainer.create(recipe, TEXT, { seed: 3, threads: 1 });
    const losses: number[] = [];
    for (let i = 0; i < 6; i++) losses.push((await a.next()).loss);
    assert.ok(losses.every(Number.isFinite));
    // IndexedDB stores a structured clone.
    const b = await StepTrainer.restore(structuredClone(a.snapshot()), { threads: 1 });
    try {
      assert.equal(b.currentStep, 6);
      assert.deepEqual(b.lossHistory.map(([, l]) => l), losses);
      for (let i = 0; i < 3; i++) assert.equal((await b.next()).loss, (await a.next()).loss);
      for (const [name, w] of a.bundle.weights) assert.deepEqual(b.bundle.weights.get(name), w, name);
    } finally {
      await a.release();
      await b.release();
    }
  });
}

test('the trainer refuses a text too short for a batch, and an unknown recipe', async () => {
  await assert.rejects(StepTrainer.create('char-gpt', 'too short'), /the text has 9 characters; this model needs at least 265/);
  await assert.rejects(StepTrainer.create('char-xl', TEXT), /unknown recipe 'char-xl'/);
});
