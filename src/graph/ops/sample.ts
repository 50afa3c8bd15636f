/**
 * Sampling inside the graph: generate/sampling.ts's temperature, top-k, top-p and seeded draw
 * (`chooseToken`, this op's reference), so that a decoder can take several sampled steps in one ONNX
 * Runtime call. The nodes compute in float64 and in the JavaScript sampler's order — the softmax's
 * sums and the draw's running sum as CumSum, sequential like a loop — so both choose the same token
 * unless ORT's exp and V8's Math.exp round a probability apart in its last bit *and* the uniform draw
 * lands within that bit of a boundary between two tokens.
 */
import { defineOp, type Emitter } from '../registry.js';
import { GraphError, type Attrs, type Tensor } from '../tensor.js';
import { nd, shapeOf } from '../ndarray.js';
import { ONNX_DTYPE, ONNX_FLOAT64 } from './elementwise.js';
import { chooseToken, type Filters } from '../../generate/sampling.js';

/** What the op samples with: sampling's filters, never greedy (that is argmax). */
export type SampleFilters = Omit<Filters, 'greedy'>;

defineOp('sample', {
  emit: (n, e) => emitSample(e, e.name(n.inputs[0]!), e.name(n.inputs[1]!), e.name(n.outputs[0]!), filtersOf(n.attrs), n.inputs[0]!.shape.at(-1) as number),
  ref: (n, [x, draws]) => {
    const V = x!.shape.at(-1)!;
    const out = nd(shapeOf(n.outputs[0]!));
    const o = { greedy: false, ...filtersOf(n.attrs) };
    for (let r = 0; r < out.data.length; r++) out.data[r] = chooseToken(Float32Array.from(x!.data.subarray(r * V, (r + 1) * V)), o, () => draws!.data[r]! / 2 ** 32);
    return [out];
  },
});

/**
 * One token per row of `logits` [..., V], drawn as sampling.ts's chooseToken draws it with the uniform
 * draws / 2^32 (`draws` int64 [..., 1], each a 32-bit unsigned integer from the sampler's Rng): int64
 * [...], -1 where every logit of the row is -infinity or NaN.
 */
export function sample(logits: Tensor, draws: Tensor, o: SampleFilters): Tensor {
  const V = logits.shape.at(-1);
  if (logits.dtype !== 'float32' || typeof V !== 'number') throw new GraphError(`sample: needs float32 logits with a fixed last axis, got ${logits}`);
  const rows = logits.shape.slice(0, -1);
  if (draws.dtype !== 'int64' || draws.rank !== logits.rank || draws.shape.at(-1) !== 1 || rows.some((d, i) => d !== draws.shape[i])) {
    throw new GraphError(`sample: draws must be int64 [${[...rows, 1].join(', ')}], got ${draws}`);
  }
  if (!(o.temperature > 0 && Number.isFinite(o.temperature)) || !(Number.isInteger(o.topK) && o.topK >= 0) || !(o.topP > 0 && o.topP <= 1)) {
    throw new GraphError(`sample: bad filters ${JSON.stringify(o)}`);
  }
  return logits.graph.addNode('sample', [logits, draws], { temperature: o.temperature, topK: o.topK, topP: o.topP }, [{ dtype: 'int64', shape: rows }])[0]!;
}

function filtersOf(attrs: Attrs): SampleFilters {
  return { temperature: attrs.temperature as number, topK: attrs.topK as number, topP: attrs.topP as number };
}

/**
 * The nodes of `sample` over the last axis (V wide); every intermediate keeps that axis (size 1 after a
 * reduction). A decoder runs them once per step, so each node counts: ~20 for plain sampling.
 */
function emitSample(e: Emitter, x: string, draws: string, out: string, o: SampleFilters, V: number): void {
  const node = (op: string, ins: string[], attrs: Record<string, number> = {}): string => {
    const y = e.tmp(op.toLowerCase());
    e.add(op, ins, [y], attrs);
    return y;
  };
  const axis = e.int64([-1]);
  const NEG_INF = e.double(-Infinity);
  const lastOf = (t: string) => node('Slice', [t, e.int64([V - 1]), e.int64([V]), axis]);
  const sorted = (t: string, k: number): [string, string] => {
    const [values, indices] = [e.tmp('topk'), e.tmp('topk_idx')];
    // Descending; equal values keep the lower index first (ONNX TopK), as sampling.ts's sorts do.
    e.add('TopK', [t, e.int64([k])], [values, indices], { axis: -1, largest: 1, sorted: 1 });
    return [values, indices];
  };
  /** Position along the axis where the running sum of `w` first exceeds u = draw / 2^32 · total (sampling.ts's draw: u < total always). */
  const drawFrom = (w: string): string => {
    const running = node('CumSum', [w, e.int64Scalar(-1)]);
    // (draw · total) / 2^32 rounds as (draw / 2^32) · total does: a power of two scales without rounding.
    const u = node('Div', [node('Mul', [node('Cast', [draws], { to: ONNX_FLOAT64 }), lastOf(running)]), e.double(2 ** 32)]);
    return node('ArgMax', [node('Cast', [node('Less', [u, running])], { to: ONNX_DTYPE.int32 })], { axis: -1, keepdims: 1, select_last_index: 0 });
  };

  // Candidates: NaN and -inf logits never are (sampling.ts's finiteIndices).
  const xd = node('Cast', [x], { to: ONNX_FLOAT64 });
  let logit = node('Where', [node('IsNaN', [xd]), NEG_INF, xd]);
  const max = node('ReduceMax', [logit, axis], { keepdims: 1 });
  if (o.topK > 0 && o.topK < V) {
    // The k-th largest value, ties with it kept; -inf when fewer than k are finite (then nothing is dropped).
    const kth = node('Slice', [sorted(logit, o.topK)[0], e.int64([o.topK - 1]), e.int64([o.topK]), axis]);
    logit = node('Where', [node('GreaterOrEqual', [logit, kth]), logit, NEG_INF]);
  }
  // An infinite max makes inf − inf = NaN at the infinite logits: they share all the mass (sampling.ts's exps).
  let z = node('Sub', [logit, max]);
  z = node('Where', [node('IsNaN', [z]), e.double(0), z]);
  const exp = node('Exp', [o.temperature === 1 ? z : node('Div', [z, e.double(o.temperature)])]);

  let token: string;
  if (o.topP < 1) {
    // The nucleus, most likely first: kept while the mass before a token is < p, and only tokens with
    // probability ≥ (1 − p)/n, n the candidates (sampling.ts's nucleus); drawn from in that order.
    const probs = node('Div', [exp, lastOf(node('CumSum', [exp, e.int64Scalar(-1)]))]);
    const n = node('ReduceSum', [node('Cast', [node('Greater', [logit, NEG_INF])], { to: ONNX_FLOAT64 }), axis], { keepdims: 1 });
    const [p, order] = sorted(probs, V);
    const before = node('CumSum', [p, e.int64Scalar(-1)], { exclusive: 1 });
    const kept = node('And', [node('Less', [before, e.double(o.topP)]), node('GreaterOrEqual', [p, node('Div', [e.double(1 - o.topP), n])])]);
    token = node('GatherElements', [order, drawFrom(node('Where', [kept, p, e.double(0)]))], { axis: -1 });
  } else {
    token = drawFrom(exp);
  }
  e.add('Squeeze', [node('Where', [node('Equal', [max, NEG_INF]), e.int64Scalar(-1), token]), axis], [out]);
}
