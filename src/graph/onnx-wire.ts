/**
 * ModelProto bytes for the fields inkwell's graphs use, written directly in
 * protobuf's wire format. onnx-proto's generated module covers all of ONNX and
 * costs ~50 ms to import — on every process's path to its first token — while
 * a decoder needs a few message types; its types still describe what is written
 * here, and export/ (not on that path) still reads models with it. Field
 * numbers are onnx.proto's; repeated numbers are packed, as onnx-proto writes.
 * Lengths are known before anything is written, so each byte, a large
 * initializer's raw data included, is copied once.
 */
import type onnxProto from 'onnx-proto';
import { GraphError } from './tensor.js';

type I = typeof onnxProto.onnx;
type Model = onnxProto.onnx.IModelProto;

/** onnx.proto's enum values that inkwell writes (TensorProto.DataType, AttributeProto.AttributeType, DataLocation). */
export const DATA_TYPE = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7, BOOL: 9 } as const satisfies Partial<Record<keyof I['TensorProto']['DataType'], number>>;
export const ATTRIBUTE_TYPE = { FLOAT: 1, INT: 2, STRING: 3, GRAPH: 5, INTS: 7 } as const satisfies Partial<Record<keyof I['AttributeProto']['AttributeType'], number>>;
export const EXTERNAL = 1;

/** A message being built: its parts in order (bytes, or nested messages written after their length) and its size. */
class Message {
  readonly parts: (Uint8Array | Message)[] = [];
  size = 0;

  private push(p: Uint8Array | Message): void {
    this.parts.push(p);
    this.size += p instanceof Message ? p.size : p.length;
  }

  /** A varint field (int32/int64/enum); undefined or null is absent. */
  int(field: number, v: number | Long | null | undefined): void {
    if (v === undefined || v === null) return;
    this.push(Uint8Array.from([...varint(field << 3), ...varint(toNumber(v))]));
  }

  float(field: number, v: number | null | undefined): void {
    if (v === undefined || v === null) return;
    const head = varint((field << 3) | 5);
    const b = new Uint8Array(head.length + 4);
    b.set(head);
    new DataView(b.buffer).setFloat32(head.length, v, true);
    this.push(b);
  }

  bytes(field: number, v: Uint8Array | null | undefined): void {
    if (v === undefined || v === null) return;
    this.push(Uint8Array.from([...varint((field << 3) | 2), ...varint(v.length)]));
    this.push(v);
  }

  string(field: number, v: string | null | undefined): void {
    if (v === undefined || v === null) return;
    this.bytes(field, utf8.encode(v));
  }

  message(field: number, m: Message): void {
    this.push(Uint8Array.from([...varint((field << 3) | 2), ...varint(m.size)]));
    this.push(m);
  }

  /** A packed repeated varint field (absent when empty). */
  packed(field: number, vs: readonly (number | Long)[] | null | undefined): void {
    if (!vs || vs.length === 0) return;
    const body = vs.flatMap((v) => varint(toNumber(v)));
    this.push(Uint8Array.from([...varint((field << 3) | 2), ...varint(body.length), ...body]));
  }

  write(out: Uint8Array, at: number): number {
    for (const p of this.parts) {
      if (p instanceof Message) at = p.write(out, at);
      else {
        out.set(p, at);
        at += p.length;
      }
    }
    return at;
  }
}

type Long = { toNumber(): number };
const utf8 = new TextEncoder();

function toNumber(v: number | Long): number {
  return typeof v === 'number' ? v : v.toNumber();
}

/** Protobuf varint of an integer; a negative one as its 64-bit two's complement (10 bytes), as int64 fields want. */
function varint(v: number): number[] {
  if (!Number.isSafeInteger(v)) throw new GraphError(`onnx: ${v} is not an integer protobuf can hold`);
  const out: number[] = [];
  if (v < 0) {
    let b = BigInt.asUintN(64, BigInt(v));
    while (b > 0x7fn) {
      out.push(Number(b & 0x7fn) | 0x80);
      b >>= 7n;
    }
    out.push(Number(b));
    return out;
  }
  while (v > 0x7f) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return out;
}

function each<T>(xs: readonly T[] | null | undefined, f: (x: T) => void): void {
  for (const x of xs ?? []) f(x);
}

/** Refuses a set field this writer does not write: dropping it silently would change the model. */
function only(what: string, o: object, fields: readonly string[]): void {
  for (const [k, v] of Object.entries(o)) if (v !== undefined && v !== null && !fields.includes(k)) throw new GraphError(`onnx: ${what}.${k} is not written by onnx-wire.ts`);
}

function tensor(t: onnxProto.onnx.ITensorProto): Message {
  only('TensorProto', t, ['dims', 'dataType', 'name', 'rawData', 'externalData', 'dataLocation']);
  const m = new Message();
  m.packed(1, t.dims);
  m.int(2, t.dataType);
  m.string(8, t.name);
  m.bytes(9, t.rawData);
  each(t.externalData, (e) => {
    const kv = new Message();
    kv.string(1, e.key);
    kv.string(2, e.value);
    m.message(13, kv);
  });
  m.int(14, t.dataLocation);
  return m;
}

function attribute(a: onnxProto.onnx.IAttributeProto): Message {
  only('AttributeProto', a, ['name', 'f', 'i', 's', 'g', 'ints', 'type']);
  const m = new Message();
  m.string(1, a.name);
  m.float(2, a.f);
  m.int(3, a.i);
  m.bytes(4, a.s);
  if (a.g) m.message(6, graph(a.g));
  m.packed(8, a.ints);
  m.int(20, a.type);
  return m;
}

function node(n: onnxProto.onnx.INodeProto): Message {
  only('NodeProto', n, ['input', 'output', 'name', 'opType', 'attribute', 'domain']);
  const m = new Message();
  each(n.input, (s) => m.string(1, s));
  each(n.output, (s) => m.string(2, s));
  m.string(3, n.name);
  m.string(4, n.opType);
  each(n.attribute, (a) => m.message(5, attribute(a)));
  m.string(7, n.domain);
  return m;
}

function valueInfo(v: onnxProto.onnx.IValueInfoProto): Message {
  const shape = new Message();
  each(v.type?.tensorType?.shape?.dim, (d) => {
    const dim = new Message();
    dim.int(1, d.dimValue);
    dim.string(2, d.dimParam);
    shape.message(1, dim);
  });
  const tensorType = new Message();
  tensorType.int(1, v.type?.tensorType?.elemType);
  tensorType.message(2, shape);
  const type = new Message();
  type.message(1, tensorType);
  const m = new Message();
  m.string(1, v.name);
  m.message(2, type);
  return m;
}

/** A graph: the model's, or a subgraph (a Loop's body). */
function graph(g: onnxProto.onnx.IGraphProto): Message {
  only('GraphProto', g, ['node', 'name', 'initializer', 'input', 'output']);
  const m = new Message();
  each(g.node, (n) => m.message(1, node(n)));
  m.string(2, g.name);
  each(g.initializer, (t) => m.message(5, tensor(t)));
  each(g.input, (v) => m.message(11, valueInfo(v)));
  each(g.output, (v) => m.message(12, valueInfo(v)));
  return m;
}

/**
 * The bytes of `model`. Only what inkwell's graphs set is written (a field it
 * does not know of would be dropped silently, so one is refused).
 */
export function encodeModel(model: Model): Uint8Array {
  const g = model.graph;
  if (!g) throw new GraphError('onnx: the model has no graph');
  only('ModelProto', model, ['irVersion', 'producerName', 'graph', 'opsetImport']);
  const m = new Message();
  m.int(1, model.irVersion);
  m.string(2, model.producerName);
  m.message(7, graph(g));
  each(model.opsetImport, (o) => {
    const op = new Message();
    op.string(1, o.domain);
    op.int(2, o.version);
    m.message(8, op);
  });
  const out = new Uint8Array(m.size);
  m.write(out, 0);
  return out;
}
