/** Small helpers shared by the op modules. */
import type { Shape, Tensor } from '../tensor.js';
import { GraphError, fmt } from '../tensor.js';

export function scalarLike(ref: Tensor, v: number): Tensor {
  return ref.graph.constant(new Float32Array([v]), 'float32', []);
}

/** Accepts a number where a tensor is expected, as a float32 scalar constant in `ref`'s graph. */
export function lift(ref: Tensor, v: Tensor | number): Tensor {
  return typeof v === 'number' ? scalarLike(ref, v) : v;
}

export function expectFloat(op: string, ...ts: Tensor[]): void {
  for (const t of ts) {
    if (t.dtype !== 'float32') throw new GraphError(`${op}: expected a float32 tensor, got ${t}`);
  }
}

export function expectDtype(op: string, t: Tensor, ...dtypes: string[]): void {
  if (!dtypes.includes(t.dtype)) throw new GraphError(`${op}: expected ${dtypes.join(' or ')}, got ${t}`);
}

export function expectRank(op: string, t: Tensor, min: number): void {
  if (t.rank < min) throw new GraphError(`${op}: expected rank >= ${min}, got ${t} ${fmt(t.shape)}`);
}

export function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

export function inversePerm(perm: readonly number[]): number[] {
  const inv = new Array<number>(perm.length);
  perm.forEach((p, i) => (inv[p] = i));
  return inv;
}

export const same = (s: Shape): Shape => s;
