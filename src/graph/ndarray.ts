/**
 * A minimal float64 n-d array for the reference interpreter: each op's plain
 * TypeScript forward, used to check ONNX Runtime's results and to take finite
 * differences in double precision. Integer and boolean tensors hold their
 * values as doubles (indices are far below 2^53).
 */
import { shapeSize, staticShape } from './tensor.js';

/** The reference interpreter runs static shapes only. */
type Shape = readonly number[];

export interface NDArray {
  readonly shape: number[];
  readonly data: Float64Array;
}

export function nd(shape: Shape, data?: ArrayLike<number>): NDArray {
  const n = shapeSize(shape);
  const d = new Float64Array(n);
  if (data) {
    if (data.length !== n) throw new Error(`nd: ${data.length} values for shape [${shape.join(',')}]`);
    d.set(data);
  }
  return { shape: [...shape], data: d };
}

export function strides(shape: Shape): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

/** Multi-index of a flat offset. */
export function unravel(flat: number, shape: Shape): number[] {
  const idx = new Array<number>(shape.length);
  for (let i = shape.length - 1; i >= 0; i--) {
    const d = shape[i]!;
    idx[i] = flat % d;
    flat = Math.floor(flat / d);
  }
  return idx;
}

/** Flat offset into `shape` of a multi-index aligned to the right and broadcast (size-1 dims read index 0). */
export function broadcastOffset(idx: readonly number[], shape: Shape): number {
  let off = 0;
  let stride = 1;
  for (let i = shape.length - 1, j = idx.length - 1; i >= 0; i--, j--) {
    const d = shape[i]!;
    if (d !== 1) off += idx[j]! * stride;
    stride *= d;
  }
  return off;
}

export function mapBroadcast(outShape: Shape, arrays: readonly NDArray[], f: (...xs: number[]) => number): NDArray {
  const out = nd(outShape);
  const xs = new Array<number>(arrays.length);
  for (let k = 0; k < out.data.length; k++) {
    const idx = unravel(k, outShape);
    for (let a = 0; a < arrays.length; a++) xs[a] = arrays[a]!.data[broadcastOffset(idx, arrays[a]!.shape)]!;
    out.data[k] = f(...xs);
  }
  return out;
}

export function map(x: NDArray, f: (v: number) => number): NDArray {
  const out = nd(x.shape);
  for (let i = 0; i < x.data.length; i++) out.data[i] = f(x.data[i]!);
  return out;
}

/**
 * Applies `f` to every 1-d lane along `axis` (e.g. softmax rows). `f` reads the
 * lane through `get(i)` and writes the output lane through `set(i, v)`.
 */
export function lanes(
  x: NDArray,
  axis: number,
  outLen: number,
  f: (get: (i: number) => number, set: (i: number, v: number) => void, len: number) => void,
): NDArray {
  const outShape = [...x.shape];
  outShape[axis] = outLen;
  const out = nd(outShape);
  const inStride = strides(x.shape)[axis]!;
  const outStride = strides(outShape)[axis]!;
  const len = x.shape[axis]!;
  const outer = x.shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const inner = inStride;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * len * inner + i;
      const obase = o * outLen * inner + i;
      f(
        (j) => x.data[base + j * inStride]!,
        (j, v) => {
          out.data[obase + j * outStride] = v;
        },
        len,
      );
    }
  }
  return out;
}

/** A tensor's shape for the reference interpreter, which runs static graphs only. */
export function shapeOf(t: { shape: readonly (number | string)[] }): number[] {
  return staticShape('reference interpreter', t.shape);
}
