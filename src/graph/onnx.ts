/**
 * Serialises a graph to ONNX ModelProto bytes with onnx-proto.
 *
 * Only the nodes needed for the requested outputs are emitted (autodiff leaves
 * unused branches behind; pruning them here keeps every rule simple). Parameters
 * and data are graph inputs, so weights stay in JavaScript memory that ORT
 * reads without copying; constants become initializers.
 */
import type onnxProto from 'onnx-proto';
import { ATTRIBUTE_TYPE, encodeModel, EXTERNAL } from './onnx-wire.js';
import { MS_DOMAIN, opDef, type Emitter, type OnnxAttr } from './registry.js';
import { ONNX_DTYPE, ONNX_FLOAT64 } from './ops/elementwise.js';
import { Graph, GraphError, isStatic, type DType, type Node, type Shape, type Tensor } from './tensor.js';
import { quantizeMatMuls, type QuantizeMode } from './quantize.js';
import { fuseSkipLayerNorm } from './fuse.js';
import { bytesOf } from '../utils/bytes.js';


export const OPSET = 20;

export interface GraphOutputs {
  readonly [name: string]: Tensor;
}

/** A graph as models build it and sessions compile it: what it computes, and (a decoder's chunk) the Loop it is the body of. */
export interface BuiltGraph {
  graph: Graph;
  outputs: GraphOutputs;
  loop?: LoopSpec;
}

/** The pruned graph: which inputs the compiled model reads, in order, and what it returns. */
export interface EmittedModel {
  readonly bytes: Uint8Array;
  readonly inputs: readonly Tensor[];
  readonly outputs: readonly { readonly name: string; readonly dtype: DType; readonly shape: Shape }[];
}

export interface EmitOptions {
  /**
   * Parameters to bake into the model as initializers instead of inputs. For
   * inference with fixed weights this lets ORT pre-pack matrices once (a
   * batch-1 decoder's GEMVs are otherwise dominated by packing weights on
   * every run) and makes the file self-contained (export).
   */
  initializers?: ReadonlyMap<string, Float32Array>;
  /** Parameters that ORT reads from a file itself (ONNX external data), e.g. a saved model's safetensors. */
  external?: ExternalWeights;
  /** Store the baked matrices that MatMuls read as int8 or int4 (see quantize.ts); inference only. */
  quantize?: QuantizeMode;
  /** Emit the graph as the body of one ONNX Loop (see LoopSpec). */
  loop?: LoopSpec;
  name?: string;
}

/**
 * A graph run `steps` times inside one ONNX Loop node — a decoder's chunk of tokens in one call, its
 * one-step body compiled (and its weights pre-packed) once rather than unrolled `steps` times.
 * `iteration` names the graph's int64 [] input that receives the step's index; `carry` maps an input
 * to the output fed into it at the next step (the model returns the last step's value under that
 * output's name); `scan` names a model output → the graph output it stacks over the steps, [steps, ...].
 * The graph's other inputs are read by every step alike.
 */
export interface LoopSpec {
  readonly steps: number;
  readonly iteration: string;
  readonly carry: Readonly<Record<string, string>>;
  readonly scan: Readonly<Record<string, string>>;
}

/**
 * float32 parameters at byte ranges of one file in `dir`. safetensors data is
 * raw little-endian, so a saved model's own file serves as ONNX external data.
 */
export interface ExternalWeights {
  readonly dir: string;
  readonly file: string;
  readonly tensors: ReadonlyMap<string, { readonly offset: number; readonly length: number }>;
}

export function toOnnx(graph: Graph, outputs: GraphOutputs, opts: EmitOptions = {}): EmittedModel {
  const baked = opts.initializers ?? new Map<string, Float32Array>();
  const outTensors = Object.entries(outputs);
  if (outTensors.length === 0) throw new GraphError('toOnnx: no outputs requested');
  for (const [key, t] of outTensors) {
    if (t.graph !== graph) throw new GraphError(`toOnnx: output '${key}' belongs to another graph`);
  }

  // Prune: mark everything the outputs depend on.
  const needed = new Set<number>();
  const stack = outTensors.map(([, t]) => t);
  while (stack.length) {
    const t = stack.pop()!;
    if (needed.has(t.id)) continue;
    needed.add(t.id);
    if (t.producer) stack.push(...t.producer.inputs);
  }
  const nodes = graph.nodes.filter((n) => n.outputs.some((o) => needed.has(o.id)));
  const external = opts.external?.tensors ?? new Map<string, { offset: number; length: number }>();
  const inputs = graph.inputs.map((i) => i.tensor).filter((t) => needed.has(t.id) && !baked.has(t.name) && !external.has(t.name) && t.name !== opts.loop?.iteration);
  for (const [name, e] of external) {
    const input = graph.inputs.find((i) => i.tensor.name === name);
    if (input && e.length !== 4 * input.tensor.size) throw new GraphError(`toOnnx: external '${name}' has ${e.length} bytes for ${input.tensor}`);
  }
  for (const name of baked.keys()) {
    const input = graph.inputs.find((i) => i.tensor.name === name);
    if (!input || input.kind !== 'param') throw new GraphError(`toOnnx: '${name}' is not a parameter of this graph`);
    if (baked.get(name)!.length !== input.tensor.size) throw new GraphError(`toOnnx: '${name}' has ${baked.get(name)!.length} values for ${input.tensor}`);
  }
  const outNames = new Set(outTensors.map(([k]) => k));
  // A computed output is produced under its output name directly: an Identity would cost ORT a copy
  // (it cannot elide one whose input feeds other nodes too, e.g. a KV cache's present keys).
  const rename = new Map<number, string>();
  for (const [key, t] of outTensors) if (t.producer && !rename.has(t.id)) rename.set(t.id, key);
  for (const t of graph.inputs) {
    if (outNames.has(t.tensor.name)) throw new GraphError(`toOnnx: output name '${t.tensor.name}' clashes with an input`);
  }

  // Where each symbolic dimension can be read at run time: the first needed tensor that has it.
  const symbolSource = new Map<string, { tensor: Tensor; axis: number }>();
  for (const t of [...inputs, ...nodes.flatMap((n) => n.outputs)]) {
    if (!needed.has(t.id)) continue;
    t.shape.forEach((d, axis) => typeof d === 'string' && !symbolSource.has(d) && symbolSource.set(d, { tensor: t, axis }));
  }
  const symbolValue = new Map<string, string>();

  const protoNodes: onnxProto.onnx.INodeProto[] = [];
  const initializers: onnxProto.onnx.ITensorProto[] = [];
  const int64Cache = new Map<string, string>();
  const floatCache = new Map<string, string>();
  /** A float initializer, one per distinct value and type. */
  const constant = (key: string, dataType: number, dims: number[], data: Float32Array | Float64Array): string => {
    let n = floatCache.get(key);
    if (!n) {
      n = `_f${data.BYTES_PER_ELEMENT * 8}_${floatCache.size}`;
      floatCache.set(key, n);
      initializers.push({ name: n, dataType, dims, rawData: bytesOf(data) });
    }
    return n;
  };
  const onceCache = new Map<string, string>();
  let tmpId = 0;
  const emitter: Emitter = {
    read: (t) => needed.has(t.id),
    add(opType, ins, outs, attrs = {}, domain = '') {
      protoNodes.push({
        opType,
        domain,
        name: `${opType}_${protoNodes.length}`,
        input: [...ins],
        output: [...outs],
        attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
      });
    },
    tmp: (hint) => `_${hint}_${tmpId++}`,
    int64(values) {
      const key = values.join(',');
      let n = int64Cache.get(key);
      if (!n) {
        n = `_i64_${int64Cache.size}`;
        int64Cache.set(key, n);
        initializers.push({ name: n, dataType: ONNX_DTYPE.int64, dims: [values.length], rawData: bytesOf(new BigInt64Array(values.map(BigInt))) });
      }
      return n;
    },
    int64Scalar(value) {
      const key = `s${value}`;
      let n = int64Cache.get(key);
      if (!n) {
        n = `_i64_${int64Cache.size}`;
        int64Cache.set(key, n);
        initializers.push({ name: n, dataType: ONNX_DTYPE.int64, dims: [], rawData: bytesOf(new BigInt64Array([BigInt(value)])) });
      }
      return n;
    },
    float: (value) => constant(typeof value === 'number' ? `fs${value}` : `fv${value.join(',')}`, ONNX_DTYPE.float32, typeof value === 'number' ? [] : [value.length], new Float32Array(typeof value === 'number' ? [value] : value)),
    double: (value) => constant(`d${value}`, ONNX_FLOAT64, [], new Float64Array([value])),
    shape(dims) {
      if (isStatic(dims)) return emitter.int64(dims);
      // Runs of static sizes become constants, each symbol a Shape slice of a tensor that has it; Concat joins them.
      const pieces: string[] = [];
      let run: number[] = [];
      for (const d of dims) {
        if (typeof d === 'number') {
          run.push(d);
          continue;
        }
        if (run.length) pieces.push(emitter.int64(run));
        run = [];
        let v = symbolValue.get(d);
        if (!v) {
          const src = symbolSource.get(d);
          if (!src) throw new GraphError(`toOnnx: no tensor carries the dimension '${d}'`);
          v = emitter.tmp(`dim_${d.replace(/\W/g, '_')}`);
          emitter.add('Shape', [emitter.name(src.tensor)], [v], { start: src.axis, end: src.axis + 1 });
          symbolValue.set(d, v);
        }
        pieces.push(v);
      }
      if (run.length) pieces.push(emitter.int64(run));
      const out = emitter.tmp('shape');
      emitter.add('Concat', pieces, [out], { axis: 0 });
      return out;
    },
    name: (t) => rename.get(t.id) ?? t.name,
    once(key, make) {
      let v = onceCache.get(key);
      if (v === undefined) onceCache.set(key, (v = make()));
      return v;
    },
  };

  for (const { tensor } of graph.inputs) {
    const data = baked.get(tensor.name);
    if (data && needed.has(tensor.id)) initializers.push({ name: tensor.name, dataType: ONNX_DTYPE.float32, dims: [...tensor.shape] as number[], rawData: bytesOf(data) });
    const ext = external.get(tensor.name);
    if (ext && needed.has(tensor.id)) {
      initializers.push({
        name: tensor.name,
        dataType: ONNX_DTYPE.float32,
        dims: [...tensor.shape] as number[],
        dataLocation: EXTERNAL,
        externalData: [
          { key: 'location', value: opts.external!.file },
          { key: 'offset', value: String(ext.offset) },
          { key: 'length', value: String(ext.length) },
        ],
      });
    }
  }
  for (const c of graph.constants) {
    if (needed.has(c.tensor.id)) {
      initializers.push({ name: c.tensor.name, dataType: ONNX_DTYPE[c.tensor.dtype], dims: [...c.tensor.shape], rawData: bytesOf(c.data) });
    }
  }
  for (const n of nodes) emitNode(n, emitter);
  for (const [key, t] of outTensors) if (rename.get(t.id) !== key) emitter.add('Identity', [emitter.name(t)], [key]);
  const shapes = new Map([...inputs, ...nodes.flatMap((n) => n.outputs)].map((t) => [emitter.name(t), t.shape] as const));
  fuseSkipLayerNorm(protoNodes, (name) => shapes.get(name));
  if (opts.quantize) quantizeMatMuls(protoNodes, initializers, opts.quantize, outNames);

  const opsetImport = [{ domain: '', version: OPSET }, ...(protoNodes.some((n) => n.domain === MS_DOMAIN) ? [{ domain: MS_DOMAIN, version: 1 }] : [])];
  const outputSpecs = outTensors.map(([name, t]) => ({ name, dtype: t.dtype, shape: t.shape }));
  const body: onnxProto.onnx.IGraphProto = {
    name: opts.name ?? 'inkwell',
    node: protoNodes,
    initializer: initializers,
    input: inputs.map((t) => valueInfo(t.name, t)),
    output: outTensors.map(([k, t]) => valueInfo(k, t)),
  };
  if (opts.loop) return loopModel(body, graph, outputs, opts.loop, inputs, emitter, opsetImport);
  return { bytes: encodeModel({ irVersion: 8, producerName: 'inkwell', opsetImport, graph: body }), inputs, outputs: outputSpecs };
}

/** The model whose one Loop node runs `body` (toOnnx's graph) as LoopSpec says; the initializers move to the outer graph, which the body reads them from. */
function loopModel(
  g: onnxProto.onnx.IGraphProto,
  graph: Graph,
  outputs: GraphOutputs,
  loop: LoopSpec,
  inputs: readonly Tensor[],
  e: Emitter,
  opsetImport: onnxProto.onnx.IOperatorSetIdProto[],
): EmittedModel {
  const input = (name: string) => graph.inputs.find((i) => i.tensor.name === name)?.tensor;
  const iteration = input(loop.iteration);
  if (!iteration || iteration.dtype !== 'int64' || iteration.rank !== 0) throw new GraphError(`toOnnx: loop iteration '${loop.iteration}' must be an int64 [] input`);
  const carried = Object.entries(loop.carry).map(([from, to]) => {
    const [x, y] = [input(from), outputs[to]];
    if (!x || !y || x.dtype !== y.dtype || x.shape.join() !== y.shape.join()) throw new GraphError(`toOnnx: loop carry '${from}' ← '${to}' needs an input and an output of one type and shape`);
    return { from: x, to };
  });
  const scans = Object.entries(loop.scan).map(([name, of]) => {
    if (!outputs[of]) throw new GraphError(`toOnnx: loop scan '${name}' stacks '${of}', which is not an output`);
    return { name, of, t: outputs[of]! };
  });
  const [cond, condOut] = ['_loop_cond', '_loop_cond_out'];
  const condInfo = valueInfo(cond, { dtype: 'bool', shape: [] });
  const always = e.tmp('true');
  const stepped = (name: string) => `_step_${name}`;
  const bodyNodes = [...g.node!, { opType: 'Identity', input: [cond], output: [condOut] }, ...scans.map((s) => ({ opType: 'Identity', input: [s.of], output: [stepped(s.name)] }))];
  const body: onnxProto.onnx.IGraphProto = {
    name: 'step',
    node: bodyNodes,
    input: [valueInfo(loop.iteration, iteration), condInfo, ...carried.map((c) => valueInfo(c.from.name, c.from))],
    output: [valueInfo(condOut, { dtype: 'bool', shape: [] }), ...carried.map((c) => valueInfo(c.to, outputs[c.to]!)), ...scans.map((s) => valueInfo(stepped(s.name), s.t))],
  };
  const node = {
    opType: 'Loop',
    name: 'Loop',
    input: [e.int64Scalar(loop.steps), always, ...carried.map((c) => c.from.name)],
    output: [...carried.map((c) => c.to), ...scans.map((s) => s.name)],
    attribute: [{ name: 'body', type: ATTRIBUTE_TYPE.GRAPH, g: body }],
  };
  const initializer = [...g.initializer!, { name: always, dataType: ONNX_DTYPE.bool, dims: [], rawData: Uint8Array.of(1) }];
  const stacked = scans.map((s) => ({ name: s.name, dtype: s.t.dtype, shape: [loop.steps, ...s.t.shape] }));
  const returned = [...carried.map((c) => ({ name: c.to, dtype: outputs[c.to]!.dtype, shape: outputs[c.to]!.shape })), ...stacked];
  const bytes = encodeModel({
    irVersion: 8,
    producerName: 'inkwell',
    opsetImport,
    graph: { name: g.name, node: [node], initializer, input: inputs.map((t) => valueInfo(t.name, t)), output: returned.map((o) => valueInfo(o.name, o)) },
  });
  return { bytes, inputs, outputs: returned };
}

function emitNode(n: Node, e: Emitter): void {
  try {
    opDef(n.op).emit(n, e);
  } catch (err) {
    throw new GraphError(`toOnnx: emitting ${n.op} (${n.outputs[0]}): ${(err as Error).message}`);
  }
}

function valueInfo(name: string, t: { readonly dtype: DType; readonly shape: Shape }): onnxProto.onnx.IValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType: ONNX_DTYPE[t.dtype], shape: { dim: t.shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
  };
}

function attribute(name: string, v: OnnxAttr): onnxProto.onnx.IAttributeProto {
  const T = ATTRIBUTE_TYPE;
  if (typeof v === 'number') return { name, type: T.INT, i: v };
  if (typeof v === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return { name, type: T.INTS, ints: [...v] };
  return { name, type: T.FLOAT, f: (v as { float: number }).float };
}
