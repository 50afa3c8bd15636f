/**
 * Weight-only int8 for ONNX LSTM nodes, the recurrent counterpart of
 * quantize.ts's matmuls. A batch-1 LSTM step reads all of W and R once per
 * token (3.5 MB in float32 for a 2×256 model: more than a core's L2 cache);
 * int8 reads a quarter of that. Measured on one AVX-512 core, 16 chained
 * 2-layer steps: 92 µs a step in float32, 40 in int8.
 *
 * An LSTM node whose W and R are baked — directly, or through the gate
 * reordering recurrent.ts emits (Slice/Concat/Unsqueeze of an initializer) —
 * becomes com.microsoft DynamicQuantizeLSTM: W [1, in, 4H] and R [1, H, 4H]
 * int8 (transposed from LSTM's [1, 4H, in]), one symmetric scale per gate
 * row, zero points 0 (quantize.ts's int8 scheme, seven bits); ORT quantizes
 * the input and state per step.
 * Both modes use int8 here: ORT has no 4-bit LSTM kernel. GRU nodes stay
 * float32 (no quantized GRU kernel either).
 */
import type onnxProto from 'onnx-proto';
import { DATA_TYPE as DT } from './onnx-wire.js';
import { GraphError } from './tensor.js';
import { MS_DOMAIN } from './registry.js';
import { floatsOf, quantizeInt8, transposeRows } from './quantize.js';

type NodeProto = onnxProto.onnx.INodeProto;
type TensorProto = onnxProto.onnx.ITensorProto;

/**
 * A float constant: its dims and its row-major values as the concatenation of `blocks` — views of
 * initializers' bytes where they can be (read, never written), so that slicing and concatenating gate
 * blocks copies nothing: the one copy is addInt8's transpose (each fresh page of a copy is a page fault).
 */
interface Constant {
  dims: number[];
  blocks: Float32Array[];
}

/** Rewrites every LSTM node with baked weights in place. */
export function quantizeLstms(nodes: NodeProto[], initializers: TensorProto[]): void {
  const inits = new Map(initializers.map((t) => [t.name!, t]));
  const producers = new Map(nodes.flatMap((n) => n.output!.map((o) => [o, n] as const)));
  const constants = new Map<string, Constant | undefined>();
  const quantized = new Map<string, string[]>(); // a W or R's name → [int8 weights, scale, zero point]
  for (const node of nodes) {
    if (node.opType !== 'LSTM' || node.domain) continue;
    const [W, R] = [node.input![1]!, node.input![2]!];
    const weights = [W, R].map((name) => {
      if (!quantized.has(name)) {
        const c = constantOf(name, inits, producers, constants);
        quantized.set(name, c && c.dims.length === 3 && c.dims[0] === 1 ? addInt8(name, c, initializers) : []);
      }
      return quantized.get(name)!;
    });
    if (weights.some((w) => w.length === 0)) continue;
    const [[Wq, Ws, Wz], [Rq, Rs, Rz]] = weights as [string[], string[]];
    // LSTM: X, W, R, B, sequence_lens, initial_h, initial_c, P; the quantized op adds the scales and zero points.
    const inputs = [...node.input!, ...Array<string>(8).fill('')].slice(0, 8);
    node.input = [inputs[0]!, Wq!, Rq!, ...inputs.slice(3), Ws!, Wz!, Rs!, Rz!];
    node.opType = 'DynamicQuantizeLSTM';
    node.domain = MS_DOMAIN;
  }
}

/** [1, 4H, K] float → int8 [1, K, 4H] with a scale [1, 4H] per gate row and zero points [1, 4H] (quantizeInt8's layout of the transpose); returns their names. */
function addInt8(name: string, { dims, blocks }: Constant, initializers: TensorProto[]): string[] {
  const [, G, K] = dims as [number, number, number];
  const [q, scale] = quantizeInt8({ data: transposeRows(blocks, G, K), K, N: G });
  const tensors: TensorProto[] = [
    { ...q!, name: `${name}.q8`, dims: [1, K, G] },
    { ...scale!, name: `${name}.q8.scale`, dims: [1, G] },
    { name: `${name}.q8.zero`, dataType: DT.INT8, dims: [1, G], rawData: new Uint8Array(G) },
  ];
  initializers.push(...tensors);
  return tensors.map((t) => t.name!);
}

/** Values [start, end) of the concatenation of `blocks`, as views. */
function sliceBlocks(blocks: Float32Array[], start: number, end: number): Float32Array[] {
  const out: Float32Array[] = [];
  let at = 0;
  for (const b of blocks) {
    const [s, e] = [Math.max(start, at), Math.min(end, at + b.length)];
    if (s < e) out.push(b.subarray(s - at, e - at));
    at += b.length;
  }
  return out;
}

/**
 * The value of `name` when it is a float initializer, or a Slice (along axis 0), Concat (axis 0) or
 * Unsqueeze (axis 0) of such values — the ops recurrent.ts reorders gates with; undefined otherwise.
 */
function constantOf(name: string, inits: Map<string, TensorProto>, producers: Map<string, NodeProto>, memo: Map<string, Constant | undefined>): Constant | undefined {
  if (memo.has(name)) return memo.get(name);
  let value: Constant | undefined;
  const t = inits.get(name);
  if (t) value = floatConstant(t);
  else {
    const n = producers.get(name);
    const of = (i: number) => constantOf(n!.input![i]!, inits, producers, memo);
    if (n && !n.domain && n.opType === 'Slice' && n.input!.length === 4 && int64s(inits.get(n.input![3]!))?.join() === '0') {
      const [x, start, end] = [of(0), int64s(inits.get(n.input![1]!)), int64s(inits.get(n.input![2]!))];
      if (x && start?.length === 1 && end?.length === 1 && start[0]! >= 0 && end[0]! <= x.dims[0]! && start[0]! < end[0]!) {
        const row = x.dims.slice(1).reduce((a, b) => a * b, 1);
        value = { dims: [end[0]! - start[0]!, ...x.dims.slice(1)], blocks: sliceBlocks(x.blocks, start[0]! * row, end[0]! * row) };
      }
    } else if (n && !n.domain && n.opType === 'Concat' && n.attribute?.find((a) => a.name === 'axis')?.i?.toString() === '0') {
      const parts = n.input!.map((_, i) => of(i));
      if (parts.every((p) => p && p.dims.length === parts[0]!.dims.length && p.dims.slice(1).join() === parts[0]!.dims.slice(1).join())) {
        value = { dims: [parts.reduce((s, p) => s + p!.dims[0]!, 0), ...parts[0]!.dims.slice(1)], blocks: parts.flatMap((p) => p!.blocks) };
      }
    } else if (n && !n.domain && n.opType === 'Unsqueeze' && int64s(inits.get(n.input![1]!))?.join() === '0') {
      const x = of(0);
      if (x) value = { dims: [1, ...x.dims], blocks: x.blocks };
    }
  }
  memo.set(name, value);
  return value;
}

function floatConstant(t: TensorProto): Constant | undefined {
  if (t.dataType !== DT.FLOAT || !t.rawData || !t.dims?.length) return undefined;
  const data = floatsOf(t.rawData);
  const dims = t.dims.map(Number);
  if (dims.reduce((a, b) => a * b, 1) !== data.length) throw new GraphError(`quantize: initializer '${t.name}' has ${data.length} values for [${dims.join(',')}]`);
  return { dims, blocks: [data] };
}

function int64s(t: TensorProto | undefined): number[] | undefined {
  if (!t || t.dataType !== DT.INT64 || !t.rawData || t.rawData.byteLength % 8 !== 0) return undefined;
  const raw = t.rawData;
  return Array.from(new BigInt64Array(raw.slice().buffer), Number);
}
