/**
 * ModelProto bytes for the fields inkwell's graphs use, written directly in
 * protobuf's wire format. onnx-proto's generated module covers all of ONNX and
 * costs ~50 ms to import — on every process's path to its first token — while
 * a decoder needs a few message types; its types still describe what is written
 * here, and export/ (not on that path) still reads models with it. Field
 * numbers are onnx.proto's; repeated numbers are packed, as onnx-proto writes.
 * Lengths are known before anything is written, so a large initializer's raw
 * data is copied once, into the output.
 */
import type onnxProto from 'onnx-proto';
import { GraphError } from './tensor.js';

type I = typeof onnxProto.onnx;
type Model = onnxProto.onnx.IModelProto;

/** onnx.proto's enum values that inkwell writes (TensorProto.DataType, AttributeProto.AttributeType, DataLocation). */
export const DATA_TYPE = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7, BOOL: 9 } as const satisfies Partial<Record<keyof I['TensorProto']['DataType'], number>>;
export const ATTRIBUTE_TYPE = { FLOAT: 1, INT: 2, STRING: 3, GRAPH: 5, INTS: 7 } as const satisfies Partial<Record<keyof I['AttributeProto']['AttributeType'], number>>;
export const EXTERNAL = 1;

/**
 * The small fields of one encode, every message's, in the order they are
 * written: each message records which runs of it are its own, so its bytes
 * are written once here and once to the output, and no array is made per field
 * (the first encode of a process runs before V8 has compiled any of this).
 */
class Arena {
  buf = new Uint8Array(1 << 14);
  at = 0;

  /** The buffer, with room for `n` more bytes (it doubles; recorded runs stay valid as offsets). */
  room(n: number): Uint8Array {
    if (this.at + n > this.buf.length) {
      const grown = new Uint8Array(Math.max(2 * this.buf.length, this.at + n));
      grown.set(this.buf.subarray(0, this.at));
      this.buf = grown;
    }
    return this.buf;
  }
}

/** A message being built: its parts in order (runs of the arena, large byte strings, nested messages written after their length) and its size. */
class Message {
  /** A run of the arena is two numbers, its start and end. */
  private readonly parts: (number | Uint8Array | Message)[] = [];
  /** Where this message's last run ends: bytes written there extend it. */
  private end = -1;
  size = 0;

  constructor(private readonly arena: Arena) {}

  /** A varint field (int32/int64/enum); undefined or null is absent. */
  int(field: number, v: number | Long | null | undefined): void {
    if (v === undefined || v === null) return;
    this.varint(field << 3);
    this.varint(toNumber(v));
  }

  float(field: number, v: number | null | undefined): void {
    if (v === undefined || v === null) return;
    this.varint((field << 3) | 5);
    FLOAT.setFloat32(0, v, true);
    const buf = this.open(4);
    buf.set(FLOAT_BYTES, this.arena.at);
    this.close(this.arena.at + 4);
  }

  bytes(field: number, v: Uint8Array | null | undefined): void {
    if (v === undefined || v === null) return;
    this.varint((field << 3) | 2);
    this.varint(v.length);
    if (v.length > INLINE) return this.part(v);
    this.open(v.length).set(v, this.arena.at);
    this.close(this.arena.at + v.length);
  }

  string(field: number, v: string | null | undefined): void {
    if (v === undefined || v === null) return;
    if (!ASCII.test(v)) return this.bytes(field, utf8.encode(v));
    this.varint((field << 3) | 2);
    this.varint(v.length);
    const { written } = utf8.encodeInto(v, this.open(v.length).subarray(this.arena.at));
    this.close(this.arena.at + written);
  }

  message(field: number, m: Message): void {
    this.varint((field << 3) | 2);
    this.varint(m.size);
    this.part(m);
  }

  /** A packed repeated varint field (absent when empty). */
  packed(field: number, vs: readonly (number | Long)[] | null | undefined): void {
    if (!vs || vs.length === 0) return;
    const body = new Message(this.arena);
    for (const v of vs) body.varint(toNumber(v));
    this.message(field, body);
  }

  write(out: Uint8Array, at: number): number {
    const { parts } = this;
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      if (p instanceof Message) at = p.write(out, at);
      else if (p instanceof Uint8Array) {
        out.set(p, at);
        at += p.length;
      } else {
        const end = parts[++i] as number;
        out.set(this.arena.buf.subarray(p, end), at);
        at += end - p;
      }
    }
    return at;
  }

  /** Protobuf varint of an integer; a negative one as its 64-bit two's complement (10 bytes), as int64 fields want. */
  private varint(v: number): void {
    if (!Number.isSafeInteger(v)) throw new GraphError(`onnx: ${v} is not an integer protobuf can hold`);
    const buf = this.open(10);
    let at = this.arena.at;
    if (v < 0) {
      let b = BigInt.asUintN(64, BigInt(v));
      for (; b > 0x7fn; b >>= 7n) buf[at++] = Number(b & 0x7fn) | 0x80;
      buf[at++] = Number(b);
    } else {
      for (; v > 0x7f; v = Math.floor(v / 0x80)) buf[at++] = (v % 0x80) | 0x80;
      buf[at++] = v;
    }
    this.close(at);
  }

  /** The arena with room for `n` bytes at its end, which this message's last run reaches (a new run starts if another message wrote since). */
  private open(n: number): Uint8Array {
    const buf = this.arena.room(n);
    if (this.end !== this.arena.at) this.parts.push(this.arena.at, this.arena.at);
    return buf;
  }

  /** This message's bytes now end at `at`. */
  private close(at: number): void {
    this.size += at - this.arena.at;
    this.arena.at = this.end = at;
    this.parts[this.parts.length - 1] = at;
  }

  private part(p: Uint8Array | Message): void {
    this.parts.push(p);
    this.size += p instanceof Message ? p.size : p.length;
    this.end = -1;
  }
}

/** Byte strings up to this long are copied in with the fields around them; longer ones (raw weights) are written once, from where they are. */
const INLINE = 64;
const ASCII = /^[\x00-\x7f]*$/;
const FLOAT = new DataView(new ArrayBuffer(4));
const FLOAT_BYTES = new Uint8Array(FLOAT.buffer);

type Long = { toNumber(): number };
const utf8 = new TextEncoder();

function toNumber(v: number | Long): number {
  return typeof v === 'number' ? v : v.toNumber();
}

function each<T>(xs: readonly T[] | null | undefined, f: (x: T) => void): void {
  for (const x of xs ?? []) f(x);
}

/** Refuses a set field this writer does not write: dropping it silently would change the model. */
function only(what: string, o: object, fields: readonly string[]): void {
  for (const [k, v] of Object.entries(o)) if (v !== undefined && v !== null && !fields.includes(k)) throw new GraphError(`onnx: ${what}.${k} is not written by onnx-wire.ts`);
}

function tensor(a: Arena, t: onnxProto.onnx.ITensorProto): Message {
  only('TensorProto', t, ['dims', 'dataType', 'name', 'rawData', 'externalData', 'dataLocation']);
  const m = new Message(a);
  m.packed(1, t.dims);
  m.int(2, t.dataType);
  m.string(8, t.name);
  m.bytes(9, t.rawData);
  each(t.externalData, (e) => {
    const kv = new Message(a);
    kv.string(1, e.key);
    kv.string(2, e.value);
    m.message(13, kv);
  });
  m.int(14, t.dataLocation);
  return m;
}

function attribute(arena: Arena, a: onnxProto.onnx.IAttributeProto): Message {
  only('AttributeProto', a, ['name', 'f', 'i', 's', 'g', 'ints', 'type']);
  const m = new Message(arena);
  m.string(1, a.name);
  m.float(2, a.f);
  m.int(3, a.i);
  m.bytes(4, a.s);
  if (a.g) m.message(6, graph(arena, a.g));
  m.packed(8, a.ints);
  m.int(20, a.type);
  return m;
}

function node(a: Arena, n: onnxProto.onnx.INodeProto): Message {
  only('NodeProto', n, ['input', 'output', 'name', 'opType', 'attribute', 'domain']);
  const m = new Message(a);
  each(n.input, (s) => m.string(1, s));
  each(n.output, (s) => m.string(2, s));
  m.string(3, n.name);
  m.string(4, n.opType);
  each(n.attribute, (x) => m.message(5, attribute(a, x)));
  m.string(7, n.domain);
  return m;
}

function valueInfo(a: Arena, v: onnxProto.onnx.IValueInfoProto): Message {
  const shape = new Message(a);
  each(v.type?.tensorType?.shape?.dim, (d) => {
    const dim = new Message(a);
    dim.int(1, d.dimValue);
    dim.string(2, d.dimParam);
    shape.message(1, dim);
  });
  const tensorType = new Message(a);
  tensorType.int(1, v.type?.tensorType?.elemType);
  tensorType.message(2, shape);
  const type = new Message(a);
  type.message(1, tensorType);
  const m = new Message(a);
  m.string(1, v.name);
  m.message(2, type);
  return m;
}

/** A graph: the model's, or a subgraph (a Loop's body). */
function graph(a: Arena, g: onnxProto.onnx.IGraphProto): Message {
  only('GraphProto', g, ['node', 'name', 'initializer', 'input', 'output']);
  const m = new Message(a);
  each(g.node, (n) => m.message(1, node(a, n)));
  m.string(2, g.name);
  each(g.initializer, (t) => m.message(5, tensor(a, t)));
  each(g.input, (v) => m.message(11, valueInfo(a, v)));
  each(g.output, (v) => m.message(12, valueInfo(a, v)));
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
  const a = new Arena();
  const m = new Message(a);
  m.int(1, model.irVersion);
  m.string(2, model.producerName);
  m.message(7, graph(a, g));
  each(model.opsetImport, (o) => {
    const op = new Message(a);
    op.string(1, o.domain);
    op.int(2, o.version);
    m.message(8, op);
  });
  const out = new Uint8Array(m.size);
  m.write(out, 0);
  return out;
}
