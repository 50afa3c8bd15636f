/** Slot decoding (sequences joining and leaving between steps) gives each sequence the logits it would have decoded alone. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Gpt } from '../../src/models/gpt.js';
import { RnnLm } from '../../src/models/rnn.js';
import type { LanguageModel } from '../../src/models/lm.js';
import { initWeights } from '../../src/nn/params.js';
import { createDecoder } from '../../src/generate/decoders.js';
import { createSlotDecoder } from '../../src/generate/slot-decoder.js';
import { Rng } from '../../src/utils/rng.js';
import { trainWordLevel } from '../../src/tokenizers/word-level.js';
import { InkwellError } from '../../src/utils/errors.js';
import { assertClose } from '../helpers/check.js';

const V = 13;
const tokenizer = trainWordLevel(['abcdefghijklm'], 'char', { specialTokens: [] });

/** Logits after each prefix length ≥ prompt, from a fresh batch-1 decoder. */
async function soloLogits(model: LanguageModel, weights: Map<string, Float32Array>, ids: number[], prompt: number): Promise<Float32Array[]> {
  const dec = await createDecoder({ model, weights, tokenizer }, 1);
  const out = [await dec.feed(Int32Array.from(ids.slice(0, prompt)))];
  for (let t = prompt; t < ids.length; t++) out.push(await dec.feed(Int32Array.of(ids[t]!)));
  await dec.release();
  return out;
}

for (const [name, model] of [
  ['GPT', new Gpt({ vocabSize: V, nPositions: 160, nEmbd: 16, nLayer: 2, nHead: 2, bias: true, dropout: 0, layerNormEps: 1e-5 })],
  ['LSTM', new RnnLm({ cell: 'lstm', vocabSize: V, embeddingDim: 8, hiddenSize: 12, numLayers: 2, dropout: 0, tieWeights: false })],
  ['GRU', new RnnLm({ cell: 'gru', vocabSize: V, embeddingDim: 8, hiddenSize: 12, numLayers: 2, dropout: 0, tieWeights: false })],
] as [string, LanguageModel][]) {
  test(`${name}: sequences that join, step together and leave get their solo logits`, async () => {
    const weights = initWeights(model.specs, 3);
    const rng = new Rng(7);
    const seq = (n: number) => Array.from({ length: n }, () => rng.int(V));
    // A reads a prompt of 5 in slot 2, B joins two steps later in slot 0 with a prompt of 3, A leaves, C reuses slot 2.
    const [a, b, c] = [seq(12), seq(9), seq(7)];
    const [soloA, soloB, soloC] = [await soloLogits(model, weights, a, 5), await soloLogits(model, weights, b, 3), await soloLogits(model, weights, c, 4)];
    const dec = await createSlotDecoder({ model, weights, tokenizer }, 4);
    const check = (got: Float32Array, row: number, want: Float32Array, what: string) => assertClose(got.subarray(row * V, (row + 1) * V), want, what, 2e-5);
    check(await dec.feed([{ slot: 2, tokens: a.slice(0, 5) }]), 0, soloA[0]!, 'A prompt');
    check(await dec.feed([{ slot: 2, tokens: [a[5]!] }]), 0, soloA[1]!, 'A step 1');
    check(await dec.feed([{ slot: 2, tokens: [a[6]!] }]), 0, soloA[2]!, 'A step 2');
    check(await dec.feed([{ slot: 0, tokens: b.slice(0, 3) }]), 0, soloB[0]!, 'B prompt');
    for (let k = 1; k <= 4; k++) {
      const out = await dec.feed([{ slot: 0, tokens: [b[2 + k]!] }, { slot: 2, tokens: [a[6 + k]!] }]);
      check(out, 0, soloB[k]!, `B step ${k}`);
      check(out, 1, soloA[2 + k]!, `A step ${2 + k}`);
    }
    assert.equal(dec.length(2), 11);
    dec.clear(2);
    assert.equal(dec.length(2), 0);
    check(await dec.feed([{ slot: 2, tokens: c.slice(0, 4) }]), 0, soloC[0]!, 'C prompt in a reused slot');
    for (let k = 1; k <= 2; k++) {
      const out = await dec.feed([{ slot: 2, tokens: [c[3 + k]!] }, { slot: 0, tokens: [b[6 + k]!] }]);
      check(out, 0, soloC[k]!, `C step ${k}`);
      check(out, 1, soloB[4 + k]!, `B step ${4 + k}`);
    }
    await assert.rejects(dec.feed([{ slot: 4, tokens: [1] }]), InkwellError);
    await assert.rejects(dec.feed([{ slot: 0, tokens: [1] }, { slot: 1, tokens: [1, 2] }]), /same number/);
    await assert.rejects(dec.feed([{ slot: 1, tokens: [V] }]), /outside the vocabulary/);
    await dec.release();
  });
}

test('GPT: a slot that grows past a cache step and ends leaves the others exact (the cache grows, then shrinks)', async () => {
  const model = new Gpt({ vocabSize: V, nPositions: 160, nEmbd: 16, nLayer: 1, nHead: 2, bias: true, dropout: 0, layerNormEps: 1e-5 });
  const weights = initWeights(model.specs, 4);
  const rng = new Rng(9);
  const long = Array.from({ length: 150 }, () => rng.int(V));
  const short = Array.from({ length: 20 }, () => rng.int(V));
  const solo = await soloLogits(model, weights, short, 10);
  const dec = await createSlotDecoder({ model, weights, tokenizer }, 3);
  await dec.feed([{ slot: 1, tokens: long }]);
  await dec.feed([{ slot: 0, tokens: short.slice(0, 10) }]);
  dec.clear(1);
  for (let k = 1; k <= 10; k++) assertClose((await dec.feed([{ slot: 0, tokens: [short[9 + k]!] }])), solo[k]!, `step ${k} after the long slot ended`, 2e-5);
  await assert.rejects(dec.feed([{ slot: 2, tokens: long.concat(short) }]), /context of 160/);
  await dec.release();
});

test('GPT: a short prompt read while a long sequence is held leaves the long one exact (no shrinking under it)', async () => {
  const model = new Gpt({ vocabSize: V, nPositions: 200, nEmbd: 16, nLayer: 1, nHead: 2, bias: true, dropout: 0, layerNormEps: 1e-5 });
  const weights = initWeights(model.specs, 6);
  const rng = new Rng(13);
  const long = Array.from({ length: 155 }, () => rng.int(V));
  const soloLong = await soloLogits(model, weights, long, 150);
  const dec = await createSlotDecoder({ model, weights, tokenizer }, 2);
  await dec.feed([{ slot: 1, tokens: long.slice(0, 150) }]);
  await dec.feed([{ slot: 0, tokens: long.slice(0, 10) }]);
  dec.clear(0);
  for (let k = 1; k <= 5; k++) assertClose(await dec.feed([{ slot: 1, tokens: [long[149 + k]!] }]), soloLong[k]!, `long step ${k}`, 2e-5);
  await dec.release();
});

for (const [name, model] of [
  ['GPT', new Gpt({ vocabSize: V, nPositions: 64, nEmbd: 16, nLayer: 1, nHead: 2, bias: true, dropout: 0, layerNormEps: 1e-5 })],
  ['LSTM', new RnnLm({ cell: 'lstm', vocabSize: V, embeddingDim: 8, hiddenSize: 12, numLayers: 1, dropout: 0, tieWeights: false })],
] as [string, LanguageModel][]) {
  test(`${name}: prompts read together into scattered empty slots beside a busy one get their solo logits`, async () => {
    const weights = initWeights(model.specs, 5);
    const rng = new Rng(11);
    const [a, b, c] = [0, 1, 2].map(() => Array.from({ length: 10 }, () => rng.int(V))) as [number[], number[], number[]];
    const [soloA, soloB, soloC] = [await soloLogits(model, weights, a, 6), await soloLogits(model, weights, b, 4), await soloLogits(model, weights, c, 4)];
    const dec = await createSlotDecoder({ model, weights, tokenizer }, 4);
    assertClose((await dec.feed([{ slot: 1, tokens: a.slice(0, 6) }])).subarray(0, V), soloA[0]!, 'A prompt', 2e-5);
    const both = await dec.feed([{ slot: 3, tokens: b.slice(0, 4) }, { slot: 0, tokens: c.slice(0, 4) }]);
    assertClose(both.subarray(0, V), soloB[0]!, 'B prompt', 2e-5);
    assertClose(both.subarray(V, 2 * V), soloC[0]!, 'C prompt', 2e-5);
    for (let k = 1; k <= 3; k++) {
      const out = await dec.feed([{ slot: 0, tokens: [c[3 + k]!] }, { slot: 1, tokens: [a[5 + k]!] }, { slot: 3, tokens: [b[3 + k]!] }]);
      assertClose(out.subarray(0, V), soloC[k]!, `C step ${k}`, 2e-5);
      assertClose(out.subarray(V, 2 * V), soloA[k]!, `A step ${k}`, 2e-5);
      assertClose(out.subarray(2 * V, 3 * V), soloB[k]!, `B step ${k}`, 2e-5);
    }
    await dec.release();
  });
}
