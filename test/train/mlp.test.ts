/** End to end through ORT: a 2-layer MLP learns a synthetic task with each optimizer. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Graph, F, gradients } from '../../src/graph/index.js';
import { CompiledGraph } from '../../src/runtime/session.js';
import { ParamScope, initWeights, normal, zeros, type ParamSpecs } from '../../src/nn/params.js';
import { createOptimizer, clipGradNorm, type OptimizerConfig } from '../../src/train/optimizers.js';
import { Rng } from '../../src/utils/rng.js';

const [N, D, H, K] = [64, 2, 32, 4];
const specs: ParamSpecs = {
  'fc1.weight': { shape: [D, H], init: normal(0.5), decay: true },
  'fc1.bias': { shape: [H], init: zeros, decay: false },
  'fc2.weight': { shape: [H, K], init: normal(0.5), decay: true },
  'fc2.bias': { shape: [K], init: zeros, decay: false },
};

/** Points in the plane labelled by quadrant: not linearly separable into 4 classes by one layer. */
function data(seed: number) {
  const rng = new Rng(seed);
  const x = new Float32Array(N * D);
  const y = new BigInt64Array(N);
  for (let i = 0; i < N; i++) {
    const [a, b] = [rng.float() * 2 - 1, rng.float() * 2 - 1];
    x.set([a, b], i * D);
    y[i] = BigInt((a > 0 ? 1 : 0) + (b > 0 ? 2 : 0));
  }
  return { x, y };
}

async function train(config: OptimizerConfig, lr: number, steps: number): Promise<number[]> {
  const g = new Graph();
  const p = new ParamScope(g, specs);
  const x = g.input('x', 'float32', [N, D]);
  const t = g.input('t', 'int64', [N]);
  const h = F.relu(F.add(F.matmul(x, p.get('fc1.weight')), p.get('fc1.bias')));
  const logits = F.add(F.matmul(h, p.get('fc2.weight')), p.get('fc2.bias'));
  const loss = F.crossEntropy(logits, t);
  const names = Object.keys(specs);
  const grads = gradients(loss, names.map((n) => p.get(n)));
  const step = await CompiledGraph.compile(g, { loss, ...Object.fromEntries(grads.map((d, i) => [`grad.${names[i]}`, d])) }, { threads: 1 });
  const weights = initWeights(specs, 1);
  const opt = createOptimizer(config, specs);
  const { x: xs, y: ys } = data(2);
  const losses: number[] = [];
  for (let s = 0; s < steps; s++) {
    const out = await step.run({ x: xs, t: ys, ...Object.fromEntries(weights) }, { checkFinite: ['loss'] });
    losses.push(out.loss![0] as number);
    const gmap = new Map(names.map((n) => [n, out[`grad.${n}`] as Float32Array]));
    clipGradNorm(gmap, 5);
    opt.step(weights, gmap, lr);
  }
  await step.release();
  return losses;
}

for (const [config, lr] of [
  [{ name: 'adamw', weightDecay: 0.01 }, 0.02],
  [{ name: 'adam' }, 0.02],
  [{ name: 'sgd', momentum: 0.9 }, 0.05],
  [{ name: 'rmsprop' }, 0.005],
] as [OptimizerConfig, number][]) {
  test(`2-layer MLP: ${config.name} drives the loss down`, async () => {
    const losses = await train(config, lr, 150);
    const first = losses[0]!;
    const last = losses.at(-1)!;
    assert.ok(last < first * 0.35, `${config.name}: loss ${first.toFixed(3)} → ${last.toFixed(3)}`);
    assert.ok(last < 0.45, `${config.name}: final loss ${last.toFixed(3)}`);
  });
}

test('seeded training is reproducible', async () => {
  const a = await train({ name: 'adamw' }, 0.01, 10);
  const b = await train({ name: 'adamw' }, 0.01, 10);
  assert.deepEqual(a, b);
});

test("an optimizer's gradScale is the gradient pre-multiplied in float32, for every optimizer", () => {
  const rng = new Rng(4);
  const draw = (n: number) => Float32Array.from({ length: n }, () => rng.float() - 0.5);
  for (const config of [{ name: 'adamw', weightDecay: 0.1 }, { name: 'adam', weightDecay: 0.01 }, { name: 'sgd', momentum: 0.9, weightDecay: 0.01 }, { name: 'rmsprop', weightDecay: 0.01 }] as OptimizerConfig[]) {
    const start = initWeights(specs, 3);
    const [scaled, premultiplied] = [new Map([...start].map(([k, w]) => [k, Float32Array.from(w)])), new Map([...start].map(([k, w]) => [k, Float32Array.from(w)]))];
    const [a, b] = [createOptimizer(config, specs), createOptimizer(config, specs)];
    for (const s of [1, 0.37, 1 / 3]) {
      const grads = new Map([...start].map(([k, w]) => [k, draw(w.length)]));
      a.step(scaled, grads, 0.01, s);
      b.step(premultiplied, new Map([...grads].map(([k, g]) => [k, g.map((x) => Math.fround(s) * x)])), 0.01);
    }
    assert.deepEqual(scaled, premultiplied, config.name);
  }
});
