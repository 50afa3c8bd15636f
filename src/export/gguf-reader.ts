/**
 * Reads a GGUF file's header — metadata and tensor directory — and checks that
 * every tensor's data lies inside the file, so a truncated or corrupt download
 * is refused with the file's name instead of failing later inside llama.cpp.
 */
import fs from 'node:fs';
import { InkwellError, errorMessage } from '../utils/errors.js';
import { GGML_BLOCKS, GGUF_ALIGNMENT, GGUF_MAGIC, GgufType, tensorBytes } from './gguf-format.js';

export type GgufMetadataValue = number | bigint | string | boolean | GgufMetadataValue[];

export interface GgufTensorInfo {
  name: string;
  ne: number[];
  type: number;
  /** Byte offset of the data from the start of the file. */
  offset: number;
  bytes: number;
}

export interface GgufFile {
  version: number;
  metadata: Map<string, GgufMetadataValue>;
  tensors: GgufTensorInfo[];
  /** Where the tensor data section begins. */
  dataOffset: number;
}

/** Out-of-bounds reads raise this; the caller words it for the file. */
class Truncated extends Error {}

class Cursor {
  pos = 0;
  private readonly view: DataView;
  constructor(private readonly b: Uint8Array) {
    this.view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  }
  private need(n: number): number {
    if (this.pos + n > this.b.length) throw new Truncated(`needs ${n} bytes at offset ${this.pos}`);
    const at = this.pos;
    this.pos += n;
    return at;
  }
  u8 = () => this.view.getUint8(this.need(1));
  i8 = () => this.view.getInt8(this.need(1));
  u16 = () => this.view.getUint16(this.need(2), true);
  i16 = () => this.view.getInt16(this.need(2), true);
  u32 = () => this.view.getUint32(this.need(4), true);
  i32 = () => this.view.getInt32(this.need(4), true);
  f32 = () => this.view.getFloat32(this.need(4), true);
  f64 = () => this.view.getFloat64(this.need(8), true);
  i64 = () => this.view.getBigInt64(this.need(8), true);
  u64big = () => this.view.getBigUint64(this.need(8), true);
  /** A u64 used as a count or offset: must fit a JavaScript number. */
  u64(): number {
    const v = this.u64big();
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`value ${v} at offset ${this.pos - 8} is implausibly large`);
    return Number(v);
  }
  string(): string {
    const n = this.u64();
    const at = this.need(n);
    return new TextDecoder('utf-8', { fatal: true }).decode(this.b.subarray(at, at + n));
  }
}

function readValue(c: Cursor, type: number, depth = 0): GgufMetadataValue {
  switch (type) {
    case GgufType.UINT8: return c.u8();
    case GgufType.INT8: return c.i8();
    case GgufType.UINT16: return c.u16();
    case GgufType.INT16: return c.i16();
    case GgufType.UINT32: return c.u32();
    case GgufType.INT32: return c.i32();
    case GgufType.FLOAT32: return c.f32();
    case GgufType.BOOL: return c.u8() !== 0;
    case GgufType.STRING: return c.string();
    case GgufType.UINT64: return c.u64big();
    case GgufType.INT64: return c.i64();
    case GgufType.FLOAT64: return c.f64();
    case GgufType.ARRAY: {
      if (depth > 0) throw new Error('nested arrays are not supported');
      const itemType = c.u32();
      const n = c.u64();
      const out: GgufMetadataValue[] = [];
      for (let i = 0; i < n; i++) out.push(readValue(c, itemType, depth + 1));
      return out;
    }
    default:
      throw new Error(`unknown metadata value type ${type}`);
  }
}

/** Parses GGUF bytes; any malformation is an InkwellError naming `source` (truncated, or what is invalid). */
export function parseGguf(bytes: Uint8Array, source = 'the GGUF data'): GgufFile {
  try {
    return parse(bytes);
  } catch (err) {
    if (err instanceof Truncated) throw new InkwellError(`${source} is truncated (${err.message})`, 'the file is incomplete: export or download it again');
    throw new InkwellError(`${source} is not a valid GGUF file: ${errorMessage(err)}`);
  }
}

function parse(bytes: Uint8Array): GgufFile {
  const c = new Cursor(bytes);
  if (c.u32() !== GGUF_MAGIC) throw new Error('not a GGUF file (no "GGUF" magic)');
  const version = c.u32();
  if (version !== 2 && version !== 3) throw new Error(`GGUF version ${version} is not supported (2 or 3)`);
  const tensorCount = c.u64();
  const kvCount = c.u64();
  const metadata = new Map<string, GgufMetadataValue>();
  for (let i = 0; i < kvCount; i++) {
    const key = c.string();
    metadata.set(key, readValue(c, c.u32()));
  }
  const alignment = metadata.get('general.alignment') ?? GGUF_ALIGNMENT;
  if (typeof alignment !== 'number' || alignment <= 0) throw new Error(`general.alignment ${String(alignment)} is invalid`);
  const raw: Array<Omit<GgufTensorInfo, 'bytes' | 'offset'> & { rel: number }> = [];
  for (let i = 0; i < tensorCount; i++) {
    const name = c.string();
    const nDims = c.u32();
    if (nDims > 4) throw new Error(`tensor ${name} has ${nDims} dimensions (at most 4)`);
    const ne = Array.from({ length: nDims }, () => c.u64());
    const type = c.u32();
    if (!GGML_BLOCKS[type]) throw new Error(`tensor ${name} has unknown ggml type ${type}`);
    if (ne[0]! % GGML_BLOCKS[type]!.elements !== 0) throw new Error(`tensor ${name}: ne[0] = ${ne[0]} is not a multiple of its type's block of ${GGML_BLOCKS[type]!.elements}`);
    raw.push({ name, ne, type, rel: c.u64() });
  }
  const dataOffset = Math.ceil(c.pos / alignment) * alignment;
  const tensors = raw.map(({ rel, ...t }) => ({ ...t, offset: dataOffset + rel, bytes: tensorBytes(t.ne, t.type) }));
  for (const t of tensors) {
    if (t.offset + t.bytes > bytes.length) throw new Truncated(`tensor ${t.name} needs bytes up to ${t.offset + t.bytes} but the file has ${bytes.length}`);
  }
  return { version, metadata, tensors, dataOffset };
}

export function readGguf(file: string): GgufFile {
  let bytes: Uint8Array;
  try {
    bytes = fs.readFileSync(file);
  } catch (err) {
    throw new InkwellError(`cannot read ${file}: ${errorMessage(err)}`);
  }
  return parseGguf(bytes, file);
}
