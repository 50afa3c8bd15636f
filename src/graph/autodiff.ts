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
import { zeros } from './ops/broadcast.js';
import { concat } from './ops/shape.js';
import { matmul } from './ops/matmul.js';

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

  // Backward: collect the contributions to dL/dt for every tensor on a path from wrt to loss;
  // they are summed when t's producer is reached (all its consumers come later, so all are in).
  const parts = new Map<number, Tensor[]>();
  const accumulate = (t: Tensor, d: Tensor): void => {
    if (!shapeEq(t.shape, d.shape)) {
      throw new GraphError(`gradients: rule produced ${fmt(d.shape)} for ${t} (a bug in that op's gradient rule)`);
    }
    const list = parts.get(t.id);
    if (list) list.push(d);
    else parts.set(t.id, [d]);
  };
  const grad = (t: Tensor): Tensor | undefined => {
    const list = parts.get(t.id);
    if (!list) return undefined;
    const sum = sumContributions(list);
    parts.set(t.id, [sum]);
    return sum;
  };
  accumulate(loss, g.constant(new Float32Array(loss.size).fill(1), 'float32', staticShape('gradients', loss.shape)));

  for (let i = nodes.length - 1; i >= 0; i--) {
    const n = nodes[i]!;
    const dys = n.outputs.map(grad);
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
  return wrt.map((t) => grad(t) ?? zeros(t));
}

/**
 * Σ of gradient contributions. A weight used by many matmuls (an RNN's W_hh at
 * every time step) receives many Aᵢᵀ·Gᵢ terms with small inner sizes; summed
 * one by one they cost T thin GEMMs and T full-size adds. Stacked instead,
 * [A₁;…;A_T]ᵀ·[G₁;…;G_T] is one well-shaped GEMM with the same result.
 */
function sumContributions(list: readonly Tensor[]): Tensor {
  if (list.length === 1) return list[0]!;
  const outer: { d: Tensor; a: Tensor; g: Tensor }[] = [];
  const rest: Tensor[] = [];
  for (const d of list) {
    const m = d.producer?.op === 'matmul' && d.rank === 2 ? d.producer : null;
    const at = m?.inputs[0]!.producer;
    if (m && at?.op === 'transpose' && at.inputs[0]!.rank === 2) outer.push({ d, a: at.inputs[0]!, g: m.inputs[1]! });
    else rest.push(d);
  }
  if (outer.length > 1) rest.push(matmul(concat(outer.map((o) => o.a), 0), concat(outer.map((o) => o.g), 0), { transA: true }));
  else rest.push(...outer.map((o) => o.d));
  return rest.reduce((acc, d) => add(acc, d));
}
