/**
 * Every registered op: ORT's forward against the float64 TypeScript reference,
 * and (for differentiable ops) autodiff against central finite differences.
 * The last test enumerates the registry, so an op added without a case fails.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Graph, F, registeredOps, type Tensor } from '../../src/graph/index.js';
import { opDef } from '../../src/graph/registry.js';
import { Rng } from '../../src/utils/rng.js';
import { checkForward, checkGradients, randomFeeds } from '../helpers/check.js';

interface Case {
  /** The registered op this case covers. */
  op: string;
  label?: string;
  /** Float inputs drawn from [0.5, 1.5) instead of [-1, 1) (log, sqrt, div, pow). */
  positive?: boolean;
  build(g: Graph): { outs: Tensor[]; ints?: Record<string, number[]> };
}

const p = (g: Graph, name: string, ...shape: number[]) => g.param(name, shape);

const cases: Case[] = [
  { op: 'add', build: (g) => ({ outs: [F.add(p(g, 'a', 2, 3, 4), p(g, 'b', 3, 1))] }) },
  { op: 'add', label: 'shared input', build: (g) => { const a = p(g, 'a', 3, 2); return { outs: [F.add(a, F.mul(a, a))] }; } },
  { op: 'sub', build: (g) => ({ outs: [F.sub(p(g, 'a', 2, 3), p(g, 'b', 2, 1))] }) },
  { op: 'mul', build: (g) => ({ outs: [F.mul(p(g, 'a', 2, 3, 4), p(g, 'b', 4))] }) },
  { op: 'div', positive: true, build: (g) => ({ outs: [F.div(p(g, 'a', 3, 4), p(g, 'b', 1, 4))] }) },
  { op: 'pow', positive: true, build: (g) => ({ outs: [F.pow(p(g, 'a', 3, 4), p(g, 'b', 3, 4))] }) },
  { op: 'neg', build: (g) => ({ outs: [F.neg(p(g, 'x', 3, 5))] }) },
  { op: 'exp', build: (g) => ({ outs: [F.exp(p(g, 'x', 3, 5))] }) },
  { op: 'log', positive: true, build: (g) => ({ outs: [F.log(p(g, 'x', 3, 5))] }) },
  { op: 'sqrt', positive: true, build: (g) => ({ outs: [F.sqrt(p(g, 'x', 3, 5))] }) },
  { op: 'tanh', build: (g) => ({ outs: [F.tanh(p(g, 'x', 3, 5))] }) },
  { op: 'sigmoid', build: (g) => ({ outs: [F.sigmoid(p(g, 'x', 3, 5))] }) },
  { op: 'relu', build: (g) => ({ outs: [F.relu(p(g, 'x', 3, 5))] }) },
  { op: 'gelu', build: (g) => ({ outs: [F.gelu(F.mul(p(g, 'x', 3, 5), 3))] }) },
  { op: 'where', build: (g) => ({ outs: [F.where(F.greater(g.input('c', 'float32', [3, 4]), 0), p(g, 'a', 3, 4), p(g, 'b', 4))] }) },
  { op: 'reduceSum', build: (g) => ({ outs: [F.reduceSum(p(g, 'x', 2, 3, 4), [0, 2])] }) },
  { op: 'reduceMean', build: (g) => ({ outs: [F.reduceMean(p(g, 'x', 2, 3, 4), 1, true)] }) },
  { op: 'reduceMax', build: (g) => ({ outs: [F.reduceMax(p(g, 'x', 2, 3, 4), -1)] }) },
  { op: 'expand', build: (g) => ({ outs: [F.expand(p(g, 'x', 3, 1), [2, 3, 4])] }) },
  { op: 'reshape', build: (g) => ({ outs: [F.reshape(p(g, 'x', 2, 3, 4), [6, -1])] }) },
  { op: 'transpose', build: (g) => ({ outs: [F.transpose(p(g, 'x', 2, 3, 4), [2, 0, 1])] }) },
  { op: 'slice', build: (g) => ({ outs: [F.slice(p(g, 'x', 2, 4, 3), 1, 1, 3)] }) },
  { op: 'slice', label: 'negative bounds', build: (g) => ({ outs: [F.slice(p(g, 'x', 5, 2), 0, -3, -1)] }) },
  { op: 'pad', build: (g) => ({ outs: [F.pad(p(g, 'x', 2, 3), 0, 1, 2)] }) },
  { op: 'concat', build: (g) => ({ outs: [F.concat([p(g, 'a', 2, 1, 3), p(g, 'b', 2, 2, 3), p(g, 'c', 2, 3, 3)], 1)] }) },
  { op: 'split', build: (g) => ({ outs: F.split(p(g, 'x', 2, 6), 1, [1, 2, 3]) }) },
  { op: 'split', label: 'one output used', build: (g) => ({ outs: [F.split(p(g, 'x', 2, 6), 1, 3)[1]!] }) },
  {
    op: 'gather',
    label: 'embedding rows with repeats',
    build: (g) => ({ outs: [F.gather(p(g, 'wte', 5, 3), g.input('ids', 'int64', [2, 3]))], ints: { ids: [0, 4, 4, 2, 0, 1] } }),
  },
  {
    op: 'gather',
    label: 'axis 1, int32 indices',
    build: (g) => ({ outs: [F.gather(p(g, 'x', 2, 5, 3), g.input('i', 'int32', [4]), 1)], ints: { i: [3, 0, 3, 4] } }),
  },
  {
    op: 'scatterAddRows',
    build: (g) => ({ outs: [F.scatterAddRows(p(g, 'u', 4, 3), g.input('i', 'int64', [4]), 5)], ints: { i: [1, 3, 1, 0] } }),
  },
  { op: 'matmul', label: 'batched @ shared weight', build: (g) => ({ outs: [F.matmul(p(g, 'a', 2, 3, 4), p(g, 'w', 4, 5))] }) },
  { op: 'matmul', label: 'batched @ batched', build: (g) => ({ outs: [F.matmul(p(g, 'a', 2, 3, 4), p(g, 'b', 2, 4, 5))] }) },
  { op: 'matmul', label: 'broadcast batch', build: (g) => ({ outs: [F.matmul(p(g, 'a', 1, 3, 4), p(g, 'b', 2, 4, 2))] }) },
  { op: 'matmul', label: 'transB (tied lm_head)', build: (g) => ({ outs: [F.matmul(p(g, 'a', 3, 4), p(g, 'b', 5, 4), { transB: true })] }) },
  { op: 'softmax', build: (g) => ({ outs: [F.softmax(F.mul(p(g, 'x', 3, 5), 2))] }) },
  { op: 'softmax', label: 'axis 0', build: (g) => ({ outs: [F.softmax(p(g, 'x', 3, 5), 0)] }) },
  { op: 'logSoftmax', build: (g) => ({ outs: [F.logSoftmax(F.mul(p(g, 'x', 2, 3, 5), 2))] }) },
  { op: 'layerNorm', build: (g) => ({ outs: [F.layerNorm(p(g, 'x', 2, 3, 6), p(g, 'g', 6), p(g, 'b', 6))] }) },
  { op: 'layerNorm', label: 'no bias', build: (g) => ({ outs: [F.layerNorm(p(g, 'x', 4, 5), p(g, 'g', 5), null)] }) },
  {
    op: 'dropout',
    build: (g) => {
      const y = F.dropout(p(g, 'x', 4, 5), 0.3);
      const mask = g.inputs.find((i) => i.kind === 'dropoutMask')!.tensor;
      return { outs: [y], ints: { [mask.name]: Array.from({ length: 20 }, (_, i) => (i * 7) % 3 === 0 ? 0 : 1) } };
    },
  },
  {
    op: 'softmaxCrossEntropy',
    label: 'with an ignored target',
    build: (g) => ({
      outs: [F.crossEntropy(F.mul(p(g, 'logits', 2, 3, 5), 2), g.input('t', 'int64', [2, 3]))],
      ints: { t: [0, 4, -100, 2, 2, 1] },
    }),
  },
];

/** Ops without a gradient rule, checked forward only. */
const forwardOnly: Case[] = [
  { op: 'greater', build: (g) => ({ outs: [F.cast(F.greater(g.input('a', 'float32', [3, 4]), g.input('b', 'float32', [4])), 'float32')] }) },
  { op: 'less', build: (g) => ({ outs: [F.cast(F.less(g.input('a', 'float32', [3, 4]), 0.25), 'float32')] }) },
  { op: 'equal', build: (g) => ({ outs: [F.cast(F.equal(g.input('i', 'int64', [5]), 2), 'float32')], ints: { i: [2, 0, 2, 1, -2] } }) },
  { op: 'cast', build: (g) => ({ outs: [F.cast(g.input('i', 'int32', [4]), 'float32')], ints: { i: [3, -1, 0, 7] } }) },
  { op: 'oneHot', build: (g) => ({ outs: [F.oneHot(g.input('i', 'int64', [2, 2]), 4)], ints: { i: [3, 0, 1, 1] } }) },
  // Ties included: the first of equal maxima wins, as in the JavaScript sampler.
  {
    op: 'argmax',
    build: (g) => {
      const a = g.input('a', 'float32', [3, 4]);
      return { outs: [F.cast(F.argmax(F.concat([a, a], 1)), 'float32')] };
    },
  },
  // Draws spread over [0, 2^32): each row's token is the JavaScript sampler's (test/graph/sample.test.ts has the edge cases).
  {
    op: 'sample',
    build: (g) => ({
      outs: [F.cast(F.sample(F.mul(g.input('x', 'float32', [6, 9]), 4), g.input('d', 'int64', [6, 1]), { temperature: 0.8, topK: 6, topP: 0.9 }), 'float32')],
      ints: { d: [0, 2 ** 32 - 1, 123456789, 2 ** 31, 3e9, 77] },
    }),
  },
  { op: 'arange', build: (g) => ({ outs: [F.cast(F.arange(g.input('x', 'float32', [2, 5]), 1), 'float32')] }) },
  {
    op: 'multiHeadAttention',
    label: 'two queries over five heads-merged keys, per-batch bias',
    build: (g) => {
      const [B, T, S, H, D] = [2, 2, 5, 2, 3];
      const x = (name: string, n: number) => g.input(name, 'float32', [B, n, H * D]);
      return { outs: [F.multiHeadAttention(x('q', T), x('k', S), x('v', S), g.input('bias', 'float32', [B, 1, T, S]), H)] };
    },
  },
  {
    op: 'multiHeadAttention',
    label: 'per-head keys (Hugging Face cache layout), per-head bias',
    build: (g) => {
      const [B, T, S, H, D] = [1, 3, 4, 2, 2];
      const kv = (name: string) => g.input(name, 'float32', [B, H, S, D]);
      return { outs: [F.multiHeadAttention(g.input('q', 'float32', [B, T, H * D]), kv('k'), kv('v'), g.input('bias', 'float32', [B, H, T, S]), H)] };
    },
  },
  ...(['lstm', 'gru'] as const).map((cell) => ({
    op: 'rnnSequence',
    label: `${cell}, 3 steps from a given state`,
    build: (g: Graph) => {
      const [T, B, I, H] = [3, 2, 3, 4];
      const G = cell === 'lstm' ? 4 : 3;
      const state = (name: string) => g.input(name, 'float32', [B, H]);
      const x = g.input('x', 'float32', [T, B, I]);
      return { outs: F.rnnSequence(cell, x, p(g, 'wih', G * H, I), p(g, 'whh', G * H, H), p(g, 'bih', G * H), p(g, 'bhh', G * H), state('h0'), cell === 'lstm' ? state('c0') : undefined) };
    },
  })),
  ...(['lstm', 'gru'] as const).map((cell) => ({
    op: 'rnnStep',
    label: `${cell}, ONNX's [1,B,H] state layout`,
    build: (g: Graph) => {
      const [B, I, H] = [2, 3, 4];
      const G = cell === 'lstm' ? 4 : 3;
      const state = (name: string) => g.input(name, 'float32', [1, B, H]);
      const x = g.input('x', 'float32', [1, B, I]);
      return { outs: F.rnnStep(cell, x, p(g, 'wih', G * H, I), p(g, 'whh', G * H, H), p(g, 'bih', G * H), p(g, 'bhh', G * H), state('h0'), cell === 'lstm' ? state('c0') : undefined) };
    },
  })),
  { op: 'dimSize', build: (g) => ({ outs: [F.cast(F.dimSize(g.input('x', 'float32', [3, 7]), -1), 'float32')] }) },
  {
    op: 'add',
    label: 'int64 index arithmetic',
    build: (g) => ({ outs: [F.cast(F.sub(F.add(g.input('i', 'int64', [4]), 3), g.input('j', 'int64', [1])), 'float32')], ints: { i: [0, 1, 5, -2], j: [2] } }),
  },
];

const label = (c: Case) => `${c.op}${c.label ? ` (${c.label})` : ''}`;

for (const [i, c] of cases.entries()) {
  test(`op ${label(c)}: forward matches the reference, gradients match finite differences`, async () => {
    const rng = new Rng(1000 + i);
    const g = new Graph();
    const { outs, ints } = c.build(g);
    const feeds = c.positive ? randomFeeds(g, rng, ints, 0.5, 1.5) : randomFeeds(g, rng, ints);
    await checkForward(g, outs, feeds);
    await checkGradients(g, outs, feeds, rng);
  });
}

for (const [i, c] of forwardOnly.entries()) {
  test(`op ${label(c)}: forward matches the reference`, async () => {
    const g = new Graph();
    const { outs, ints } = c.build(g);
    await checkForward(g, outs, randomFeeds(g, new Rng(2000 + i), ints));
  });
}

test('every registered op has a check, and gradient rules exactly where gradient checks are', () => {
  const withGrad = new Set(cases.map((c) => c.op));
  const withoutGrad = new Set(forwardOnly.map((c) => c.op));
  for (const op of registeredOps()) {
    if (opDef(op).grad) assert.ok(withGrad.has(op), `op '${op}' has a gradient rule but no gradient check`);
    else assert.ok(withoutGrad.has(op), `op '${op}' has no forward check`);
  }
});
