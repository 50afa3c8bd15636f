/** Indexing ops: gather and its adjoint scatterAddRows, one-hot, argmax, and the run-time shape queries dimSize and arange. */
import { attrNum, defineOp } from '../registry.js';
import type { DType, Tensor } from '../tensor.js';
import { normAxis, shapeSize, staticDim, GraphError } from '../tensor.js';
import { nd, strides, unravel, shapeOf } from '../ndarray.js';
import { reshape, transpose } from './shape.js';
import { range } from './util.js';

// ---------------------------------------------------------------- gather / scatterAddRows (adjoint pair)

function isIndex(dtype: DType): boolean {
  return dtype === 'int64' || dtype === 'int32';
}

defineOp('gather', {
  emit: (n, e) => e.add('Gather', n.inputs.map(e.name), [e.name(n.outputs[0]!)], { axis: attrNum(n, 'axis') }),
  ref: (n, [data, idx]) => {
    const axis = attrNum(n, 'axis');
    const outShape = shapeOf(n.outputs[0]!);
    const out = nd(outShape);
    const dStr = strides(data!.shape);
    const m = idx!.shape.length;
    for (let k = 0; k < out.data.length; k++) {
      const o = unravel(k, outShape);
      const idxFlat = o.slice(axis, axis + m).reduce((acc, v, i) => acc * idx!.shape[i]! + v, 0);
      let row = idx!.data[idxFlat]!;
      if (row < 0) row += data!.shape[axis]!;
      const src = [...o.slice(0, axis), row, ...o.slice(axis + m)];
      out.data[k] = data!.data[src.reduce((acc, v, i) => acc + v * dStr[i]!, 0)]!;
    }
    return [out];
  },
  grad: (n, [dy]) => {
    const [data, idx] = n.inputs;
    const axis = attrNum(n, 'axis');
    const m = idx!.rank;
    // Bring the gathered-index axes to the front, flatten them to rows, scatter-add, then move the row axis back.
    const pre = range(axis);
    const post = range(dy!.rank - axis - m).map((i) => axis + m + i);
    const front = transpose(dy!, [...range(m).map((i) => axis + i), ...pre, ...post]);
    const rows = reshape(front, [idx!.size, ...front.shape.slice(m)]);
    const scattered = scatterAddRows(rows, reshape(idx!, [idx!.size]), staticDim('gather', data!.shape[axis]));
    return [transpose(scattered, [...range(axis).map((i) => i + 1), 0, ...post.map((_, i) => axis + 1 + i)]), undefined];
  },
});

/** Picks entries of `data` along `axis` at `indices` (any shape); the embedding lookup is gather(wte, ids, 0). */
export function gather(data: Tensor, indices: Tensor, axis = 0): Tensor {
  if (!isIndex(indices.dtype)) throw new GraphError(`gather: indices must be int64 or int32, got ${indices}`);
  const a = normAxis('gather', axis, data.rank);
  const shape = [...data.shape.slice(0, a), ...indices.shape, ...data.shape.slice(a + 1)];
  return data.graph.addNode('gather', [data, indices], { axis: a }, [{ dtype: data.dtype, shape }])[0]!;
}

defineOp('scatterAddRows', {
  emit: (n, e) => {
    const [upd, idx] = n.inputs;
    const out = n.outputs[0]!;
    const zero = e.tmp('zeros');
    e.add('Expand', [e.float(0), e.shape(out.shape)], [zero]);
    let idx64 = e.name(idx!);
    if (idx!.dtype !== 'int64') {
      idx64 = e.tmp('idx64');
      e.add('Cast', [e.name(idx!)], [idx64], { to: 7 });
    }
    const col = e.tmp('idx_col');
    e.add('Reshape', [idx64, e.int64([idx!.size, 1])], [col]);
    e.add('ScatterND', [zero, col, e.name(upd!)], [e.name(out)], { reduction: 'add' });
  },
  ref: (n, [upd, idx]) => {
    const out = nd(shapeOf(n.outputs[0]!));
    const rowLen = shapeSize(upd!.shape.slice(1));
    for (let r = 0; r < idx!.data.length; r++) {
      let row = idx!.data[r]!;
      if (row < 0) row += out.shape[0]!;
      for (let i = 0; i < rowLen; i++) out.data[row * rowLen + i]! += upd!.data[r * rowLen + i]!;
    }
    return [out];
  },
  grad: (n, [dy]) => [gather(dy!, n.inputs[1]!, 0), undefined],
});

/** out[indices[r]] += updates[r] into `rows` zero rows: the adjoint of gather along axis 0. */
export function scatterAddRows(updates: Tensor, indices: Tensor, rows: number): Tensor {
  if (!isIndex(indices.dtype) || indices.rank !== 1 || indices.shape[0] !== updates.shape[0]) {
    throw new GraphError(`scatterAddRows: indices ${indices} must be 1-d ints matching the rows of ${updates}`);
  }
  return updates.graph.addNode('scatterAddRows', [updates, indices], {}, [{ dtype: 'float32', shape: [rows, ...updates.shape.slice(1)] }])[0]!;
}

// ---------------------------------------------------------------- one-hot (no gradient)

defineOp('oneHot', {
  emit: (n, e) => {
    const depth = staticDim('oneHot', n.outputs[0]!.shape.at(-1));
    e.add('OneHot', [e.name(n.inputs[0]!), e.int64([depth]), e.float([0, 1])], [e.name(n.outputs[0]!)], { axis: -1 });
  },
  ref: (n, [idx]) => {
    const depth = shapeOf(n.outputs[0]!).at(-1)!;
    const out = nd(shapeOf(n.outputs[0]!));
    idx!.data.forEach((v, i) => {
      const c = v < 0 ? v + depth : v;
      if (c >= 0 && c < depth) out.data[i * depth + c] = 1;
    });
    return [out];
  },
});

/** float32 one-hot vectors of length `depth` along a new last axis. */
export function oneHot(indices: Tensor, depth: number): Tensor {
  if (!isIndex(indices.dtype)) throw new GraphError(`oneHot: indices must be int64 or int32, got ${indices}`);
  return indices.graph.addNode('oneHot', [indices], {}, [{ dtype: 'float32', shape: [...indices.shape, depth] }])[0]!;
}

// ---------------------------------------------------------------- argmax (no gradient)

defineOp('argmax', {
  // select_last_index 0: the first of equal maxima, as generate/sampling.ts's argmax, so greedy decoding
  // inside a graph picks the token the JavaScript sampler would.
  emit: (n, e) => e.add('ArgMax', [e.name(n.inputs[0]!)], [e.name(n.outputs[0]!)], { axis: -1, keepdims: 0, select_last_index: 0 }),
  ref: (n, [x]) => {
    const width = x!.shape.at(-1)!;
    const out = nd(shapeOf(n.outputs[0]!));
    for (let r = 0; r < out.data.length; r++) {
      let best = 0;
      for (let j = 1; j < width; j++) if (x!.data[r * width + j]! > x!.data[r * width + best]!) best = j;
      out.data[r] = best;
    }
    return [out];
  },
});

/** Index (int64) of the largest value along the last axis, the first one on ties; that axis is dropped. */
export function argmax(x: Tensor): Tensor {
  if (x.dtype !== 'float32' || x.rank < 1) throw new GraphError(`argmax: needs a float32 tensor of rank ≥ 1, got ${x}`);
  return x.graph.addNode('argmax', [x], {}, [{ dtype: 'int64', shape: x.shape.slice(0, -1) }])[0]!;
}

// ---------------------------------------------------------------- shape queries (no gradient)

defineOp('dimSize', {
  emit: (n, e) => {
    const dim = e.tmp('dim');
    e.add('Shape', [e.name(n.inputs[0]!)], [dim], { start: attrNum(n, 'axis'), end: attrNum(n, 'axis') + 1 });
    e.add('Reshape', [dim, e.int64([])], [e.name(n.outputs[0]!)]);
  },
  ref: (n, [x]) => [nd([], [x!.shape[attrNum(n, 'axis')]!])],
});

/** The run-time size of `axis` of x, as an int64 scalar (how a decoder learns its past length). */
export function dimSize(x: Tensor, axis: number): Tensor {
  return x.graph.addNode('dimSize', [x], { axis: normAxis('dimSize', axis, x.rank) }, [{ dtype: 'int64', shape: [] }])[0]!;
}

defineOp('arange', {
  emit: (n, e) => {
    const limit = e.tmp('limit');
    const dim = e.tmp('dim');
    e.add('Shape', [e.name(n.inputs[0]!)], [dim], { start: attrNum(n, 'axis'), end: attrNum(n, 'axis') + 1 });
    e.add('Reshape', [dim, e.int64([])], [limit]);
    e.add('Range', [e.int64Scalar(0), limit, e.int64Scalar(1)], [e.name(n.outputs[0]!)]);
  },
  ref: (n, [x]) => {
    const d = x!.shape[attrNum(n, 'axis')]!;
    return [nd([d], Array.from({ length: d }, (_, i) => i))];
  },
});

/** int64 [0, 1, …, d − 1] where d is the (possibly symbolic) size of `axis` of x: positions along a sequence. */
export function arange(x: Tensor, axis: number): Tensor {
  const a = normAxis('arange', axis, x.rank);
  return x.graph.addNode('arange', [x], { axis: a }, [{ dtype: 'int64', shape: [x.shape[a]!] }])[0]!;
}
