/**
 * Reverse-mode automatic differentiation over the graph.
 *
 * `gradients(loss, wrt)` appends the backward pass to the same graph: it walks
 * the nodes that lie between `wrt` and `loss` in reverse creation order (a
 * reverse topological order), applies each op's gradient rule, and sums the
 * contributions of tensors used more than once (e.g. tied embeddings, residual
 * streams). Broadcasting is undone inside the rules themselves.
 */
import { opDef } from './registry.js';
import { Tensor, GraphError, shapeEq, fmt, staticShape } from './tensor.js';
import { add } from './ops/elementwise.js';
import { zeros } from './ops/shape.js';

export function gradients(loss: Tensor, wrt: readonly Tensor[]): Tensor[] {
  const g = loss.graph;
  if (loss.dtype !== 'float32' || loss.size !== 1) throw new GraphError(`gradients: the loss must be a float32 scalar, got ${loss}`);
  for (const t of wrt) {
    if (t.graph !== g) throw new GraphError(`gradients: ${t} belongs to another graph`);
    if (t.dtype !== 'float32') throw new GraphError(`gradients: cannot differentiate with respect to ${t}`);
  }

  // Forward: which tensors depend on a `wrt` tensor.
  const last = loss.producer ? loss.producer.id : -1;
  const nodes = g.nodes.slice(0, last + 1);
  const depends = new Set(wrt.map((t) => t.id));
  for (const n of nodes) {
    if (n.inputs.some((t) => depends.has(t.id))) n.outputs.forEach((o) => o.dtype === 'float32' && depends.add(o.id));
  }

  // Backward: accumulate dL/dt for every tensor on a path from wrt to loss.
  const grads = new Map<number, Tensor>();
  const accumulate = (t: Tensor, d: Tensor): void => {
    if (!shapeEq(t.shape, d.shape)) {
      throw new GraphError(`gradients: rule produced ${fmt(d.shape)} for ${t} (a bug in that op's gradient rule)`);
    }
    const prev = grads.get(t.id);
    grads.set(t.id, prev ? add(prev, d) : d);
  };
  grads.set(loss.id, g.constant(new Float32Array(loss.size).fill(1), 'float32', staticShape('gradients', loss.shape)));

  for (let i = nodes.length - 1; i >= 0; i--) {
    const n = nodes[i]!;
    const dys = n.outputs.map((o) => grads.get(o.id));
    if (dys.every((d) => d === undefined) || !n.inputs.some((t) => depends.has(t.id))) continue;
    const rule = opDef(n.op).grad;
    if (!rule) throw new GraphError(`gradients: op '${n.op}' has no gradient, but ${n.outputs[0]} lies between the parameters and the loss`);
    const dxs = rule(n, dys);
    n.inputs.forEach((t, k) => {
      const d = dxs[k];
      if (d && depends.has(t.id)) accumulate(t, d);
    });
  }
  // A parameter the loss does not reach gets zeros (e.g. an unused position embedding row range).
  return wrt.map((t) => grads.get(t.id) ?? zeros(t));
}
