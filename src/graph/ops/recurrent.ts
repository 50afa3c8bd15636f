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
import { nd, shapeOf, type NDArray } from '../ndarray.js';
import { expectFloat } from './util.js';

export type RecurrentCell = 'lstm' | 'gru';

/** PyTorch's gate blocks in ONNX's order: LSTM i,f,g,o → i,o,f,c; GRU r,z,n → z,r,h. */
const ONNX_ORDER: Record<RecurrentCell, readonly number[]> = { lstm: [0, 3, 1, 2], gru: [1, 0, 2] };

function cellOf(v: unknown): RecurrentCell {
  if (v !== 'lstm' && v !== 'gru') throw new GraphError(`rnnSequence: cell must be 'lstm' or 'gru', got ${String(v)}`);
  return v;
}

/** [G·H, …] → [1, G·H, …] with the gate blocks reordered (rank-1 biases likewise). */
function reorderGates(e: Emitter, name: string, cell: RecurrentCell, H: number, unsqueeze: boolean): string {
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

defineOp('rnnSequence', {
  emit: (n, e) => {
    const cell = cellOf(n.attrs.cell);
    const H = attrNum(n, 'hidden');
    const [x, wih, whh, bih, bhh, h0, c0] = n.inputs.map(e.name);
    const W = reorderGates(e, wih!, cell, H, true);
    const R = reorderGates(e, whh!, cell, H, true);
    const biases = e.tmp('bias');
    e.add('Concat', [reorderGates(e, bih!, cell, H, false), reorderGates(e, bhh!, cell, H, false)], [biases], { axis: 0 });
    const B = e.tmp('bias2');
    e.add('Unsqueeze', [biases, e.int64([0])], [B]);
    const state = (s: string) => {
      const out = e.tmp('state0');
      e.add('Unsqueeze', [s, e.int64([0])], [out]); // B,H → 1,B,H (one direction)
      return out;
    };
    const [y, hT, cT] = n.outputs.map(e.name);
    const [Y, Yh, Yc] = [e.tmp('Y'), e.tmp('Y_h'), e.tmp('Y_c')];
    if (cell === 'lstm') {
      e.add('LSTM', [x!, W, R, B, '', state(h0!), state(c0!)], [Y, Yh, Yc], { hidden_size: H });
    } else {
      e.add('GRU', [x!, W, R, B, '', state(h0!)], [Y, Yh], { hidden_size: H, linear_before_reset: 1 });
    }
    e.add('Squeeze', [Y, e.int64([1])], [y!]); // T,1,B,H → T,B,H
    e.add('Squeeze', [Yh, e.int64([0])], [hT!]);
    if (cell === 'lstm') e.add('Squeeze', [Yc, e.int64([0])], [cT!]);
  },
  ref: (n, [x, wih, whh, bih, bhh, h0, c0]) => {
    const cell = cellOf(n.attrs.cell);
    const H = attrNum(n, 'hidden');
    const [T, B, I] = x!.shape as [number, number, number];
    const G = cell === 'lstm' ? 4 : 3;
    const y = nd(shapeOf(n.outputs[0]!));
    const h = Float64Array.from(h0!.data);
    const c = c0 ? Float64Array.from(c0.data) : new Float64Array(0);
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
          if (cell === 'lstm') {
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
      y.data.set(h, t * B * H);
    }
    const outs = [y, nd([B, H], h)];
    if (cell === 'lstm') outs.push(nd([B, H], c));
    return outs;
  },
});

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
