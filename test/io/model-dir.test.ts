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
