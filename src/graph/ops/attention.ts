/**
 * Multi-head attention over a key/value cache, fused into ORT's
 * com.microsoft.MultiHeadAttention: one kernel splits the heads, appends the
 * new keys and values to the cache, and computes softmax(q·kᵀ/√D + bias)·v.
 * A batch-1 decoder spends more time dispatching the ~15 small nodes this
 * replaces per layer than computing them. Inference only: it has no gradient
 * rule (training graphs build attention from matmul/softmax, see gpt.ts).
 */
import { attrNum, defineOp, MS_DOMAIN } from '../registry.js';
import { addDims, fmt, GraphError, shapeEq, staticDim, type Tensor } from '../tensor.js';
import { nd, shapeOf } from '../ndarray.js';
import { expectFloat } from './util.js';

defineOp('cachedAttention', {
  // Inputs: query, key, value, bias, key_padding_mask, attention_bias, past_key, past_value.
  emit: (n, e) => {
    const [q, k, v, pastK, pastV, bias] = n.inputs.map(e.name);
    e.add('MultiHeadAttention', [q!, k!, v!, '', '', bias!, pastK!, pastV!], n.outputs.map(e.name), { num_heads: attrNum(n, 'heads') }, MS_DOMAIN);
  },
  ref: (n, [q, k, v, pastK, pastV, bias]) => {
    const H = attrNum(n, 'heads');
    const [B, T, C] = q!.shape as [number, number, number];
    const D = C / H;
    const P = pastK!.shape[2]!;
    const S = P + T;
    const y = nd(shapeOf(n.outputs[0]!));
    const presentK = nd(shapeOf(n.outputs[1]!));
    const presentV = nd(shapeOf(n.outputs[2]!));
    // present[b, h, s, d]: the past for s < P, then the new tokens' heads.
    for (let b = 0; b < B; b++) {
      for (let h = 0; h < H; h++) {
        for (let s = 0; s < S; s++) {
          for (let d = 0; d < D; d++) {
            const at = ((b * H + h) * S + s) * D + d;
            presentK.data[at] = s < P ? pastK!.data[((b * H + h) * P + s) * D + d]! : k!.data[(b * T + s - P) * C + h * D + d]!;
            presentV.data[at] = s < P ? pastV!.data[((b * H + h) * P + s) * D + d]! : v!.data[(b * T + s - P) * C + h * D + d]!;
          }
        }
      }
    }
    const biasH = bias!.shape[1]!;
    for (let b = 0; b < B; b++) {
      for (let h = 0; h < H; h++) {
        for (let t = 0; t < T; t++) {
          const w = new Float64Array(S);
          let max = -Infinity;
          for (let s = 0; s < S; s++) {
            let dot = 0;
            for (let d = 0; d < D; d++) dot += q!.data[(b * T + t) * C + h * D + d]! * presentK.data[((b * H + h) * S + s) * D + d]!;
            w[s] = dot / Math.sqrt(D) + bias!.data[((b * biasH + (biasH === 1 ? 0 : h)) * T + t) * S + s]!;
            max = Math.max(max, w[s]!);
          }
          let z = 0;
          for (let s = 0; s < S; s++) z += w[s] = Math.exp(w[s]! - max);
          for (let d = 0; d < D; d++) {
            let acc = 0;
            for (let s = 0; s < S; s++) acc += (w[s]! / z) * presentV.data[((b * H + h) * S + s) * D + d]!;
            y.data[(b * T + t) * C + h * D + d] = acc;
          }
        }
      }
    }
    return [y, presentK, presentV];
  },
});

/**
 * Attention of new tokens over a cache, heads merged: q, k, v [B,T,C], pastKey and
 * pastValue [B,H,P,D], an additive bias [B,1 or H,T,P+T] (0 where a query may look,
 * a large negative number where not) → y [B,T,C], presentKey and presentValue [B,H,P+T,D].
 */
export function cachedAttention(q: Tensor, k: Tensor, v: Tensor, pastKey: Tensor, pastValue: Tensor, bias: Tensor, heads: number): [Tensor, Tensor, Tensor] {
  expectFloat('cachedAttention', q, k, v, pastKey, pastValue, bias);
  const [B, T, C] = q.shape;
  const D = staticDim('cachedAttention width', C) / heads;
  const P = pastKey.shape[2]!;
  const S = addDims(P, T!);
  if (!Number.isInteger(D) || q.rank !== 3) throw new GraphError(`cachedAttention: query ${q} must be [B,T,C] with C divisible by ${heads} heads`);
  for (const t of [k, v]) if (!shapeEq(t.shape, q.shape)) throw new GraphError(`cachedAttention: ${t} must have the query's shape ${fmt(q.shape)}`);
  for (const t of [pastKey, pastValue]) if (!shapeEq(t.shape, [B!, heads, P, D])) throw new GraphError(`cachedAttention: ${t} must be [${B},${heads},past,${D}]`);
  if (bias.rank !== 4 || bias.shape[0] !== B || ![1, heads].includes(bias.shape[1] as number) || bias.shape[2] !== T || bias.shape[3] !== S) {
    throw new GraphError(`cachedAttention: bias ${bias} must be [${B},1 or ${heads},${T},${S}]`);
  }
  const present = { dtype: 'float32' as const, shape: [B!, heads, S, D] };
  const [y, presentKey, presentValue] = q.graph.addNode('cachedAttention', [q, k, v, pastKey, pastValue, bias], { heads }, [{ dtype: 'float32', shape: q.shape }, present, present]);
  return [y!, presentKey!, presentValue!];
}
