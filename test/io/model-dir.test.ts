/** Saved model directories: weights load on first use, and until then decoders read them from the file through ORT. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadModel, saveModel } from '../../src/io/model-dir.js';
import { Gpt } from '../../src/models/gpt.js';
import { RnnLm } from '../../src/models/rnn.js';
import type { LanguageModel } from '../../src/models/lm.js';
import { initWeights } from '../../src/nn/params.js';
import { createDecoder } from '../../src/generate/decoders.js';
import { trainWordLevel } from '../../src/tokenizers/word-level.js';

// Nine characters and the <unk> every char vocabulary holds: ten ids.
const tokenizer = trainWordLevel(['abcdefghi'], 'char', { specialTokens: [] });
const ids = Int32Array.from([1, 4, 2, 8, 5]);

async function logitsOf(bundle: Parameters<typeof createDecoder>[0]): Promise<Float32Array> {
  const dec = await createDecoder(bundle, 1, { threads: 1 });
  try {
    return await dec.feed(ids);
  } finally {
    await dec.release();
  }
}

for (const model of [
  new Gpt({ vocabSize: 10, nPositions: 8, nEmbd: 16, nLayer: 2, nHead: 2, bias: true, dropout: 0, layerNormEps: 1e-5 }),
  new RnnLm({ cell: 'gru', vocabSize: 10, embeddingDim: 8, hiddenSize: 12, numLayers: 2, dropout: 0, tieWeights: false }),
] as LanguageModel[]) {
  test(`${model.kind}: a decoder over the unread file gives the in-memory weights' logits; reading the weights ends the file's use`, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inkwell-md-'));
    const weights = initWeights(model.specs, 2);
    saveModel(dir, { model, weights, tokenizer });
    const want = await logitsOf({ model, weights, tokenizer });

    const lazy = loadModel(dir);
    assert.ok(lazy.weightsFile, 'an unread float32 model offers its file');
    assert.deepEqual(await logitsOf(lazy), want);
    assert.ok(lazy.weightsFile, 'decoding from the file does not read the weights into memory');

    // Once read, the weights may change (fine-tuning), so sessions bake them from memory.
    const w = lazy.weights;
    assert.equal(lazy.weightsFile, undefined);
    for (const a of w.values()) a.fill(0.01);
    const changed = await logitsOf(lazy);
    assert.notDeepEqual(changed, want);
    assert.ok(changed.every((v) => Math.abs(v - changed[0]!) < 1e-6), 'constant weights give equal logits');
    fs.rmSync(dir, { recursive: true });
  });
}

test('a model file that does not match config.json fails at load, naming the file and tensor', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inkwell-md-'));
  const model = new Gpt({ vocabSize: 10, nPositions: 8, nEmbd: 16, nLayer: 1, nHead: 2, bias: true, dropout: 0, layerNormEps: 1e-5 });
  saveModel(dir, { model, weights: initWeights(model.specs, 1), tokenizer });
  const config = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ ...config, n_layer: 2 }));
  assert.throws(() => loadModel(dir), /model\.safetensors: missing tensor 'transformer\.h\.1\./);
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ ...config, n_positions: 9 }));
  assert.throws(() => loadModel(dir), /model\.safetensors: tensor 'transformer\.wpe\.weight' has 128 values, expected shape \[9,16\]/);
  fs.rmSync(dir, { recursive: true });
});

// The manifest's hash and the NaN scan share one chunked pass (256 KB reads): a bad value past the first chunk is still found.
test('one pass over the weights: a NaN several chunks in is refused by index, a flipped byte as corruption', () => {
  const model = new RnnLm({ cell: 'lstm', vocabSize: 10, embeddingDim: 8, hiddenSize: 600, numLayers: 2, dropout: 0, tieWeights: false });
  const weights = initWeights(model.specs, 3);
  const name = 'rnn.weight_hh_l1'; // [2400, 600]: 5.8 MB, straddling chunk boundaries
  const at = weights.get(name)!.length - 7;
  for (const [i, corrupt] of [[0, false], [1, true]] as const) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inkwell-md-'));
    try {
      const w = new Map(weights);
      if (!corrupt) {
        const bad = Float32Array.from(weights.get(name)!);
        bad[at] = Number.NaN;
        w.set(name, bad);
      }
      saveModel(dir, { model, weights: w, tokenizer });
      if (!corrupt) {
        assert.throws(() => loadModel(dir), new RegExp(`tensor '${name}' holds NaN at index ${at}: the weights are not all finite`));
        continue;
      }
      // NaN bytes written over a value after the save: the manifest, checked in the same pass, reports the corruption first.
      const file = path.join(dir, 'model.safetensors');
      const bytes = fs.readFileSync(file);
      bytes.writeFloatLE(Number.NaN, bytes.length - 4 * (i + 3));
      fs.writeFileSync(file, bytes);
      assert.throws(() => loadModel(dir), /model\.safetensors does not match manifest\.json \(sha256 differs\)/);
      fs.rmSync(path.join(dir, 'manifest.json'));
      assert.throws(() => loadModel(dir), /holds NaN at index \d+: the weights are not all finite/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
});

// Quantizing decoders, fine-tuning and export need the weights in memory: kept from the pass that verified them.
test('keepWeights: the weights come from the verified read (past several chunks), the file is not read again, and a NaN is still refused', () => {
  const model = new RnnLm({ cell: 'lstm', vocabSize: 10, embeddingDim: 8, hiddenSize: 600, numLayers: 2, dropout: 0, tieWeights: false });
  const weights = initWeights(model.specs, 4);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inkwell-md-'));
  try {
    saveModel(dir, { model, weights, tokenizer });
    const kept = loadModel(dir, { keepWeights: true });
    assert.equal(kept.weightsFile, undefined, 'kept weights are baked from memory, not read by ORT');
    // Another save replaces the file (and its manifest) after the load: what was verified is what is used.
    saveModel(dir, { model, weights: initWeights(model.specs, 5), tokenizer });
    assert.deepEqual([...kept.weights.keys()].sort(), [...weights.keys()].sort());
    for (const [name, w] of weights) assert.deepEqual(kept.weights.get(name), w, name);
    assert.notDeepEqual(loadModel(dir, { keepWeights: true }).weights.get('rnn.weight_hh_l1'), weights.get('rnn.weight_hh_l1'));

    const bad = new Map(weights);
    const nan = Float32Array.from(weights.get('rnn.weight_hh_l1')!);
    nan[nan.length - 3] = Number.POSITIVE_INFINITY;
    bad.set('rnn.weight_hh_l1', nan);
    saveModel(dir, { model, weights: bad, tokenizer });
    assert.throws(() => loadModel(dir, { keepWeights: true }), new RegExp(`tensor 'rnn.weight_hh_l1' holds Infinity at index ${nan.length - 3}`));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
