/**
 * Elementwise ops with numpy broadcasting. Each gradient of a broadcast input
 * is summed back to that input's shape (`unbroadcast`).
 */
import { defineOp } from '../registry.js';
import type { Node, Tensor, DType } from '../tensor.js';
import { broadcastShapes, GraphError } from '../tensor.js';
import { map, mapBroadcast, shapeOf } from '../ndarray.js';
import { unbroadcast } from './broadcast.js';
import { expectFloat, lift } from './util.js';

// ---------------------------------------------------------------- binary

type Binary = (a: Tensor | number, b: Tensor | number) => Tensor;

function binaryBuilder(op: string, onnx: string, f: (a: number, b: number) => number, grad: (n: Node, dy: Tensor) => [Tensor, Tensor]): Binary {
  defineOp(op, {
    emit: (n, e) => e.add(onnx, n.inputs.map(e.name), [e.name(n.outputs[0]!)]),
    ref: (n, [a, b]) => [mapBroadcast(shapeOf(n.outputs[0]!), [a!, b!], f)],
    grad: (n, [dy]) => {
      const [da, db] = grad(n, dy!);
      return [unbroadcast(da, n.inputs[0]!.shape), unbroadcast(db, n.inputs[1]!.shape)];
    },
  });
  return (a, b) => {
    const ref = typeof a === 'number' ? (b as Tensor) : a;
    // int64 arithmetic serves index computations (positions, masks); it never carries gradients.
    const ta = typeof a === 'number' ? constLike(ref, a) : a;
    const tb = typeof b === 'number' ? constLike(ref, b) : b;
    if (!(ta.dtype === tb.dtype && (ta.dtype === 'float32' || ta.dtype === 'int64'))) {
      throw new GraphError(`${op}: expected two float32 or two int64 tensors, got ${ta} and ${tb}`);
    }
    const shape = broadcastShapes(op, ta.shape, tb.shape);
    return ref.graph.addNode(op, [ta, tb], {}, [{ dtype: ta.dtype, shape }])[0]!;
  };
}

export const add = binaryBuilder('add', 'Add', (a, b) => a + b, (_n, dy) => [dy, dy]);
export const sub = binaryBuilder('sub', 'Sub', (a, b) => a - b, (_n, dy) => [dy, neg(dy)]);
export const mul = binaryBuilder('mul', 'Mul', (a, b) => a * b, (n, dy) => [mul(dy, n.inputs[1]!), mul(dy, n.inputs[0]!)]);
// y = a / b: dy/da = 1/b, dy/db = -a/b² = -y/b
export const div = binaryBuilder('div', 'Div', (a, b) => a / b, (n, dy) => {
  const [, b] = n.inputs;
  const da = div(dy, b!);
  return [da, neg(mul(da, n.outputs[0]!))];
});
// y = a^b: dy/da = b·a^(b-1), dy/db = y·ln a
export const pow = binaryBuilder('pow', 'Pow', (a, b) => a ** b, (n, dy) => {
  const [a, b] = n.inputs;
  const y = n.outputs[0]!;
  return [mul(dy, mul(b!, pow(a!, sub(b!, 1)))), mul(dy, mul(y, log(a!)))];
});

// ---------------------------------------------------------------- unary

type Unary = (x: Tensor) => Tensor;

function unaryBuilder(op: string, onnx: string, f: (x: number) => number, grad: (n: Node, dy: Tensor) => Tensor, attrs = {}): Unary {
  defineOp(op, {
    emit: (n, e) => e.add(onnx, [e.name(n.inputs[0]!)], [e.name(n.outputs[0]!)], attrs),
    ref: (_n, [x]) => [map(x!, f)],
    grad: (n, [dy]) => [grad(n, dy!)],
  });
  return (x) => {
    expectFloat(op, x);
    return x.graph.addNode(op, [x], {}, [{ dtype: 'float32', shape: x.shape }])[0]!;
  };
}

const y = (n: Node) => n.outputs[0]!;
const x0 = (n: Node) => n.inputs[0]!;

export const neg = unaryBuilder('neg', 'Neg', (x) => -x, (_n, dy) => neg(dy));
export const exp = unaryBuilder('exp', 'Exp', Math.exp, (n, dy) => mul(dy, y(n)));
export const log = unaryBuilder('log', 'Log', Math.log, (n, dy) => div(dy, x0(n)));
export const sqrt = unaryBuilder('sqrt', 'Sqrt', Math.sqrt, (n, dy) => div(mul(dy, 0.5), y(n)));
export const tanh = unaryBuilder('tanh', 'Tanh', Math.tanh, (n, dy) => mul(dy, sub(1, mul(y(n), y(n)))));
const sigm = (x: number) => 1 / (1 + Math.exp(-x));
export const sigmoid = unaryBuilder('sigmoid', 'Sigmoid', sigm, (n, dy) => mul(dy, mul(y(n), sub(1, y(n)))));
export const relu = unaryBuilder('relu', 'Relu', (x) => Math.max(0, x), (n, dy) => where(greater(x0(n), 0), dy, 0));

// GPT-2's gelu_new: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))). ONNX Gelu (opset 20)
// computes exactly this with approximate='tanh'; the backward is written out.
const GELU_K = Math.sqrt(2 / Math.PI);
const GELU_C = 0.044715;
const geluRef = (x: number) => 0.5 * x * (1 + Math.tanh(GELU_K * (x + GELU_C * x * x * x)));
export const gelu = unaryBuilder('gelu', 'Gelu', geluRef, (n, dy) => {
  // With s = σ(2u) = (1 + tanh u)/2, u = K·(x + C·x³):  d/dx = s + 2K·x·(1 + 3C·x²)·s·(1 − s).
  // 13 elementwise passes where the tanh form takes 17 (this backward is ~6% of a GPT's training step).
  const x = x0(n);
  const x2 = mul(x, x);
  const s = sigmoid(mul(x, add(mul(x2, 2 * GELU_K * GELU_C), 2 * GELU_K)));
  const r = mul(x, add(mul(x2, 6 * GELU_K * GELU_C), 2 * GELU_K));
  return mul(dy, add(mul(r, sub(s, mul(s, s))), s));
}, { approximate: 'tanh' });

// ---------------------------------------------------------------- comparisons (no gradient)

function compareBuilder(op: string, onnx: string, f: (a: number, b: number) => boolean): Binary {
  defineOp(op, {
    emit: (n, e) => e.add(onnx, n.inputs.map(e.name), [e.name(n.outputs[0]!)]),
    ref: (n, [a, b]) => [mapBroadcast(shapeOf(n.outputs[0]!), [a!, b!], (u, v) => (f(u, v) ? 1 : 0))],
  });
  return (a, b) => {
    const ref = typeof a === 'number' ? (b as Tensor) : a;
    const ta = typeof a === 'number' ? constLike(ref, a) : a;
    const tb = typeof b === 'number' ? constLike(ref, b) : b;
    if (ta.dtype !== tb.dtype) throw new GraphError(`${op}: dtypes differ (${ta}, ${tb})`);
    const shape = broadcastShapes(op, ta.shape, tb.shape);
    return ref.graph.addNode(op, [ta, tb], {}, [{ dtype: 'bool', shape }])[0]!;
  };
}

/** A scalar constant of `ref`'s dtype. */
function constLike(ref: Tensor, v: number): Tensor {
  const g = ref.graph;
  switch (ref.dtype) {
    case 'float32': return g.constant(new Float32Array([v]), 'float32', []);
    case 'int64': return g.constant(new BigInt64Array([BigInt(v)]), 'int64', []);
    case 'int32': return g.constant(new Int32Array([v]), 'int32', []);
    case 'bool': return g.constant(new Uint8Array([v ? 1 : 0]), 'bool', []);
  }
}

export const greater = compareBuilder('greater', 'Greater', (a, b) => a > b);
export const less = compareBuilder('less', 'Less', (a, b) => a < b);
export const equal = compareBuilder('equal', 'Equal', (a, b) => a === b);

// ---------------------------------------------------------------- where, cast

defineOp('where', {
  emit: (n, e) => e.add('Where', n.inputs.map(e.name), [e.name(n.outputs[0]!)]),
  ref: (n, [c, a, b]) => [mapBroadcast(shapeOf(n.outputs[0]!), [c!, a!, b!], (cv, av, bv) => (cv ? av : bv))],
  grad: (n, [dy]) => {
    const [c, a, b] = n.inputs;
    return [undefined, unbroadcast(where(c!, dy!, 0), a!.shape), unbroadcast(where(c!, 0, dy!), b!.shape)];
  },
});

/** cond ? a : b, broadcasting all three. */
export function where(cond: Tensor, a: Tensor | number, b: Tensor | number): Tensor {
  if (cond.dtype !== 'bool') throw new GraphError(`where: condition must be bool, got ${cond}`);
  const ta = lift(cond, a);
  const tb = lift(cond, b);
  expectFloat('where', ta, tb);
  const shape = broadcastShapes('where', broadcastShapes('where', cond.shape, ta.shape), tb.shape);
  return cond.graph.addNode('where', [cond, ta, tb], {}, [{ dtype: 'float32', shape }])[0]!;
}

const ONNX_DTYPE: Record<DType, number> = { float32: 1, int32: 6, int64: 7, bool: 9 };
/** ONNX's DOUBLE: no graph tensor has it, but an op may compute in it between its own nodes (ops/sample.ts). */
const ONNX_FLOAT64 = 11;
export { ONNX_DTYPE, ONNX_FLOAT64 };

defineOp('cast', {
  emit: (n, e) => e.add('Cast', [e.name(n.inputs[0]!)], [e.name(n.outputs[0]!)], { to: ONNX_DTYPE[n.outputs[0]!.dtype] }),
  ref: (n, [x]) => {
    const to = n.outputs[0]!.dtype;
    return [map(x!, (v) => (to === 'bool' ? (v !== 0 ? 1 : 0) : to === 'float32' ? Math.fround(v) : Math.trunc(v)))];
  },
});

/** Changes dtype. Casts carry no gradient: they only ever move masks and indices to float. */
export function cast(x: Tensor, dtype: DType): Tensor {
  if (x.dtype === dtype) return x;
  return x.graph.addNode('cast', [x], {}, [{ dtype, shape: x.shape }])[0]!;
}
