/**
 * Symbolic tensors and the graph that owns them.
 *
 * Every tensor has a shape and dtype known when the graph is built, so shape
 * errors surface at build time (naming the op) rather than deep inside ONNX
 * Runtime. A dimension is a static size or, for inference graphs whose sizes
 * change from run to run (a KV cache's past length, a prompt's length), a
 * named symbol such as 'past'; symbols flow through the ops like sizes do.
 * Training graphs are fully static. A graph is a list of nodes in creation
 * order, which is already a topological order.
 */
import { InkwellError } from '../utils/errors.js';

export type DType = 'float32' | 'int64' | 'int32' | 'bool';
/** A static size, or the name of a size known only at run time ('batch', 'past', 'past+seq'). */
export type Dim = number | string;
export type Shape = readonly Dim[];
export type AttrValue = number | string | boolean | readonly number[] | null;
export type Attrs = Readonly<Record<string, AttrValue>>;

/** How a graph input is fed: data from the caller, a trainable parameter, or a dropout mask the runtime draws. */
export type InputKind = 'data' | 'param' | 'dropoutMask';

export class GraphError extends InkwellError {}

export class Tensor {
  constructor(
    readonly graph: Graph,
    readonly id: number,
    readonly dtype: DType,
    readonly shape: Shape,
    /** The node that produces this tensor, or null for inputs and constants. */
    readonly producer: Node | null,
    /** Index among the producer's outputs. */
    readonly outputIndex: number,
    /** Name used in the ONNX graph. */
    readonly name: string,
  ) {}

  get rank(): number {
    return this.shape.length;
  }

  /** Number of elements; only for static shapes. */
  get size(): number {
    return shapeSize(staticShape(`${this}`, this.shape));
  }

  toString(): string {
    return `${this.name}:${this.dtype}[${this.shape.join(',')}]`;
  }
}

export interface Node {
  readonly id: number;
  readonly op: string;
  readonly inputs: readonly Tensor[];
  readonly outputs: readonly Tensor[];
  readonly attrs: Attrs;
}

export interface GraphInput {
  readonly tensor: Tensor;
  readonly kind: InputKind;
  /** For dropout masks: the drop probability. */
  readonly p?: number;
}

export interface Constant {
  readonly tensor: Tensor;
  readonly data: Float32Array | BigInt64Array | Int32Array | Uint8Array;
}

export class Graph {
  readonly nodes: Node[] = [];
  readonly inputs: GraphInput[] = [];
  readonly constants: Constant[] = [];
  private nextId = 0;
  private readonly names = new Set<string>();

  /** A tensor fed by the caller at run time. */
  input(name: string, dtype: DType, shape: Shape): Tensor {
    return this.addInput(name, dtype, shape, 'data');
  }

  /** A trainable parameter: fed at run time from the model's weights, and a target of `gradients`. */
  param(name: string, shape: Shape): Tensor {
    return this.addInput(name, 'float32', shape, 'param');
  }

  /** A boolean keep-mask for dropout, drawn by the runtime from its seeded RNG on every run. */
  dropoutMask(shape: Shape, p: number): Tensor {
    return this.addInput(this.uniqueName('dropout_mask'), 'bool', shape, 'dropoutMask', p);
  }

  get params(): Tensor[] {
    return this.inputs.filter((i) => i.kind === 'param').map((i) => i.tensor);
  }

  constant(data: Float32Array | BigInt64Array | Int32Array | Uint8Array, dtype: DType, shape: readonly number[]): Tensor {
    if (data.length !== shapeSize(shape)) {
      throw new GraphError(`constant: ${data.length} values do not fill shape [${shape.join(',')}]`);
    }
    const t = this.newTensor(dtype, shape, null, 0, this.uniqueName('const'));
    this.constants.push({ tensor: t, data });
    return t;
  }

  /** Adds a node of a registered op; `outputs` gives each output's dtype and shape, already checked by the builder. */
  addNode(op: string, inputs: readonly Tensor[], attrs: Attrs, outputs: readonly { dtype: DType; shape: Shape }[]): Tensor[] {
    for (const t of inputs) {
      if (t.graph !== this) throw new GraphError(`${op}: input ${t} belongs to another graph`);
    }
    const id = this.nodes.length;
    const outs: Tensor[] = [];
    const node: Node = { id, op, inputs, outputs: outs, attrs };
    outputs.forEach((o, i) => outs.push(this.newTensor(o.dtype, o.shape, node, i, this.uniqueName(`${op.toLowerCase()}`))));
    this.nodes.push(node);
    return outs;
  }

  private addInput(name: string, dtype: DType, shape: Shape, kind: InputKind, p?: number): Tensor {
    if (this.names.has(name)) throw new GraphError(`duplicate tensor name '${name}'`);
    for (const d of shape) {
      const ok = typeof d === 'string' ? /^[A-Za-z_][\w+]*$/.test(d) : Number.isInteger(d) && d >= 0;
      if (!ok) throw new GraphError(`input '${name}': bad shape [${shape.join(',')}]`);
    }
    const t = this.newTensor(dtype, shape, null, 0, name);
    this.inputs.push({ tensor: t, kind, p });
    return t;
  }

  private newTensor(dtype: DType, shape: Shape, producer: Node | null, outputIndex: number, name: string): Tensor {
    this.names.add(name);
    return new Tensor(this, this.nextId++, dtype, Object.freeze([...shape]), producer, outputIndex, name);
  }

  private uniqueName(base: string): string {
    let name = `${base}_${this.nextId}`;
    while (this.names.has(name)) name += '_';
    return name;
  }
}

export function shapeSize(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function isStatic(shape: Shape): shape is readonly number[] {
  return shape.every((d) => typeof d === 'number');
}

/** The numeric shape, or a GraphError naming `what` when a dimension is symbolic. */
export function staticShape(what: string, shape: Shape): number[] {
  if (!isStatic(shape)) throw new GraphError(`${what}: needs a static shape, got ${fmt(shape)}`);
  return [...shape];
}

/** The numeric size of one dimension, or a GraphError naming `what`. */
export function staticDim(what: string, d: Dim | undefined): number {
  if (typeof d !== 'number') throw new GraphError(`${what}: dimension '${String(d)}' must be static`);
  return d;
}

/** a + b: a number when both are, else the symbol 'a+b' (what concatenating a past and a new span gives). */
export function addDims(a: Dim, b: Dim): Dim {
  if (typeof a === 'number' && typeof b === 'number') return a + b;
  if (a === 0) return b;
  if (b === 0) return a;
  return `${a}+${b}`;
}

export function shapeEq(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export const fmt = (s: Shape): string => `[${s.join(',')}]`;

/** Resolves a possibly negative axis against a rank, with a clear error naming the op. */
export function normAxis(op: string, axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) throw new GraphError(`${op}: axis ${axis} out of range for rank ${rank}`);
  return a;
}

/** Numpy broadcasting of two shapes; throws naming the op when they are incompatible. */
export function broadcastShapes(op: string, a: Shape, b: Shape): Dim[] {
  const n = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new GraphError(`${op}: shapes ${fmt(a)} and ${fmt(b)} do not broadcast`);
    }
    out.push(da === 1 ? db : da);
  }
  return out;
}
