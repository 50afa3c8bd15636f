/** Incremental decoding (GPT KV cache, RNN carried state) reproduces the full forward pass position by position. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Gpt } from '../../src/models/gpt.js';
import { RnnLm } from '../../src/models/rnn.js';
import { buildForwardGraph, zeroState, type LanguageModel } from '../../src/models/lm.js';
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
  const feeds: Record<string, Float32Array | Int32Array> = { ...Object.fromEntries(weights), ...zeroState(model, B), ids };
  const out = (await c.run(feeds)).logits as Float32Array;
  await c.release();
  return out;
}

for (const [name, model] of [
  ['GPT (KV cache)', new Gpt({ vocabSize: V, nPositions: 12, nEmbd: 16, nLayer: 2, nHead: 2, bias: true, dropout: 0, layerNormEps: 1e-5 })],
  ['LSTM (carried state)', new RnnLm({ cell: 'lstm', vocabSize: V, embeddingDim: 8, hiddenSize: 12, numLayers: 2, dropout: 0, tieWeights: false })],
  ['GRU (carried state)', new RnnLm({ cell: 'gru', vocabSize: V, embeddingDim: 8, hiddenSize: 12, numLayers: 2, dropout: 0, tieWeights: false })],
] as [string, LanguageModel][]) {
  test(`${name}: a prompt chunk, a chunk after it, then single tokens give the full forward pass's logits, for a batch of 2`, async () => {
    const [B, T, prompt] = [2, 9, 4];
    const weights = initWeights(model.specs, 3);
    const rng = new Rng(5);
    const ids = Int32Array.from({ length: B * T }, () => rng.int(V));
    const full = await fullLogits(model, weights, ids, B, T);
    const dec = await createDecoder({ model, weights, tokenizer }, B);
    const rows = (from: number, to: number) => Int32Array.from({ length: B * (to - from) }, (_, i) => ids[Math.floor(i / (to - from)) * T + from + (i % (to - from))]!);
    const at = (t: number) => Float32Array.from({ length: B * V }, (_, i) => full[(Math.floor(i / V) * T + t) * V + (i % V)]!);
    assertClose(await dec.feed(rows(0, prompt)), at(prompt - 1), `${name} after the prompt`, 1e-4);
    assertClose(await dec.feed(rows(prompt, prompt + 2)), at(prompt + 1), `${name} after a chunk fed mid-sequence`, 1e-4);
    for (let t = prompt + 2; t < T; t++) assertClose(await dec.feed(rows(t, t + 1)), at(t), `${name} at position ${t}`, 1e-4);
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

for (const B of [1, 2]) {
  test(`GPT decoding, batch ${B}: the decoder's cache grows (64 → 128 → context) and Hugging Face's per-head graph agrees`, async () => {
    const [T, prompt, nPositions] = [140, 3, 150];
    const model = new Gpt({ vocabSize: V, nPositions, nEmbd: 8, nLayer: 2, nHead: 2, bias: true, dropout: 0, layerNormEps: 1e-5 });
    const weights = initWeights(model.specs, 4);
    const rng = new Rng(6 + B);
    const ids = Int32Array.from({ length: B * T }, () => rng.int(V));
    const full = await fullLogits(model, weights, ids, B, T);
    const rows = (from: number, to: number) => Int32Array.from({ length: B * (to - from) }, (_, i) => ids[Math.floor(i / (to - from)) * T + from + (i % (to - from))]!);
    const at = (t: number) => Float32Array.from({ length: B * V }, (_, i) => full[(Math.floor(i / V) * T + t) * V + (i % V)]!);

    const dec = await createDecoder({ model, weights, tokenizer }, B);
    await dec.feed(rows(0, prompt));
    for (let t = prompt; t < T; t++) assertClose(await dec.feed(rows(t, t + 1)), at(t), `appended cache at position ${t}`, 1e-4);
    dec.reset();
    assertClose(await dec.feed(rows(0, 70)), at(69), 'a 70-token prompt after reset', 1e-4);
    assertClose(await dec.feed(rows(70, 71)), at(70), 'then one more token', 1e-4);
    assertClose(await dec.feed(rows(71, 75)), at(74), 'then a chunk of four', 1e-4);
    await dec.release();

    // past_key_values.{i}.key [batch, n_head, past, head_dim] in, present.{i}.key (past and new) out.
    const { graph, outputs } = model.buildDecodeGraph({ cache: 'heads' });
    const session = await CompiledGraph.compile(graph, outputs, { bake: weights });
    const [H, D] = [2, 4];
    let past: Record<string, { data: Float32Array; dims: number[] }> = {};
    for (let i = 0; i < 2; i++) for (const kind of ['key', 'value']) past[`past_key_values.${i}.${kind}`] = { data: new Float32Array(0), dims: [B, H, 0, D] };
    for (const [from, to] of [[0, prompt], [prompt, prompt + 1], [prompt + 1, prompt + 2]] as const) {
      const n = to - from;
      const out = await session.run({
        input_ids: { data: rows(from, to), dims: [B, n] },
        attention_mask: { data: new BigInt64Array(B * to).fill(1n), dims: [B, to] },
        position_ids: { data: BigInt64Array.from({ length: B * n }, (_, i) => BigInt(from + (i % n))), dims: [B, n] },
        ...past,
      });
      const last = Float32Array.from({ length: B * V }, (_, i) => (out.logits as Float32Array)[(Math.floor(i / V) * n + n - 1) * V + (i % V)]!);
      assertClose(last, at(to - 1), `per-head cache at position ${to - 1}`, 1e-4);
      past = {};
      for (let i = 0; i < 2; i++) for (const kind of ['key', 'value']) past[`past_key_values.${i}.${kind}`] = { data: out[`present.${i}.${kind}`] as Float32Array, dims: [B, H, to, D] };
    }
    await session.release();
    assert.throws(() => model.buildDecodeGraph({ cache: 'rows' as 'heads' }), /cache must be 'heads' or 'append', got rows/);
  });
}
