/**
 * Multi-head attention of new tokens over all the keys they may see, fused into
 * ORT's com.microsoft.MultiHeadAttention: one kernel splits the heads and
 * computes softmax(q·kᵀ/√D + bias)·v. A batch-1 decoder spends more time
 * dispatching the ~15 small nodes this replaces per layer than computing them.
 * Keys and values come heads-merged [B,S,C] (a cache that grows by appending
 * rows) or per head [B,H,S,D] (Hugging Face's past_key_values layout).
 * Inference only: it has no gradient rule (training graphs build attention from
 * matmul/softmax, see gpt.ts).
 */
import { attrNum, defineOp, MS_DOMAIN } from '../registry.js';
import { fmt, GraphError, shapeEq, staticDim, type Tensor } from '../tensor.js';
import { nd, shapeOf } from '../ndarray.js';
import { expectFloat } from './util.js';

defineOp('multiHeadAttention', {
  // Inputs: query, key, value, bias, key_padding_mask, attention_bias.
  emit: (n, e) => {
    const [q, k, v, bias] = n.inputs.map(e.name);
    e.add('MultiHeadAttention', [q!, k!, v!, '', '', bias!], n.outputs.map(e.name), { num_heads: attrNum(n, 'heads') }, MS_DOMAIN);
  },
  ref: (n, [q, k, v, bias]) => {
    const H = attrNum(n, 'heads');
    const [B, T, C] = q!.shape as [number, number, number];
    const D = C / H;
    const perHead = k!.shape.length === 4;
    const S = k!.shape[perHead ? 2 : 1]!;
    // Element d of head h at slot s of batch b, in either layout.
    const at = (b: number, h: number, s: number, d: number) => (perHead ? ((b * H + h) * S + s) * D + d : (b * S + s) * C + h * D + d);
    const biasH = bias!.shape[1]!;
    const y = nd(shapeOf(n.outputs[0]!));
    for (let b = 0; b < B; b++) {
      for (let h = 0; h < H; h++) {
        for (let t = 0; t < T; t++) {
          const w = new Float64Array(S);
          let max = -Infinity;
          for (let s = 0; s < S; s++) {
            let dot = 0;
            for (let d = 0; d < D; d++) dot += q!.data[(b * T + t) * C + h * D + d]! * k!.data[at(b, h, s, d)]!;
            w[s] = dot / Math.sqrt(D) + bias!.data[((b * biasH + (biasH === 1 ? 0 : h)) * T + t) * S + s]!;
            max = Math.max(max, w[s]!);
          }
          let z = 0;
          for (let s = 0; s < S; s++) z += w[s] = Math.exp(w[s]! - max);
          for (let d = 0; d < D; d++) {
            let acc = 0;
            for (let s = 0; s < S; s++) acc += (w[s]! / z) * v!.data[at(b, h, s, d)]!;
            y.data[(b * T + t) * C + h * D + d] = acc;
          }
        }
      }
    }
    return [y];
  },
});

/**
 * softmax(q·kᵀ/√D + bias)·v per head, heads merged: q [B,T,C]; key and value
 * [B,S,C] or [B,H,S,D]; an additive bias [B,1 or H,T,S] (0 where a query may
 * look, a large negative number where not) → y [B,T,C].
 */
export function multiHeadAttention(q: Tensor, key: Tensor, value: Tensor, bias: Tensor, heads: number): Tensor {
  expectFloat('multiHeadAttention', q, key, value, bias);
  const [B, T, C] = q.shape;
  const D = staticDim('multiHeadAttention width', C) / heads;
  if (!Number.isInteger(D) || q.rank !== 3) throw new GraphError(`multiHeadAttention: query ${q} must be [B,T,C] with C divisible by ${heads} heads`);
  const S = key.shape[key.rank === 4 ? 2 : 1]!;
  const layouts = [[B!, S, C!], [B!, heads, S, D]];
  if (!layouts.some((l) => shapeEq(key.shape, l)) || !shapeEq(value.shape, key.shape)) {
    throw new GraphError(`multiHeadAttention: key ${key} and value ${value} must both be ${layouts.map(fmt).join(' or ')}`);
  }
  if (bias.rank !== 4 || bias.shape[0] !== B || ![1, heads].includes(bias.shape[1] as number) || bias.shape[2] !== T || bias.shape[3] !== S) {
    throw new GraphError(`multiHeadAttention: bias ${bias} must be [${B},1 or ${heads},${T},${S}]`);
  }
  return q.graph.addNode('multiHeadAttention', [q, key, value, bias], { heads }, [{ dtype: 'float32', shape: q.shape }])[0]!;
}
