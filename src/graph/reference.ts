/**
 * The reference interpreter: runs a graph in float64 plain TypeScript, using
 * each op's `ref`. It is slow and exists to check ONNX Runtime's results and to
 * take finite differences (the tests), and to debug a model op by op.
 */
import { opDef } from './registry.js';
import { type NDArray, nd, shapeOf } from './ndarray.js';
import { type Graph, type Tensor, GraphError, fmt, staticShape } from './tensor.js';

export function evaluate(graph: Graph, feeds: Readonly<Record<string, ArrayLike<number>>>, outputs: readonly Tensor[]): NDArray[] {
  const values = new Map<number, NDArray>();
  for (const { tensor } of graph.inputs) {
    const data = feeds[tensor.name];
    if (data === undefined) continue;
    if (data.length !== tensor.size) throw new GraphError(`evaluate: feed '${tensor.name}' does not fit ${fmt(tensor.shape)}`);
    values.set(tensor.id, nd(staticShape('evaluate', tensor.shape), data));
  }
  for (const c of graph.constants) values.set(c.tensor.id, nd(shapeOf(c.tensor), Array.from(c.data as ArrayLike<number | bigint>, Number)));

  const last = Math.max(...outputs.map((t) => (t.producer ? t.producer.id : -1)));
  for (const n of graph.nodes.slice(0, last + 1)) {
    const xs = n.inputs.map((t) => values.get(t.id));
    if (xs.some((x) => x === undefined)) continue; // depends on an input that was not fed
    const ys = opDef(n.op).ref(n, xs as NDArray[]);
    n.outputs.forEach((o, i) => values.set(o.id, ys[i]!));
  }
  return outputs.map((t) => {
    const v = values.get(t.id);
    if (!v) throw new GraphError(`evaluate: ${t} depends on an input that was not fed`);
    return v;
  });
}
