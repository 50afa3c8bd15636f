// Adam/AdamW's WebAssembly kernel (src/train/adam.wat): the committed bytes are the committed text's, and
// its update is torch.optim's in float32 arithmetic bit for bit, in its four-lane loop and its tail alike.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normal, type ParamSpecs } from '../../src/nn/params.js';
import { ADAM_WASM } from '../../src/train/adam-kernel.js';
import { createOptimizer, SlotMemory, type OptimizerConfig } from '../../src/train/optimizers.js';
import { Rng } from '../../src/utils/rng.js';
import { compiledWat } from '../helpers/wasm.js';

test('adam-kernel.ts holds the compilation of adam.wat (run scripts/build-wasm.mjs after editing it)', async () => {
  assert.equal(ADAM_WASM, await compiledWat('src/train/adam.wat'));
});

/** torch.optim's Adam/AdamW step for one element, every operation rounded to float32 as the kernel's. */
function reference(w: number, g: number, m: number, v: number, [s, b1, b2, c1, c2, l2, decay, step, inv, eps]: number[]): [number, number, number] {
  const f = Math.fround;
  const gi = f(f(s * g) + f(l2 * w));
  const mi = f(f(b1 * m) + f(c1 * gi));
  const vi = f(f(b2 * v) + f(f(c2 * gi) * gi));
  return [f(f(w * decay) - f(f(step * mi) / f(f(f(Math.sqrt(vi)) * inv) + eps))), mi, vi];
}

for (const config of [{ name: 'adamw', betas: [0.9, 0.99], weightDecay: 0.1 }, { name: 'adam', weightDecay: 0.01, eps: 1e-6 }] as OptimizerConfig[]) {
  test(`${config.name}: the kernel's updates are float32 torch.optim's, element for element (sizes 1, 7, 4099)`, () => {
    // Sizes that leave 1, 3 and 3 elements to the one-at-a-time tail; one tensor without weight decay.
    const specs: ParamSpecs = {
      a: { shape: [1], init: normal(1), decay: true },
      b: { shape: [7], init: normal(1), decay: false },
      c: { shape: [4099], init: normal(1), decay: true },
    };
    const rng = new Rng(5);
    const draw = (n: number, s: number) => Float32Array.from({ length: n }, () => (rng.float() - 0.5) * s);
    const weights = new Map(Object.entries(specs).map(([k, spec]) => [k, draw(spec.shape[0]!, 2)]));
    const opt = createOptimizer(config, specs, { c: 0.5 });
    const [b1, b2] = config.betas ?? [0.9, 0.999];
    const [eps, wd] = [config.eps ?? 1e-8, config.weightDecay ?? 0];
    const mine = new Map([...weights].map(([k, w]) => [k, { w: Float32Array.from(w), m: new Float32Array(w.length), v: new Float32Array(w.length) }]));
    for (let t = 1; t <= 4; t++) {
      const grads = new Map([...weights].map(([k, w]) => [k, draw(w.length, t === 3 ? 1e-6 : 1)]));
      const lr = 0.01 * t;
      // Steps 2 and 4 clip: the coefficient scales the gradient inside the update, which leaves it as it was.
      const scale = t % 2 === 0 ? 0.3 / t : 1;
      const before = new Map([...grads].map(([k, g]) => [k, Float32Array.from(g)]));
      opt.step(weights, grads, lr, scale);
      assert.deepEqual(grads, before, `gradients after step ${t}`);
      for (const [k, r] of mine) {
        const klr = lr * (k === 'c' ? 0.5 : 1);
        const decay = config.name === 'adamw' && specs[k]!.decay ? 1 - klr * wd : 1;
        const consts = [scale, b1, b2, 1 - b1, 1 - b2, config.name === 'adam' ? wd : 0, decay, klr / (1 - b1 ** t), 1 / Math.sqrt(1 - b2 ** t), eps].map(Math.fround);
        const g = grads.get(k)!;
        for (let i = 0; i < r.w.length; i++) [r.w[i], r.m[i], r.v[i]] = reference(r.w[i]!, g[i]!, r.m[i]!, r.v[i]!, consts);
        assert.deepEqual(weights.get(k), r.w, `${k} after step ${t}`);
        assert.deepEqual(opt.state().get(`${k}.exp_avg`), r.m, `${k}.exp_avg after step ${t}`);
        assert.deepEqual(opt.state().get(`${k}.exp_avg_sq`), r.v, `${k}.exp_avg_sq after step ${t}`);
      }
    }
    // A checkpoint's state, loaded into a new optimizer, carries on identically.
    const resumed = createOptimizer(config, specs, { c: 0.5 });
    resumed.loadState(new Map([...opt.state()].map(([k, v]) => [k, Float32Array.from(v)])), opt.steps);
    const [w1, w2] = [new Map([...weights].map(([k, w]) => [k, Float32Array.from(w)])), new Map([...weights].map(([k, w]) => [k, Float32Array.from(w)]))];
    const grads = new Map([...weights].map(([k, w]) => [k, draw(w.length, 1)]));
    opt.step(w1, grads, 0.02);
    resumed.step(w2, grads, 0.02);
    assert.deepEqual(w2, w1);
  });
}

test('optimizer state over several WebAssembly memories updates as in one', () => {
  const specs: ParamSpecs = Object.fromEntries(['a', 'b', 'c', 'd'].map((k, i) => [k, { shape: [1000 + 37 * i], init: normal(1), decay: true }]));
  const one = new SlotMemory(specs, ['exp_avg', 'exp_avg_sq']);
  const split = new SlotMemory(specs, ['exp_avg', 'exp_avg_sq'], 20_000); // two tensors' state and scratch to a memory
  const buffers = new Set(Object.keys(specs).map((k) => split.slot(k, 'exp_avg').buffer));
  assert.ok(buffers.size >= 2, `${buffers.size} memory for four tensors`);
  const rng = new Rng(3);
  const k = [0.7, 0.9, 0.99, 0.1, 0.01, 0, 0.999, 0.01, 1.2, 1e-8];
  for (const [name, spec] of Object.entries(specs)) {
    const n = spec.shape[0]!;
    const w = Float32Array.from({ length: n }, () => rng.float() - 0.5);
    const g = Float32Array.from({ length: n }, () => rng.float() - 0.5);
    const [w1, w2] = [Float32Array.from(w), Float32Array.from(w)];
    one.adam(w1, g, one.slot(name, 'exp_avg'), one.slot(name, 'exp_avg_sq'), k);
    split.adam(w2, g, split.slot(name, 'exp_avg'), split.slot(name, 'exp_avg_sq'), k);
    assert.deepEqual(w2, w1, name);
    assert.deepEqual(split.slot(name, 'exp_avg_sq'), one.slot(name, 'exp_avg_sq'), `${name}.exp_avg_sq`);
  }
});
