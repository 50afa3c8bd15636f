/** Ops that move data without arithmetic: reshape, transpose, slice/pad, concat/split. */
import { attrInts, attrNum, defineOp } from '../registry.js';
import type { Dim, Node, Tensor } from '../tensor.js';
import { addDims, fmt, isStatic, normAxis, shapeSize, shapeEq, staticDim, GraphError } from '../tensor.js';
import { nd, strides, unravel, type NDArray, shapeOf } from '../ndarray.js';
import { inversePerm, range } from './util.js';

// ---------------------------------------------------------------- reshape

defineOp('reshape', {
  emit: (n, e) => e.add('Reshape', [e.name(n.inputs[0]!), e.shape(n.outputs[0]!.shape)], [e.name(n.outputs[0]!)]),
  ref: (n, [x]) => [{ shape: [...shapeOf(n.outputs[0]!)], data: x!.data }],
  grad: (n, [dy]) => [reshape(dy!, n.inputs[0]!.shape)],
});

/**
 * Reshape; with static shapes one dimension may be -1 (inferred). With symbolic
 * dimensions the target must keep the same symbols and the same static product.
 */
export function reshape(x: Tensor, shape: readonly Dim[]): Tensor {
  const fail = () => new GraphError(`reshape: cannot reshape ${x} to ${fmt(shape)}`);
  let resolved: Dim[];
  if (isStatic(x.shape) && shape.every((d) => typeof d === 'number')) {
    const known = (shape as number[]).filter((d) => d !== -1);
    const knownSize = shapeSize(known);
    resolved = shape.map((d) => (d === -1 ? x.size / knownSize : d));
    const ok = shape.length - known.length <= 1 && (resolved as number[]).every((d) => Number.isInteger(d) && d >= 0) && shapeSize(resolved as number[]) === x.size;
    if (!ok) throw fail();
  } else {
    const symbols = (s: readonly Dim[]) => s.filter((d) => typeof d === 'string').sort().join(',');
    const product = (s: readonly Dim[]) => shapeSize(s.filter((d): d is number => typeof d === 'number'));
    if (shape.includes(-1) || symbols(shape) !== symbols(x.shape) || product(shape) !== product(x.shape)) throw fail();
    resolved = [...shape];
  }
  if (shapeEq(resolved, x.shape)) return x;
  return x.graph.addNode('reshape', [x], {}, [{ dtype: x.dtype, shape: resolved }])[0]!;
}

// ---------------------------------------------------------------- transpose

function transposeRef(x: NDArray, perm: readonly number[]): NDArray {
  const outShape = perm.map((p) => x.shape[p]!);
  const out = nd(outShape);
  const inStrides = strides(x.shape);
  for (let k = 0; k < out.data.length; k++) {
    const idx = unravel(k, outShape);
    let off = 0;
    idx.forEach((v, i) => (off += v * inStrides[perm[i]!]!));
    out.data[k] = x.data[off]!;
  }
  return out;
}

defineOp('transpose', {
  emit: (n, e) => e.add('Transpose', [e.name(n.inputs[0]!)], [e.name(n.outputs[0]!)], { perm: attrInts(n, 'perm') }),
  ref: (n, [x]) => [transposeRef(x!, attrInts(n, 'perm'))],
  grad: (n, [dy]) => [transpose(dy!, inversePerm(attrInts(n, 'perm')))],
});

export function transpose(x: Tensor, perm: readonly number[]): Tensor {
  const sorted = [...perm].sort((a, b) => a - b);
  if (perm.length !== x.rank || sorted.some((p, i) => p !== i)) {
    throw new GraphError(`transpose: perm [${perm.join(',')}] is not a permutation of ${x.rank} axes (${x})`);
  }
  if (perm.every((p, i) => p === i)) return x;
  return x.graph.addNode('transpose', [x], { perm: [...perm] }, [{ dtype: x.dtype, shape: perm.map((p) => x.shape[p]!) }])[0]!;
}

/** Swaps the last two axes (matrix transpose of every batch entry). */
export function transposeLast(x: Tensor): Tensor {
  const perm = range(x.rank);
  [perm[x.rank - 2], perm[x.rank - 1]] = [perm[x.rank - 1]!, perm[x.rank - 2]!];
  return transpose(x, perm);
}

// ---------------------------------------------------------------- slice / pad (adjoint pair)

/** Copies the window [start, end) along `axis` of `src` into `dst` at offset `at` along the same axis. */
function copyAlong(src: NDArray, dst: NDArray, axis: number, start: number, len: number, at: number): void {
  const sStr = strides(src.shape)[axis]!;
  const dStr = strides(dst.shape)[axis]!;
  const outer = src.shape.slice(0, axis).reduce((a, b) => a * b, 1);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < len; j++) {
      const s = o * src.shape[axis]! * sStr + (start + j) * sStr;
      const d = o * dst.shape[axis]! * dStr + (at + j) * dStr;
      for (let i = 0; i < sStr; i++) dst.data[d + i] = src.data[s + i]!;
    }
  }
}

defineOp('slice', {
  emit: (n, e) => {
    const [axis, start, end] = [attrNum(n, 'axis'), attrNum(n, 'start'), attrNum(n, 'end')];
    e.add('Slice', [e.name(n.inputs[0]!), e.int64([start]), e.int64([end]), e.int64([axis])], [e.name(n.outputs[0]!)]);
  },
  ref: (n, [x]) => {
    const [axis, start, end] = [attrNum(n, 'axis'), attrNum(n, 'start'), attrNum(n, 'end')];
    const out = nd(shapeOf(n.outputs[0]!));
    copyAlong(x!, out, axis, start, end - start, 0);
    return [out];
  },
  grad: (n, [dy]) => {
    const x = n.inputs[0]!;
    const axis = attrNum(n, 'axis');
    return [pad(dy!, axis, attrNum(n, 'start'), staticDim('slice', x.shape[axis]) - attrNum(n, 'end'))];
  },
});

/** x[..., start:end, ...] along `axis` (Python-style negative bounds allowed). */
export function slice(x: Tensor, axis: number, start: number, end: number): Tensor {
  const a = normAxis('slice', axis, x.rank);
  const d = staticDim(`slice of ${x}`, x.shape[a]);
  const s = start < 0 ? start + d : start;
  const en = end < 0 ? end + d : Math.min(end, d);
  if (s < 0 || s > en || en > d) throw new GraphError(`slice: [${start}:${end}] out of range for axis ${axis} of ${x}`);
  if (s === 0 && en === d) return x;
  const shape = [...x.shape];
  shape[a] = en - s;
  return x.graph.addNode('slice', [x], { axis: a, start: s, end: en }, [{ dtype: x.dtype, shape }])[0]!;
}

defineOp('pad', {
  emit: (n, e) => {
    const x = n.inputs[0]!;
    const pads = new Array<number>(2 * x.rank).fill(0);
    pads[attrNum(n, 'axis')] = attrNum(n, 'before');
    pads[x.rank + attrNum(n, 'axis')] = attrNum(n, 'after');
    e.add('Pad', [e.name(x), e.int64(pads)], [e.name(n.outputs[0]!)], { mode: 'constant' });
  },
  ref: (n, [x]) => {
    const out = nd(shapeOf(n.outputs[0]!));
    const axis = attrNum(n, 'axis');
    copyAlong(x!, out, axis, 0, x!.shape[axis]!, attrNum(n, 'before'));
    return [out];
  },
  grad: (n, [dy]) => {
    const axis = attrNum(n, 'axis');
    const before = attrNum(n, 'before');
    return [slice(dy!, axis, before, before + staticDim('pad', n.inputs[0]!.shape[axis]))];
  },
});

/** Zero-pads `before` and `after` entries along `axis`. */
export function pad(x: Tensor, axis: number, before: number, after: number): Tensor {
  const a = normAxis('pad', axis, x.rank);
  if (before < 0 || after < 0) throw new GraphError(`pad: negative padding ${before},${after}`);
  if (before === 0 && after === 0) return x;
  const shape = [...x.shape];
  shape[a] = staticDim(`pad of ${x}`, shape[a]) + before + after;
  return x.graph.addNode('pad', [x], { axis: a, before, after }, [{ dtype: x.dtype, shape }])[0]!;
}

// ---------------------------------------------------------------- concat / split (adjoint pair)

defineOp('concat', {
  emit: (n, e) => e.add('Concat', n.inputs.map(e.name), [e.name(n.outputs[0]!)], { axis: attrNum(n, 'axis') }),
  ref: (n, xs) => {
    const axis = attrNum(n, 'axis');
    const out = nd(shapeOf(n.outputs[0]!));
    let at = 0;
    for (const x of xs) {
      copyAlong(x, out, axis, 0, x.shape[axis]!, at);
      at += x.shape[axis]!;
    }
    return [out];
  },
  grad: (n, [dy]) => {
    const axis = attrNum(n, 'axis');
    let at = 0;
    return n.inputs.map((x) => {
      const len = staticDim('concat', x.shape[axis]);
      const s = slice(dy!, axis, at, at + len);
      at += len;
      return s;
    });
  },
});

export function concat(xs: readonly Tensor[], axis: number): Tensor {
  if (xs.length === 0) throw new GraphError('concat: no inputs');
  const first = xs[0]!;
  const a = normAxis('concat', axis, first.rank);
  for (const x of xs) {
    const ok = x.rank === first.rank && x.dtype === first.dtype && x.shape.every((d, i) => i === a || d === first.shape[i]);
    if (!ok) throw new GraphError(`concat: ${x} does not match ${first} outside axis ${axis}`);
  }
  if (xs.length === 1) return first;
  const shape = [...first.shape];
  shape[a] = xs.reduce<Dim>((s, x) => addDims(s, x.shape[a]!), 0);
  return first.graph.addNode('concat', xs, { axis: a }, [{ dtype: first.dtype, shape }])[0]!;
}

defineOp('split', {
  emit: (n, e) =>
    e.add('Split', [e.name(n.inputs[0]!), e.int64(attrInts(n, 'sizes'))], n.outputs.map(e.name), { axis: attrNum(n, 'axis') }),
  ref: (n, [x]) => {
    const axis = attrNum(n, 'axis');
    let at = 0;
    return n.outputs.map((o) => {
      const shape = shapeOf(o);
      const out = nd(shape);
      copyAlong(x!, out, axis, at, shape[axis]!, 0);
      at += shape[axis]!;
      return out;
    });
  },
  grad: (n, dys) => [splitGradient(n, dys)],
});

/** The pieces' gradients joined back; outputs that received none contribute zeros, as padding of their neighbours. */
function splitGradient(n: Node, dys: readonly (Tensor | undefined)[]): Tensor {
  const axis = attrNum(n, 'axis');
  const sizes = attrInts(n, 'sizes');
  const pieces: Tensor[] = [];
  let gap = 0;
  n.outputs.forEach((_, i) => {
    const dy = dys[i];
    if (!dy) {
      gap += sizes[i]!;
      return;
    }
    if (pieces.length === 0) pieces.push(pad(dy, axis, gap, 0));
    else pieces.push(pad(pieces.pop()!, axis, 0, gap), dy);
    gap = 0;
  });
  pieces.push(pad(pieces.pop()!, axis, 0, gap));
  return pieces.length === 1 ? pieces[0]! : concat(pieces, axis);
}

/** Splits along `axis` into pieces of the given sizes (or `sizes` equal pieces when a number). */
export function split(x: Tensor, axis: number, sizes: number | readonly number[]): Tensor[] {
  const a = normAxis('split', axis, x.rank);
  const d = staticDim(`split of ${x}`, x.shape[a]);
  const list = typeof sizes === 'number' ? new Array<number>(sizes).fill(d / sizes) : [...sizes];
  if (list.some((s) => !Number.isInteger(s) || s <= 0) || list.reduce((s, v) => s + v, 0) !== d) {
    throw new GraphError(`split: sizes [${list.join(',')}] do not partition axis ${axis} of ${x}`);
  }
  const outs = list.map((s) => {
    const shape = [...x.shape];
    shape[a] = s;
    return { dtype: x.dtype, shape };
  });
  return x.graph.addNode('split', [x], { axis: a, sizes: list }, outs);
}
