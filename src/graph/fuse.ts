/**
 * Fusions of an emitted graph that ONNX Runtime's own optimizer misses.
 *
 * A pre-LN transformer's residual stream is `x = x + f(LayerNorm(x))`: each sum
 * feeds the next LayerNormalization and the next residual Add. ORT fuses
 * Add + LayerNormalization into com.microsoft SkipLayerNormalization only when
 * the sum has no other reader, so it fuses just the last one; the op itself can
 * return the sum (its 4th output, input_skip_bias_sum). At batch 1 a node costs
 * more than its arithmetic: a 6-layer GPT's decode step loses 12 nodes.
 */
import type onnxProto from 'onnx-proto';
import { MS_DOMAIN } from './registry.js';
import type { Shape } from './tensor.js';

type NodeProto = onnxProto.onnx.INodeProto;

/**
 * Rewrites in place each Add of two rank-3 values of one shape (`shapeOf`: a value's shape by its ONNX
 * name, where known) followed by a LayerNormalization over the last axis without Mean/InvStdDev outputs.
 */
export function fuseSkipLayerNorm(nodes: NodeProto[], shapeOf: (name: string) => Shape | undefined): void {
  const producers = new Map(nodes.flatMap((n) => n.output!.map((o) => [o, n] as const)));
  for (const ln of [...nodes]) {
    if (ln.opType !== 'LayerNormalization' || ln.domain || ln.output!.length !== 1 || ln.input!.length !== 3) continue;
    const axis = ln.attribute?.find((a) => a.name === 'axis')?.i;
    if (axis !== undefined && Number(axis) !== -1) continue;
    const add = producers.get(ln.input![0]!);
    if (add?.opType !== 'Add' || add.domain || add.input!.length !== 2) continue;
    const [a, b] = add.input!.map(shapeOf);
    if (a?.length !== 3 || b?.length !== 3 || a.some((d, i) => d !== b[i])) continue;
    const epsilon = ln.attribute?.find((a) => a.name === 'epsilon');
    ln.opType = 'SkipLayerNormalization';
    ln.domain = MS_DOMAIN;
    // input, skip, gamma, beta → output, mean, inv_std_var, input_skip_bias_sum.
    ln.input = [add.input![0]!, add.input![1]!, ln.input![1]!, ln.input![2]!];
    ln.output = [ln.output![0]!, '', '', add.output![0]!];
    ln.attribute = epsilon ? [epsilon] : [];
    nodes.splice(nodes.indexOf(add), 1);
  }
}
