/**
 * Broadcasting and its adjoint, kept in one module because each is the other's
 * gradient: `expand` (broadcast to a shape) and `reduceSum` (sum over axes),
 * `unbroadcast` (a broadcast input's gradient summed back to its shape), and
 * the reduction builder the other reductions (reduce.ts) share.
 */
import { attrInts, attrNum, defineOp } from '../registry.js';
import type { Dim, Node, Tensor, Shape } from '../tensor.js';
import { broadcastShapes, fmt, normAxis, shapeEq, GraphError } from '../tensor.js';
import { nd, unravel, broadcastOffset, type NDArray, shapeOf } from '../ndarray.js';
import { matmul } from './matmul.js';
import { reshape } from './shape.js';
import { expectFloat, range } from './util.js';

function reducedShape<D extends Dim>(shape: readonly D[], axes: readonly number[], keep: boolean): D[] {
  const out: D[] = [];
  shape.forEach((d, i) => {
    if (!axes.includes(i)) out.push(d);
    else if (keep) out.push(1 as D);
  });
  return out;
}

function reduceRef(x: NDArray, axes: readonly number[], init: number, f: (acc: number, v: number) => number): NDArray {
  const keptShape = reducedShape(x.shape, axes, true);
  const out = nd(keptShape);
  out.data.fill(init);
  for (let k = 0; k < x.data.length; k++) {
    const o = broadcastOffset(unravel(k, x.shape), keptShape);
    out.data[o] = f(out.data[o]!, x.data[k]!);
  }
  return out;
}

/** The gradient of a keepdims-or-not reduction, reshaped to keepdims and broadcast back over x. */
export function spread(n: Node, dy: Tensor): Tensor {
  const x = n.inputs[0]!;
  const kept = reshape(dy, reducedShape(x.shape, attrInts(n, 'axes'), true));
  return expand(kept, x.shape);
}

export function defineReduce(op: string, onnx: string, init: number, f: (a: number, v: number) => number, post: (v: number, count: number) => number, grad: (n: Node, dy: Tensor) => Tensor) {
  defineOp(op, {
    emit: (n, e) =>
      e.add(onnx, [e.name(n.inputs[0]!), e.int64(attrInts(n, 'axes'))], [e.name(n.outputs[0]!)], { keepdims: attrNum(n, 'keepdims') }),
    ref: (n, [x]) => {
      const axes = attrInts(n, 'axes');
      const count = axes.reduce((a, ax) => a * x!.shape[ax]!, 1);
      const r = reduceRef(x!, axes, init, f);
      for (let i = 0; i < r.data.length; i++) r.data[i] = post(r.data[i]!, count);
      return [{ shape: [...shapeOf(n.outputs[0]!)], data: r.data }];
    },
    grad: (n, [dy]) => [grad(n, dy!)],
  });
  return (x: Tensor, axes: number | readonly number[], keepdims = false): Tensor => {
    expectFloat(op, x);
    const list = (typeof axes === 'number' ? [axes] : axes).map((a) => normAxis(op, a, x.rank));
    const sorted = [...new Set(list)].sort((a, b) => a - b);
    if (sorted.length !== list.length) throw new GraphError(`${op}: repeated axis in [${list.join(',')}]`);
    const shape = reducedShape(x.shape, sorted, keepdims);
    return x.graph.addNode(op, [x], { axes: sorted, keepdims: keepdims ? 1 : 0 }, [{ dtype: 'float32', shape }])[0]!;
  };
}

export const reduceSum = defineReduce('reduceSum', 'ReduceSum', 0, (a, v) => a + v, (v) => v, (n, dy) => spread(n, dy));

/** Sums a broadcast gradient back to `shape`: over added leading axes and over axes that were 1. */
export function unbroadcast(g: Tensor, shape: Shape): Tensor {
  if (shapeEq(g.shape, shape)) return g;
  const lead = g.rank - shape.length;
  const axes = range(g.rank).filter((i) => i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1));
  // A bias's gradient: every axis but the last (the common case, given its fast path).
  if (axes.length === g.rank - 1 && !axes.includes(g.rank - 1)) return reshape(sumLeading(g), shape);
  const summed = axes.length ? reduceSum(g, axes, true) : g;
  return reshape(summed, shape);
}

/** Rows at least this wide are summed by a ones-row matmul (see sumLeading). */
const MATMUL_SUM_WIDTH = 256;

/**
 * Σ over every axis but the last, [..., C] → [C] (bias and LayerNorm gradients). With static sizes and C ≥
 * 256 it is ones[1, rows] · x[rows, C]: ORT's ReduceSum over leading axes runs this 2–3× slower than a
 * GEMV (a 6×384 GPT's [2048, 1536] bias gradient 719 → 230 µs, [2048, 384] 163 → 82 µs); at C = 128
 * the two are even.
 */
export function sumLeading(x: Tensor): Tensor {
  const C = x.shape.at(-1)!;
  const rows = x.shape.slice(0, -1);
  if (typeof C !== 'number' || C < MATMUL_SUM_WIDTH || !rows.every((d) => typeof d === 'number') || rows.length === 0) {
    return rows.length ? reduceSum(x, range(x.rank - 1)) : x;
  }
  const R = (rows as number[]).reduce((a, b) => a * b, 1);
  const ones = x.graph.constant(new Float32Array(R).fill(1), 'float32', [1, R]);
  return reshape(matmul(ones, reshape(x, [R, C])), [C]);
}

defineOp('expand', {
  emit: (n, e) => e.add('Expand', [e.name(n.inputs[0]!), e.shape(n.outputs[0]!.shape)], [e.name(n.outputs[0]!)]),
  ref: (n, [x]) => {
    const shape = shapeOf(n.outputs[0]!);
    const out = nd(shape);
    for (let k = 0; k < out.data.length; k++) out.data[k] = x!.data[broadcastOffset(unravel(k, shape), x!.shape)]!;
    return [out];
  },
  grad: (n, [dy]) => [unbroadcast(dy!, n.inputs[0]!.shape)],
});

/** Broadcasts x to `shape` (numpy rules). */
export function expand(x: Tensor, shape: Shape): Tensor {
  if (shapeEq(x.shape, shape)) return x;
  const out = broadcastShapes('expand', x.shape, shape);
  if (!shapeEq(out, shape)) throw new GraphError(`expand: ${x} cannot be broadcast to ${fmt(shape)}`);
  return x.graph.addNode('expand', [x], {}, [{ dtype: x.dtype, shape }])[0]!;
}

/** A float32 zero tensor shaped like `t`, broadcast from one scalar (no large constant). */
export function zeros(t: { shape: Shape; graph: Tensor['graph'] }): Tensor {
  return expand(t.graph.constant(new Float32Array([0]), 'float32', []), t.shape);
}
