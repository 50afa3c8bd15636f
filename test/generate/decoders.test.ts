/** Incremental decoding (GPT KV cache, RNN carried state) reproduces the full forward pass position by position. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Gpt } from '../../src/models/gpt.js';
import { RnnLm } from '../../src/models/rnn.js';
import { buildForwardGraph, type LanguageModel } from '../../src/models/lm.js';
import { CompiledGraph } from '../../src/runtime/session.js';
import { initWeights } from '../../src/nn/params.js';
import { createDecoder } from '../../src/generate/decoders.js';
import { Rng } from '../../src/utils/rng.js';
import { trainWordLevel } from '../../src/tokenizers/word-level.js';
import { assertClose } from '../helpers/check.js';

const V = 13;
const tokenizer = trainWordLevel(['abcdefghijklm'], 'char', { specialTokens: [] });

async function fullLogits(model: LanguageModel, weights: Map<string, Float32Array>, ids: Int32Array, B: number, T: number): Promise<Float32Array> {
  const { graph, outputs } = buildForwardGraph(model, B, T);
  const c = await CompiledGraph.compile(graph, outputs);
  const feeds: Record<string, Float32Array | Int32Array> = { ...Object.fromEntries(weights), ids };
  for (const s of c.inputs.filter((i) => i.name.startsWith('state.'))) feeds[s.name] = new Float32Array((s.shape as number[]).reduce((a, b) => a * b, 1));
  const out = (await c.run(feeds)).logits as Float32Array;
  await c.release();
  return out;
}

for (const [name, model] of [
  ['GPT (KV cache)', new Gpt({ vocabSize: V, nPositions: 12, nEmbd: 16, nLayer: 2, nHead: 2, bias: true, dropout: 0, layerNormEps: 1e-5 })],
  ['LSTM (carried state)', new RnnLm({ cell: 'lstm', vocabSize: V, embeddingDim: 8, hiddenSize: 12, numLayers: 2, dropout: 0, tieWeights: false })],
  ['GRU (carried state)', new RnnLm({ cell: 'gru', vocabSize: V, embeddingDim: 8, hiddenSize: 12, numLayers: 2, dropout: 0, tieWeights: false })],
] as [string, LanguageModel][]) {
  test(`${name}: a prompt chunk then single tokens give the full forward pass's logits, for a batch of 2`, async () => {
    const [B, T, prompt] = [2, 9, 4];
    const weights = initWeights(model.specs, 3);
    const rng = new Rng(5);
    const ids = Int32Array.from({ length: B * T }, () => rng.int(V));
    const full = await fullLogits(model, weights, ids, B, T);
    const dec = await createDecoder({ model, weights, tokenizer }, B);
    const rows = (from: number, to: number) => Int32Array.from({ length: B * (to - from) }, (_, i) => ids[Math.floor(i / (to - from)) * T + from + (i % (to - from))]!);
    const at = (t: number) => Float32Array.from({ length: B * V }, (_, i) => full[(Math.floor(i / V) * T + t) * V + (i % V)]!);
    assertClose(await dec.feed(rows(0, prompt)), at(prompt - 1), `${name} after the prompt`, 1e-4);
    for (let t = prompt; t < T; t++) assertClose(await dec.feed(rows(t, t + 1)), at(t), `${name} at position ${t}`, 1e-4);
    assert.equal(dec.length, T);
    dec.reset();
    assertClose(await dec.feed(rows(0, 1)), at(0), `${name} after reset`, 1e-4);
    await dec.release();
  });
}

test('the GPT decoder refuses tokens past its context and ids outside the vocabulary', async () => {
  const model = new Gpt({ vocabSize: V, nPositions: 4, nEmbd: 8, nLayer: 1, nHead: 2, bias: true, dropout: 0, layerNormEps: 1e-5 });
  const dec = await createDecoder({ model, weights: initWeights(model.specs, 1), tokenizer }, 1);
  await assert.rejects(dec.feed(Int32Array.from([1, 2, 3, 4, 5])), /5 tokens exceed the model's context of 4/);
  await assert.rejects(dec.feed(Int32Array.from([99])), /token id 99 is outside the vocabulary/);
  await dec.release();
});
