/**
 * Numerical checks for the engine: ORT's forward against the float64 reference
 * interpreter, and ORT's autodiff gradients against central finite differences
 * taken in float64 through the same reference.
 */
import assert from 'node:assert/strict';
import { Graph, F, gradients, evaluate, type Tensor } from '../../src/graph/index.js';
import { CompiledGraph, type TypedArray } from '../../src/runtime/session.js';
import { Rng } from '../../src/utils/rng.js';
import { shapeOf } from '../../src/graph/ndarray.js';

export type Values = Record<string, Float64Array>;

/** Random float inputs for every float data/param input, in [-1, 1) (or [lo, hi)). */
export function randomFeeds(g: Graph, rng: Rng, ints: Record<string, number[]> = {}, lo = -1, hi = 1): Values {
  const v: Values = {};
  for (const { tensor, kind } of g.inputs) {
    if (ints[tensor.name]) v[tensor.name] = Float64Array.from(ints[tensor.name]!);
    else if (tensor.dtype === 'float32' && kind !== 'dropoutMask') v[tensor.name] = Float64Array.from({ length: tensor.size }, () => lo + (hi - lo) * rng.float());
  }
  return v;
}

export function toTyped(g: Graph, v: Values): Record<string, TypedArray> {
  const out: Record<string, TypedArray> = {};
  for (const { tensor } of g.inputs) {
    const d = v[tensor.name];
    if (!d) continue;
    if (tensor.dtype === 'float32') out[tensor.name] = Float32Array.from(d);
    else if (tensor.dtype === 'int64') out[tensor.name] = BigInt64Array.from(d, (x) => BigInt(x));
    else if (tensor.dtype === 'int32') out[tensor.name] = Int32Array.from(d);
    else out[tensor.name] = Uint8Array.from(d);
  }
  return out;
}

export function assertClose(actual: ArrayLike<number | bigint>, expected: ArrayLike<number>, what: string, atol = 1e-4, rtol = 1e-4): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const a = Number(actual[i]!);
    const e = expected[i]!;
    const ok = (Number.isNaN(a) && Number.isNaN(e)) || a === e || Math.abs(a - e) <= atol + rtol * Math.abs(e);
    if (!ok) assert.fail(`${what}[${i}]: got ${a}, expected ${e}`);
  }
}

/** ORT forward of `outs` equals the reference interpreter. */
export async function checkForward(g: Graph, outs: Tensor[], feeds: Values, atol = 1e-4): Promise<void> {
  const outputs = Object.fromEntries(outs.map((t, i) => [`out${i}`, t]));
  const compiled = await CompiledGraph.compile(g, outputs);
  const got = await compiled.run(toTyped(g, feeds));
  const want = evaluate(g, feeds, outs);
  outs.forEach((t, i) => assertClose(got[`out${i}`]!, want[i]!.data, `forward ${t}`, atol));
  await compiled.release();
}

export interface GradCheckOptions {
  eps?: number;
  atol?: number;
  rtol?: number;
  /** Sample this many elements of larger params to keep the check quick. */
  maxPerParam?: number;
}

/** Gradient check of L = Σ_i Σ(out_i ⊙ R_i) with fixed random R_i, so every output element matters. */
export async function checkGradients(g: Graph, outs: Tensor[], feeds: Values, rng: Rng, opts: GradCheckOptions = {}): Promise<void> {
  let loss: Tensor | undefined;
  for (const o of outs) {
    const r = g.constant(Float32Array.from({ length: o.size }, () => rng.float() * 2 - 1), 'float32', shapeOf(o));
    const term = F.reduceSum(F.mul(o, r), Array.from({ length: o.rank }, (_, i) => i));
    loss = loss ? F.add(loss, term) : term;
  }
  await checkLossGradients(g, loss!, feeds, rng, opts);
}

/** ORT's autodiff dL/dp for every float param p against central differences of L in float64. */
export async function checkLossGradients(g: Graph, loss: Tensor, feeds: Values, rng: Rng, opts: GradCheckOptions = {}): Promise<void> {
  const { eps = 1e-5, atol = 1e-3, rtol = 1e-2, maxPerParam = 40 } = opts;
  const params = g.params;
  const grads = gradients(loss, params);
  const compiled = await CompiledGraph.compile(g, Object.fromEntries(grads.map((d, i) => [`d_${params[i]!.name}`, d])));
  const got = await compiled.run(toTyped(g, feeds));
  await compiled.release();

  const lossAt = (): number => evaluate(g, feeds, [loss])[0]!.data[0]!;
  for (const p of params) {
    const x = feeds[p.name]!;
    const analytic = got[`d_${p.name}`]! as Float32Array;
    const picks = x.length <= maxPerParam ? [...x.keys()] : Array.from({ length: maxPerParam }, () => rng.int(x.length));
    for (const i of picks) {
      const keep = x[i]!;
      x[i] = keep + eps;
      const up = lossAt();
      x[i] = keep - eps;
      const down = lossAt();
      x[i] = keep;
      const numeric = (up - down) / (2 * eps);
      const a = analytic[i]!;
      if (!(Math.abs(a - numeric) <= atol + rtol * Math.abs(numeric))) {
        assert.fail(`d${p.name}[${i}]: autodiff ${a}, finite differences ${numeric}`);
      }
    }
  }
}
