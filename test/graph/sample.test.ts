/**
 * The in-graph sampler (F.sample) against the JavaScript one (chooseToken, generate/sampling.ts):
 * the same token for every row — random logits at several filter settings, and the edge rows the
 * JavaScript sampler handles (NaN and -inf logits, infinite ones, ties at the k-th value, draws at
 * 0 and 2^32 − 1) — and -1 where it would find no candidate; in onnxruntime-web too, which runs
 * a recurrent model's sampled chunks in the browser.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ortWeb from 'onnxruntime-web';
import { Graph, F, toOnnx } from '../../src/graph/index.js';
import { CompiledGraph } from '../../src/runtime/session.js';
import { chooseToken } from '../../src/generate/sampling.js';
import type { SampleFilters } from '../../src/graph/ops/sample.js';
import { Rng } from '../../src/utils/rng.js';

const [R, V] = [1500, 40];

/** Rows 0–6 are edge cases, the rest random logits in (-6, 6); rows 7 and 8 draw 2^32 − 1 and 0. */
function rows(rng: Rng): { logits: Float32Array; draws: Uint32Array } {
  const logits = Float32Array.from({ length: R * V }, () => (rng.float() * 2 - 1) * 6);
  const row = (r: number, f: (v: number) => number) => {
    for (let v = 0; v < V; v++) logits[r * V + v] = f(v);
  };
  row(0, () => NaN);
  row(1, () => -Infinity);
  row(2, (v) => (v % 3 ? -Infinity : 1)); // ties among the finite ones
  row(3, (v) => (v === 7 || v === 9 ? Infinity : 0)); // two infinite logits share all the mass
  row(4, (v) => (v % 2 ? NaN : v / 10));
  row(5, (v) => Math.round(logits[5 * V + v]!)); // many ties at the k-th value
  row(6, (v) => (v === 3 ? 80 : -80)); // all the mass on one token, the rest underflows
  const draws = Uint32Array.from({ length: R }, () => rng.nextUint32());
  draws[7] = 2 ** 32 - 1;
  draws[8] = 0;
  return { logits, draws };
}

const settings: SampleFilters[] = [
  { temperature: 1, topK: 0, topP: 1 },
  { temperature: 0.7, topK: 0, topP: 1 },
  { temperature: 1.3, topK: 5, topP: 1 },
  { temperature: 0.9, topK: 0, topP: 0.9 },
  { temperature: 0.8, topK: 10, topP: 0.5 },
  { temperature: 1, topK: V - 1, topP: 0.999 },
  { temperature: 2, topK: V, topP: 1 }, // top-k of the whole vocabulary: off
];

const jsTokens = (logits: Float32Array, draws: Uint32Array, o: SampleFilters): number[] =>
  Array.from({ length: R }, (_, r) => chooseToken(logits.subarray(r * V, (r + 1) * V), { greedy: false, ...o }, () => draws[r]! / 2 ** 32));

for (const o of settings) {
  test(`sample ${JSON.stringify(o)}: the JavaScript sampler's token for every row`, async () => {
    const g = new Graph();
    const out = F.sample(g.input('logits', 'float32', [R, V]), g.input('draws', 'int64', [R, 1]), o);
    const session = await CompiledGraph.compile(g, { out }, { threads: 1 });
    try {
      const { logits, draws } = rows(new Rng(JSON.stringify(o)));
      const got = (await session.run({ logits, draws: BigInt64Array.from(draws, (d) => BigInt(d)) })).out as BigInt64Array;
      const want = jsTokens(logits, draws, o);
      assert.deepEqual(Array.from(got, Number), want);
      assert.deepEqual(want.slice(0, 2), [-1, -1], 'no candidate: -1');
      assert.ok([7, 9].includes(want[3]!) && want[6] === 3);
      assert.ok(new Set(want).size > V / 2, 'the random rows draw many different tokens');
    } finally {
      await session.release();
    }
  });
}

test('onnxruntime-web (the browser\'s runtime) draws the same tokens', async () => {
  const o: SampleFilters = { temperature: 0.8, topK: 10, topP: 0.9 };
  const g = new Graph();
  const out = F.sample(g.input('logits', 'float32', [R, V]), g.input('draws', 'int64', [R, 1]), o);
  ortWeb.env.wasm.numThreads = 1;
  const session = await ortWeb.InferenceSession.create(toOnnx(g, { out }).bytes, { executionProviders: ['wasm'] });
  try {
    const { logits, draws } = rows(new Rng('web'));
    const r = await session.run({ logits: new ortWeb.Tensor('float32', logits, [R, V]), draws: new ortWeb.Tensor('int64', BigInt64Array.from(draws, (d) => BigInt(d)), [R, 1]) });
    assert.deepEqual(Array.from(r.out!.data as BigInt64Array, Number), jsTokens(logits, draws, o));
  } finally {
    await session.release();
  }
});
