/**
 * The GGUF container (version 3), as llama.cpp and its tools read it:
 *   "GGUF" · version u32 · tensor count u64 · metadata count u64
 *   metadata: key (u64 length + UTF-8) · value type u32 · value
 *   tensor infos: name · n_dims u32 · ne[n_dims] u64 · ggml type u32 · offset u64
 *   padding to `general.alignment` (32), then the tensor data, each aligned.
 * Little-endian throughout. ne[0] is the fastest-varying dimension, so a
 * row-major [rows, cols] matrix has ne = [cols, rows].
 */
import { toHalf } from './float16.js';

export const GGUF_MAGIC = 0x46554747; // "GGUF" read as a little-endian u32
export const GGUF_VERSION = 3;
export const GGUF_ALIGNMENT = 32;

/** Metadata value types. */
export const GgufType = { UINT8: 0, INT8: 1, UINT16: 2, INT16: 3, UINT32: 4, INT32: 5, FLOAT32: 6, BOOL: 7, STRING: 8, ARRAY: 9, UINT64: 10, INT64: 11, FLOAT64: 12 } as const;
export type GgufTypeId = (typeof GgufType)[keyof typeof GgufType];

/** ggml tensor types, with their block size (elements) and bytes per block. */
export const GgmlType = { F32: 0, F16: 1, Q4_0: 2, Q4_1: 3, Q5_0: 6, Q5_1: 7, Q8_0: 8, BF16: 30 } as const;
export type GgmlTypeId = (typeof GgmlType)[keyof typeof GgmlType];
export const GGML_BLOCKS: Readonly<Record<number, { elements: number; bytes: number; name: string }>> = {
  0: { elements: 1, bytes: 4, name: 'F32' },
  1: { elements: 1, bytes: 2, name: 'F16' },
  2: { elements: 32, bytes: 18, name: 'Q4_0' },
  3: { elements: 32, bytes: 20, name: 'Q4_1' },
  6: { elements: 32, bytes: 22, name: 'Q5_0' },
  7: { elements: 32, bytes: 24, name: 'Q5_1' },
  8: { elements: 32, bytes: 34, name: 'Q8_0' },
  30: { elements: 1, bytes: 2, name: 'BF16' },
};

export type GgufScalar = { type: Exclude<GgufTypeId, 9>; value: number | bigint | string | boolean };
export type GgufArray = { type: 9; itemType: Exclude<GgufTypeId, 9>; values: ReadonlyArray<number | bigint | string | boolean> };
export type GgufValue = GgufScalar | GgufArray;

export interface GgufTensor {
  name: string;
  /** Dimensions, fastest-varying first. */
  ne: readonly number[];
  type: GgmlTypeId;
  data: Uint8Array;
}

/** Bytes a tensor of `ne` and `type` occupies. */
export function tensorBytes(ne: readonly number[], type: number): number {
  const b = GGML_BLOCKS[type];
  if (!b) throw new Error(`unknown ggml type ${type}`);
  const count = ne.reduce((a, d) => a * d, 1);
  return (count / b.elements) * b.bytes;
}

/** F16 bits of every value. */
export function encodeF16(a: Float32Array): Uint8Array {
  const out = new Uint16Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = toHalf(a[i]!);
  return new Uint8Array(out.buffer);
}

/** ggml's Q8_0: blocks of 32 values, each an f16 scale d = max|x|/127 and 32 int8 codes round(x/d). `a.length` must be a multiple of 32. */
export function encodeQ8_0(a: Float32Array): Uint8Array {
  const blocks = a.length / 32;
  const out = new Uint8Array(blocks * 34);
  const view = new DataView(out.buffer);
  for (let b = 0; b < blocks; b++) {
    let amax = 0;
    for (let j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(a[b * 32 + j]!));
    const d = amax / 127;
    const id = d ? 1 / d : 0;
    view.setUint16(b * 34, toHalf(d), true);
    for (let j = 0; j < 32; j++) view.setInt8(b * 34 + 2 + j, Math.round(a[b * 32 + j]! * id));
  }
  return out;
}

class ByteWriter {
  private chunks: Uint8Array[] = [];
  length = 0;
  bytes(b: Uint8Array): void {
    this.chunks.push(b);
    this.length += b.length;
  }
  private fixed(n: number, set: (v: DataView) => void): void {
    const b = new Uint8Array(n);
    set(new DataView(b.buffer));
    this.bytes(b);
  }
  u32 = (v: number) => this.fixed(4, (d) => d.setUint32(0, v, true));
  u64 = (v: number | bigint) => this.fixed(8, (d) => d.setBigUint64(0, BigInt(v), true));
  string(s: string): void {
    const b = new TextEncoder().encode(s);
    this.u64(b.length);
    this.bytes(b);
  }
  pad(alignment: number): void {
    const n = (alignment - (this.length % alignment)) % alignment;
    if (n) this.bytes(new Uint8Array(n));
  }
  scalar(type: number, v: number | bigint | string | boolean): void {
    switch (type) {
      case GgufType.UINT8: return this.fixed(1, (d) => d.setUint8(0, Number(v)));
      case GgufType.INT8: return this.fixed(1, (d) => d.setInt8(0, Number(v)));
      case GgufType.UINT16: return this.fixed(2, (d) => d.setUint16(0, Number(v), true));
      case GgufType.INT16: return this.fixed(2, (d) => d.setInt16(0, Number(v), true));
      case GgufType.UINT32: return this.u32(Number(v));
      case GgufType.INT32: return this.fixed(4, (d) => d.setInt32(0, Number(v), true));
      case GgufType.FLOAT32: return this.fixed(4, (d) => d.setFloat32(0, Number(v), true));
      case GgufType.BOOL: return this.fixed(1, (d) => d.setUint8(0, v ? 1 : 0));
      case GgufType.STRING: return this.string(String(v));
      case GgufType.UINT64: return this.u64(BigInt(v));
      case GgufType.INT64: return this.fixed(8, (d) => d.setBigInt64(0, BigInt(v), true));
      case GgufType.FLOAT64: return this.fixed(8, (d) => d.setFloat64(0, Number(v), true));
      default: throw new Error(`GGUF value type ${type} is not a scalar`);
    }
  }
  concat(): Uint8Array {
    const out = new Uint8Array(this.length);
    let o = 0;
    for (const c of this.chunks) {
      out.set(c, o);
      o += c.length;
    }
    return out;
  }
}

export function encodeGguf(metadata: ReadonlyMap<string, GgufValue>, tensors: readonly GgufTensor[]): Uint8Array {
  const w = new ByteWriter();
  w.u32(GGUF_MAGIC);
  w.u32(GGUF_VERSION);
  w.u64(tensors.length);
  w.u64(metadata.size);
  for (const [key, v] of metadata) {
    w.string(key);
    w.u32(v.type);
    if (v.type === GgufType.ARRAY) {
      w.u32(v.itemType);
      w.u64(v.values.length);
      for (const item of v.values) w.scalar(v.itemType, item);
    } else {
      w.scalar(v.type, v.value);
    }
  }
  let offset = 0;
  for (const t of tensors) {
    const expected = tensorBytes(t.ne, t.type);
    if (t.data.length !== expected) throw new Error(`GGUF tensor ${t.name}: ${t.data.length} bytes for ${expected}`);
    w.string(t.name);
    w.u32(t.ne.length);
    for (const d of t.ne) w.u64(d);
    w.u32(t.type);
    w.u64(offset);
    offset += t.data.length + ((GGUF_ALIGNMENT - (t.data.length % GGUF_ALIGNMENT)) % GGUF_ALIGNMENT);
  }
  w.pad(GGUF_ALIGNMENT);
  for (const t of tensors) {
    w.bytes(t.data);
    w.pad(GGUF_ALIGNMENT);
  }
  return w.concat();
}
