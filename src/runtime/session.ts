/**
 * Compiles graphs into ONNX Runtime sessions and runs them with typed-array feeds.
 *
 * ORT wraps input buffers without copying, so weights are fed straight from
 * the model's Float32Arrays on every run; every output comes back as a fresh
 * array. Feeds are validated by name, dtype and size before ORT sees them, so a
 * mistake names the input rather than failing deep inside the native engine.
 * ONNX Runtime itself comes from ort-backend.ts: onnxruntime-node in Node,
 * onnxruntime-web in the browser bundle (see backend.ts).
 */
import type { InferenceSession } from 'onnxruntime-common';
import { backend } from './ort-backend.js';
import { toOnnx, type BuiltGraph, type ExternalWeights, type GraphOutputs, type LoopSpec } from '../graph/onnx.js';
import type { QuantizeMode } from '../graph/quantize.js';
import { type DType, type Graph, type InputKind, type Shape, fmt, isStatic, shapeSize, staticShape } from '../graph/tensor.js';
import { InkwellError } from '../utils/errors.js';

export type TypedArray = Float32Array | BigInt64Array | Int32Array | Uint8Array;
/** A feed: the data alone when the input's shape is static, or data with its run-time dims when the shape has symbols. */
export type Feed = TypedArray | { readonly data: TypedArray; readonly dims: readonly number[] };
export type Feeds = Readonly<Record<string, Feed>>;

export interface CompileOptions {
  /** Intra-op threads; defaults to every core. */
  threads?: number;
  /** ORT graph optimisation level; 'all' (the default) enables its fusions (Gemm, FusedMatMul, Gelu, SkipLayerNorm). */
  optimization?: 'disabled' | 'basic' | 'extended' | 'all';
  /** Also write the model to this `.onnx` path, for inspection with Netron or onnx tools. */
  dumpPath?: string;
  /** Parameters fixed for this session's lifetime, baked in as initializers (inference: ORT pre-packs them). */
  bake?: ReadonlyMap<string, Float32Array>;
  /** Parameters ORT reads from a file itself (ONNX external data): baked like `bake`, without passing through JavaScript. */
  bakeExternal?: ExternalWeights;
  /** Store the baked matrices as int8 (`q8`) or int4 (`q4`) weights: faster, slightly less exact inference (see graph/quantize.ts). */
  quantize?: QuantizeMode;
  /** Run the graph as the body of one ONNX Loop, several steps per call (see graph/onnx.ts's LoopSpec). */
  loop?: LoopSpec;
}

export interface RunOptions {
  /** Uniform [0, 1) source for dropout masks; required when the graph has dropout. */
  random?: () => number;
  /** Outputs that must be finite (e.g. the loss): a NaN or ±inf raises NonFiniteError. */
  checkFinite?: readonly string[];
  /**
   * Return only these outputs (default: all). onnxruntime-node copies every returned
   * output into a new JavaScript buffer; those left out are computed but not copied.
   */
  fetch?: readonly string[];
}

export interface IOSpec {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: Shape;
  readonly rank: number;
}

export interface InputSpec extends IOSpec {
  readonly kind: InputKind;
  readonly p?: number;
}

export class NonFiniteError extends InkwellError {
  constructor(readonly output: string) {
    super(`${output} is not finite (NaN or infinity)`, 'lower the learning rate, enable gradient clipping, or check the input data');
  }
}

const ARRAY_OF: Record<DType, string> = { float32: 'Float32Array', int64: 'BigInt64Array', int32: 'Int32Array', bool: 'Uint8Array' };

export class CompiledGraph {
  private constructor(
    private readonly session: InferenceSession,
    readonly inputs: readonly InputSpec[],
    readonly outputs: readonly IOSpec[],
    /** Names of every input of the source graph, including those pruned away (feeding them is harmless). */
    private readonly knownInputs: ReadonlySet<string>,
  ) {}

  static async compile(graph: Graph, outputs: GraphOutputs, opts: CompileOptions = {}): Promise<CompiledGraph> {
    if (opts.quantize && !opts.bake) throw new InkwellError('quantize needs baked weights (CompileOptions.bake)');
    const { bytes, inputs, outputs: returned } = toOnnx(graph, outputs, { initializers: opts.bake, external: opts.bakeExternal, quantize: opts.quantize, loop: opts.loop });
    if (opts.dumpPath) backend.writeFile(opts.dumpPath, bytes);
    const session = await backend.ort.InferenceSession.create(bytes, {
      ...backend.sessionOptions(),
      intraOpNumThreads: opts.threads ?? backend.defaultThreads(),
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: opts.optimization ?? 'all',
      // A model made from bytes has no folder of its own: external data is found in this one.
      ...(opts.bakeExternal ? { extra: { session: { model_external_initializers_file_folder_path: backend.resolveDir(opts.bakeExternal.dir) } } } : {}),
    });
    const kinds = new Map(graph.inputs.map((i) => [i.tensor.id, i]));
    const inputSpecs = inputs.map((t) => ({ name: t.name, dtype: t.dtype, shape: t.shape, rank: t.rank, kind: kinds.get(t.id)!.kind, p: kinds.get(t.id)!.p }));
    const outputSpecs = returned.map((o) => ({ ...o, rank: o.shape.length }));
    return new CompiledGraph(session, inputSpecs, outputSpecs, new Set(graph.inputs.map((i) => i.tensor.name)));
  }

  async run(feeds: Feeds, opts: RunOptions = {}): Promise<Record<string, TypedArray>> {
    for (const name of Object.keys(feeds)) {
      if (!this.knownInputs.has(name)) {
        const expected = this.inputs.filter((i) => i.kind !== 'dropoutMask').map((i) => i.name);
        throw new InkwellError(`unknown feed '${name}'`, `this graph takes: ${expected.join(', ')}`);
      }
    }
    const ortFeeds: Record<string, InferenceSession.OnnxValueMapType[string]> = {};
    const symbols = new Map<string, number>();
    for (const spec of this.inputs) {
      // A dropout mask is drawn from `random` unless the caller feeds one (tests, debugging).
      if (spec.kind === 'dropoutMask' && feeds[spec.name] === undefined) {
        const shape = staticShape(spec.name, spec.shape);
        ortFeeds[spec.name] = new backend.ort.Tensor('bool', dropoutMask(shapeSize(shape), spec.p!, opts.random), shape);
        continue;
      }
      const { data, dims } = checkFeed(spec, feeds[spec.name], symbols);
      ortFeeds[spec.name] = new backend.ort.Tensor(spec.dtype, data, dims);
    }
    const wanted = [...new Set(opts.fetch ?? this.outputs.map((o) => o.name))];
    if (wanted.length === 0) throw new InkwellError('fetch: no outputs asked for');
    for (const name of [...wanted, ...(opts.checkFinite ?? [])]) {
      if (!this.outputs.some((o) => o.name === name)) throw new InkwellError(`unknown output '${name}'`, `this graph returns: ${this.outputs.map((o) => o.name).join(', ')}`);
      if (!wanted.includes(name)) throw new InkwellError(`checkFinite: '${name}' is not among the fetched outputs`);
    }
    const result = await this.session.run(ortFeeds, wanted);
    const out: Record<string, TypedArray> = {};
    for (const name of wanted) out[name] = result[name]!.data as TypedArray;
    for (const name of opts.checkFinite ?? []) {
      const v = out[name];
      if (!(v instanceof Float32Array)) throw new InkwellError(`checkFinite: '${name}' is not a float output`);
      for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i]!)) throw new NonFiniteError(name);
    }
    return out;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

/** Validates a feed's type and size (and its symbolic dims against those already seen in this run). */
function checkFeed(spec: InputSpec, feed: Feed | undefined, symbols: Map<string, number>): { data: TypedArray; dims: number[] } {
  if (feed === undefined) throw new InkwellError(`missing feed '${spec.name}' (${spec.dtype}${fmt(spec.shape)})`);
  let data = ArrayBuffer.isView(feed) ? feed : feed.data;
  // Token ids usually arrive as Int32Array; ONNX gathers and losses want int64.
  if (spec.dtype === 'int64' && data instanceof Int32Array) data = BigInt64Array.from(data, (v) => BigInt(v));
  const want = ARRAY_OF[spec.dtype];
  if (data.constructor.name !== want) {
    throw new InkwellError(`feed '${spec.name}' must be a ${want} (${spec.dtype}), got ${data.constructor.name}`);
  }
  const dims = ArrayBuffer.isView(feed) ? (isStatic(spec.shape) ? [...spec.shape] : undefined) : [...feed.dims];
  if (!dims) throw new InkwellError(`feed '${spec.name}' has a dynamic shape ${fmt(spec.shape)}: pass { data, dims }`);
  const fits = dims.length === spec.rank && spec.shape.every((d, i) => {
    if (typeof d === 'number') return d === dims[i];
    const seen = symbols.get(d);
    symbols.set(d, dims[i]!);
    return seen === undefined || seen === dims[i];
  });
  if (!fits) throw new InkwellError(`feed '${spec.name}' has dims [${dims.join(',')}], which do not fit ${fmt(spec.shape)} (symbols must agree across feeds)`);
  const n = shapeSize(dims);
  if (data.length !== n) {
    throw new InkwellError(`feed '${spec.name}' has ${data.length} values; shape [${dims.join(',')}] needs ${n}`);
  }
  return { data, dims };
}

function dropoutMask(size: number, p: number, random: (() => number) | undefined): Uint8Array {
  if (!random) throw new InkwellError('this graph has dropout: pass `random` (a seeded RNG) to run()');
  const keep = 1 - p;
  const mask = new Uint8Array(size);
  for (let i = 0; i < mask.length; i++) mask[i] = random() < keep ? 1 : 0;
  return mask;
}

/** Compiled graphs by key (e.g. 'gpt/train/B12xT64'): a session per shape, built once. */
export class SessionCache {
  private readonly cache = new Map<string, Promise<CompiledGraph>>();
  constructor(private readonly opts: CompileOptions = {}) {}

  get(key: string, build: () => BuiltGraph): Promise<CompiledGraph> {
    let c = this.cache.get(key);
    if (!c) {
      const { graph, outputs, loop } = build();
      c = CompiledGraph.compile(graph, outputs, loop ? { ...this.opts, loop } : this.opts);
      this.cache.set(key, c);
    }
    return c;
  }

  has(key: string): boolean {
    return this.cache.has(key);
  }

  async delete(key: string): Promise<void> {
    const c = this.cache.get(key);
    this.cache.delete(key);
    if (c) await (await c).release();
  }

  async clear(): Promise<void> {
    const all = [...this.cache.values()];
    this.cache.clear();
    await Promise.all(all.map(async (c) => (await c).release()));
  }
}
