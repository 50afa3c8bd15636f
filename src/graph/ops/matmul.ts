/** Batched matrix multiply with numpy batch broadcasting: [..., M, K] @ [..., K, N] → [..., M, N]. */
import { defineOp } from '../registry.js';
import type { Tensor } from '../tensor.js';
import { broadcastShapes, fmt, GraphError } from '../tensor.js';
import { nd, unravel, broadcastOffset, shapeOf } from '../ndarray.js';
import { unbroadcast } from './broadcast.js';
import { reshape, transposeLast } from './shape.js';
import { expectFloat, expectRank } from './util.js';

defineOp('matmul', {
  emit: (n, e) => e.add('MatMul', n.inputs.map(e.name), [e.name(n.outputs[0]!)]),
  ref: (n, [a, b]) => {
    const outShape = shapeOf(n.outputs[0]!);
    const [M, K, N] = [a!.shape.at(-2)!, a!.shape.at(-1)!, b!.shape.at(-1)!];
    const batchShape = outShape.slice(0, -2);
    const aBatch = a!.shape.slice(0, -2);
    const bBatch = b!.shape.slice(0, -2);
    const out = nd(outShape);
    const batches = out.data.length / (M * N);
    for (let bi = 0; bi < batches; bi++) {
      const idx = unravel(bi, batchShape);
      const ao = broadcastOffset(idx, aBatch) * M * K;
      const bo = broadcastOffset(idx, bBatch) * K * N;
      for (let i = 0; i < M; i++) {
        for (let j = 0; j < N; j++) {
          let s = 0;
          for (let k = 0; k < K; k++) s += a!.data[ao + i * K + k]! * b!.data[bo + k * N + j]!;
          out.data[bi * M * N + i * N + j] = s;
        }
      }
    }
    return [out];
  },
  grad: (n, [dy]) => {
    const [a, b] = n.inputs;
    const g = dy!;
    // dA = dY·Bᵀ, dB = Aᵀ·dY, each summed over the batch axes its input was broadcast along.
    const da = unbroadcast(matmul(g, transposeLast(b!)), a!.shape);
    let db: Tensor;
    if (b!.rank === 2 && a!.rank > 2) {
      // A shared weight under a batched input: fold the batch into rows so dB is one GEMM, not a batch of outer products summed.
      const K = a!.shape.at(-1)!;
      const N = b!.shape[1]!;
      db = matmul(transposeLast(reshape(a!, [-1, K])), reshape(g, [-1, N]));
    } else {
      db = unbroadcast(matmul(transposeLast(a!), g), b!.shape);
    }
    return [da, db];
  },
});

export interface MatmulOptions {
  /** Use Aᵀ (last two axes swapped). */
  transA?: boolean;
  /** Use Bᵀ (last two axes swapped), e.g. x @ wteᵀ for tied output embeddings. */
  transB?: boolean;
}

export function matmul(a: Tensor, b: Tensor, opts: MatmulOptions = {}): Tensor {
  expectFloat('matmul', a, b);
  expectRank('matmul', a, 2);
  expectRank('matmul', b, 2);
  const ta = opts.transA ? transposeLast(a) : a;
  const tb = opts.transB ? transposeLast(b) : b;
  const K = ta.shape.at(-1)!;
  if (tb.shape.at(-2) !== K) {
    throw new GraphError(`matmul: inner dimensions differ: ${fmt(ta.shape)} @ ${fmt(tb.shape)} (${a.name} @ ${b.name})`);
  }
  const batch = broadcastShapes('matmul', ta.shape.slice(0, -2), tb.shape.slice(0, -2));
  const shape = [...batch, ta.shape.at(-2)!, tb.shape.at(-1)!];
  return a.graph.addNode('matmul', [ta, tb], {}, [{ dtype: 'float32', shape }])[0]!;
}
