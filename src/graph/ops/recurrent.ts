/**
 * A whole LSTM or GRU layer over a sequence as one ONNX LSTM/GRU node, with
 * PyTorch's parameters (gate orders i,f,g,o and r,z,n; GRU's reset applied
 * after the recurrent matmul, ONNX's linear_before_reset=1). Unrolled plain ops
 * cost ~25 small nodes per layer and step, which dominate a one-token decoding
 * step; the fused kernel is one. Inference only: ORT's CPU build has no
 * gradient kernels for it (training unrolls the cells, see models/rnn.ts).
 * The gate reordering is a few Slice/Concat nodes on the weights, which ORT
 * folds into constants when the weights are baked.
 */
import { attrNum, defineOp, type Emitter } from '../registry.js';
import { fmt, GraphError, shapeEq, type Tensor } from '../tensor.js';
import { nd, type NDArray } from '../ndarray.js';
import { expectFloat } from './util.js';

export type RecurrentCell = 'lstm' | 'gru';

/** PyTorch's gate blocks in ONNX's order: LSTM i,f,g,o → i,o,f,c; GRU r,z,n → z,r,h. */
const ONNX_ORDER: Record<RecurrentCell, readonly number[]> = { lstm: [0, 3, 1, 2], gru: [1, 0, 2] };

function cellOf(v: unknown): RecurrentCell {
  if (v !== 'lstm' && v !== 'gru') throw new GraphError(`rnnSequence: cell must be 'lstm' or 'gru', got ${String(v)}`);
  return v;
}

/** [G·H, …] → [1, G·H, …] with the gate blocks reordered (rank-1 biases likewise); once per weight and model. */
function reorderGates(e: Emitter, name: string, cell: RecurrentCell, H: number, unsqueeze: boolean): string {
  return e.once(`rnnGates:${cell}:${H}:${unsqueeze}:${name}`, () => reorder(e, name, cell, H, unsqueeze));
}

function reorder(e: Emitter, name: string, cell: RecurrentCell, H: number, unsqueeze: boolean): string {
  const blocks = ONNX_ORDER[cell].map((g) => {
    const out = e.tmp('gate');
    e.add('Slice', [name, e.int64([g * H]), e.int64([(g + 1) * H]), e.int64([0])], [out]);
    return out;
  });
  const joined = e.tmp('gates');
  e.add('Concat', blocks, [joined], { axis: 0 });
  if (!unsqueeze) return joined;
  const out = e.tmp('gates3');
  e.add('Unsqueeze', [joined, e.int64([0])], [out]);
  return out;
}

/** ONNX W, R, B from PyTorch's weights (shared between the nodes of one model that read the same weights). */
function onnxWeights(e: Emitter, n: { inputs: readonly Tensor[] }, cell: RecurrentCell, H: number): [string, string, string] {
  const [, wih, whh, bih, bhh] = n.inputs.map(e.name);
  const W = reorderGates(e, wih!, cell, H, true);
  const R = reorderGates(e, whh!, cell, H, true);
  const B = e.once(`rnnBias:${cell}:${H}:${bih}:${bhh}`, () => {
    const biases = e.tmp('bias');
    e.add('Concat', [reorderGates(e, bih!, cell, H, false), reorderGates(e, bhh!, cell, H, false)], [biases], { axis: 0 });
    const out = e.tmp('bias2');
    e.add('Unsqueeze', [biases, e.int64([0])], [out]);
    return out;
  });
  return [W, R, B];
}

/** The ONNX LSTM/GRU node: x [T,B,in], states [1,B,H] (one direction) → Y [T,1,B,H] ('' to leave out), Y_h, Y_c. */
function emitCell(e: Emitter, cell: RecurrentCell, H: number, x: string, [W, R, B]: [string, string, string], h0: string, c0: string | undefined, outs: [string, string, string?]): void {
  if (cell === 'lstm') e.add('LSTM', [x, W, R, B, '', h0, c0!], outs as string[], { hidden_size: H });
  else e.add('GRU', [x, W, R, B, '', h0], outs.slice(0, 2) as string[], { hidden_size: H, linear_before_reset: 1 });
}

defineOp('rnnSequence', {
  emit: (n, e) => {
    const cell = cellOf(n.attrs.cell);
    const H = attrNum(n, 'hidden');
    const [x, , , , , h0, c0] = n.inputs.map(e.name);
    const state = (s: string) => {
      const out = e.tmp('state0');
      e.add('Unsqueeze', [s, e.int64([0])], [out]); // B,H → 1,B,H (one direction)
      return out;
    };
    const [y, hT, cT] = n.outputs.map(e.name);
    const [Y, Yh, Yc] = [e.tmp('Y'), e.tmp('Y_h'), e.tmp('Y_c')];
    emitCell(e, cell, H, x!, onnxWeights(e, n, cell, H), state(h0!), cell === 'lstm' ? state(c0!) : undefined, [Y, Yh, Yc]);
    e.add('Squeeze', [Y, e.int64([1])], [y!]); // T,1,B,H → T,B,H
    e.add('Squeeze', [Yh, e.int64([0])], [hT!]);
    if (cell === 'lstm') e.add('Squeeze', [Yc, e.int64([0])], [cT!]);
  },
  ref: (n, xs) => {
    const [T, B] = xs[0]!.shape as [number, number];
    const { ys, h, c } = runCells(cellOf(n.attrs.cell), attrNum(n, 'hidden'), xs);
    const H = attrNum(n, 'hidden');
    return [nd([T, B, H], ys), nd([B, H], h), ...(c ? [nd([B, H], c)] : [])];
  },
});

// One step in ONNX's own state layout, [1,B,H] in and out: a decode graph chains steps and layers
// with no Squeeze/Unsqueeze between them (at batch 1 each such node costs more than the arithmetic).
defineOp('rnnStep', {
  emit: (n, e) => {
    const cell = cellOf(n.attrs.cell);
    const H = attrNum(n, 'hidden');
    const [x, , , , , h0, c0] = n.inputs.map(e.name);
    const [h, c] = n.outputs.map(e.name);
    emitCell(e, cell, H, x!, onnxWeights(e, n, cell, H), h0!, c0, ['', h!, c]);
  },
  ref: (n, xs) => {
    const B = xs[0]!.shape[1]!;
    const H = attrNum(n, 'hidden');
    const { h, c } = runCells(cellOf(n.attrs.cell), H, xs);
    return [nd([1, B, H], h), ...(c ? [nd([1, B, H], c)] : [])];
  },
});

/** The float64 reference of both ops: x [T,B,in] and states of B·H values (any layout) → every step's h, and the last h and c. */
function runCells(cell: RecurrentCell, H: number, [x, wih, whh, bih, bhh, h0, c0]: readonly NDArray[]): { ys: Float64Array; h: Float64Array; c?: Float64Array } {
  const [T, B, I] = x!.shape as [number, number, number];
  const G = cell === 'lstm' ? 4 : 3;
  const ys = new Float64Array(T * B * H);
  const h = Float64Array.from(h0!.data);
  const c = c0 ? Float64Array.from(c0.data) : undefined;
  const sig = (v: number) => 1 / (1 + Math.exp(-v));
  // W·v + b for gate block g, unit j: W is [G·H, len] row-major.
  const affine = (w: NDArray, b: NDArray, v: ArrayLike<number>, at: number, len: number, row: number) => {
    let s = b.data[row]!;
    for (let k = 0; k < len; k++) s += w.data[row * len + k]! * v[at + k]!;
    return s;
  };
  for (let t = 0; t < T; t++) {
    for (let bi = 0; bi < B; bi++) {
      const gx = Array.from({ length: G * H }, (_, r) => affine(wih!, bih!, x!.data, (t * B + bi) * I, I, r));
      const gh = Array.from({ length: G * H }, (_, r) => affine(whh!, bhh!, h, bi * H, H, r));
      for (let j = 0; j < H; j++) {
        const at = bi * H + j;
        if (c) {
          const [i, f, g, o] = [0, 1, 2, 3].map((q) => gx[q * H + j]! + gh[q * H + j]!) as [number, number, number, number];
          c[at] = sig(f) * c[at]! + sig(i) * Math.tanh(g);
          gx[j] = sig(o) * Math.tanh(c[at]!); // the new h, kept until every unit has read the old one
        } else {
          const r = sig(gx[j]! + gh[j]!);
          const z = sig(gx[H + j]! + gh[H + j]!);
          const cand = Math.tanh(gx[2 * H + j]! + r * gh[2 * H + j]!);
          gx[j] = (1 - z) * cand + z * h[at]!;
        }
      }
      for (let j = 0; j < H; j++) h[bi * H + j] = gx[j]!;
    }
    ys.set(h, t * B * H);
  }
  return { ys, h, c };
}

/**
 * One LSTM/GRU layer over x [T,B,in] from state h0 (and c0) [B,H], with PyTorch's
 * weight_ih [G·H,in], weight_hh [G·H,H], bias_ih and bias_hh [G·H]
 * → outputs [T,B,H] and the final state [B,H] (h, and c for LSTM).
 */
export function rnnSequence(cell: RecurrentCell, x: Tensor, wih: Tensor, whh: Tensor, bih: Tensor, bhh: Tensor, h0: Tensor, c0?: Tensor): Tensor[] {
  expectFloat('rnnSequence', x, wih, whh, bih, bhh, h0, ...(c0 ? [c0] : []));
  const [T, B, I] = x.shape;
  const H = h0.shape[1]!;
  const G = cell === 'lstm' ? 4 : 3;
  if (x.rank !== 3 || typeof H !== 'number' || !shapeEq(wih.shape, [G * H, I!]) || !shapeEq(whh.shape, [G * H, H]) || !shapeEq(bih.shape, [G * H]) || !shapeEq(bhh.shape, [G * H]) || !shapeEq(h0.shape, [B!, H])) {
    throw new GraphError(`rnnSequence: ${cell} shapes do not fit: x ${fmt(x.shape)}, weight_ih ${fmt(wih.shape)}, weight_hh ${fmt(whh.shape)}, h0 ${fmt(h0.shape)}`);
  }
  if ((cell === 'lstm') !== Boolean(c0) || (c0 && !shapeEq(c0.shape, [B!, H]))) throw new GraphError(`rnnSequence: an LSTM takes c0 [${B},${H}], a GRU none`);
  const state = { dtype: 'float32' as const, shape: [B!, H] };
  const outs = [{ dtype: 'float32' as const, shape: [T!, B!, H] }, state, ...(c0 ? [state] : [])];
  return x.graph.addNode('rnnSequence', c0 ? [x, wih, whh, bih, bhh, h0, c0] : [x, wih, whh, bih, bhh, h0], { cell, hidden: H }, outs);
}

/**
 * One LSTM/GRU step of a layer with its state in ONNX's layout: x [1,B,in] and h (and c) [1,B,H]
 * → the new h (and c) [1,B,H]; h is also the next layer's x. Weights as rnnSequence's.
 */
export function rnnStep(cell: RecurrentCell, x: Tensor, wih: Tensor, whh: Tensor, bih: Tensor, bhh: Tensor, h: Tensor, c?: Tensor): Tensor[] {
  expectFloat('rnnStep', x, wih, whh, bih, bhh, h, ...(c ? [c] : []));
  const [B, H] = [h.shape[1]!, h.shape[2]!];
  const G = cell === 'lstm' ? 4 : 3;
  const I = x.shape[2]!;
  if (x.rank !== 3 || x.shape[0] !== 1 || h.rank !== 3 || h.shape[0] !== 1 || typeof H !== 'number' || !shapeEq(x.shape, [1, B, I]) || !shapeEq(wih.shape, [G * H, I]) || !shapeEq(whh.shape, [G * H, H]) || !shapeEq(bih.shape, [G * H]) || !shapeEq(bhh.shape, [G * H])) {
    throw new GraphError(`rnnStep: ${cell} shapes do not fit: x ${fmt(x.shape)} (want [1,B,in]), weight_ih ${fmt(wih.shape)}, weight_hh ${fmt(whh.shape)}, h ${fmt(h.shape)} (want [1,B,H])`);
  }
  if ((cell === 'lstm') !== Boolean(c) || (c && !shapeEq(c.shape, h.shape))) throw new GraphError(`rnnStep: an LSTM takes c [1,${B},${H}], a GRU none`);
  const state = { dtype: 'float32' as const, shape: [1, B, H] };
  return x.graph.addNode('rnnStep', c ? [x, wih, whh, bih, bhh, h, c] : [x, wih, whh, bih, bhh, h], { cell, hidden: H }, c ? [state, state] : [state]);
}
