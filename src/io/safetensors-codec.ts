/**
 * safetensors encoding and decoding (the Hugging Face format): an 8-byte little-endian
 * header length, a JSON header mapping names to dtype, shape and byte offsets,
 * then the raw little-endian data. Every header field is validated against the
 * file before any tensor is trusted.
 * Bytes only, no files: this part also runs in a browser (files: safetensors.ts).
 */
import { InkwellError, errorMessage } from '../utils/errors.js';
import { bytesOf } from '../utils/bytes.js';

export interface NamedTensor {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

export const MAX_HEADER = 100 * 1024 * 1024;

/** Serialises float32 tensors (sorted by name, as the Python library does) with optional string metadata. */
export function encodeSafetensors(tensors: ReadonlyMap<string, NamedTensor>, metadata: Record<string, string> = {}): Uint8Array {
  const names = [...tensors.keys()].sort();
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  for (const name of names) {
    const t = tensors.get(name)!;
    if (t.data.length !== t.shape.reduce((a, b) => a * b, 1)) throw new Error(`safetensors: '${name}' data does not fit its shape`);
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  const text = new TextEncoder().encode(JSON.stringify(header));
  // Pad the header with spaces so the data starts 8-byte aligned.
  const json = new Uint8Array(text.length + ((8 - (text.length % 8)) % 8)).fill(0x20);
  json.set(text);
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const name of names) {
    const d = tensors.get(name)!.data;
    out.set(bytesOf(d), at);
    at += d.byteLength;
  }
  return out;
}

export interface SafetensorsFile {
  readonly tensors: Map<string, NamedTensor>;
  readonly metadata: Record<string, string>;
}

/** One tensor's entry in a validated header; `offset` counts from the start of the file. */
export interface TensorEntry {
  readonly dtype: 'F32' | 'F16' | 'BF16';
  readonly shape: readonly number[];
  /** Elements (the product of the shape). */
  readonly count: number;
  readonly offset: number;
  readonly length: number;
}

export interface SafetensorsHeader {
  readonly entries: Map<string, TensorEntry>;
  readonly metadata: Record<string, string>;
}

/** Whether this machine stores numbers little-endian, as safetensors does (then F32 data is used as it lies). */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const WIDTH = { F32: 4, F16: 2, BF16: 2 } as const;

/** Parses and validates a safetensors buffer; `source` names the file in errors. Supports F32, and F16/BF16 widened to float32. */
export function decodeSafetensors(bytes: Uint8Array, source: string): SafetensorsFile {
  const headerLen = bytes.length >= 8 ? Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true)) : 0;
  const json = bytes.subarray(8, 8 + Math.min(headerLen, MAX_HEADER));
  const { entries, metadata } = parseHeader(bytes.length, headerLen, json, source);
  const tensors = new Map<string, NamedTensor>();
  for (const [name, e] of entries) tensors.set(name, { shape: e.shape, data: toFloat32(bytes, e.offset, e.count, e.dtype) });
  return { tensors, metadata };
}

export function parseHeader(fileLen: number, headerLen: number, json: Uint8Array, source: string): SafetensorsHeader {
  const bad = (why: string) => new InkwellError(`${source} is not a valid safetensors file: ${why}`);
  if (fileLen < 8) throw bad('shorter than its 8-byte header length');
  if (headerLen > MAX_HEADER || 8 + headerLen > fileLen) throw bad(`header length ${headerLen} exceeds the file (${fileLen} bytes)`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(json)) as Record<string, unknown>;
  } catch (err) {
    throw bad(`header is not JSON (${errorMessage(err)})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) throw bad('header is not a JSON object');
  const dataStart = 8 + headerLen;
  const dataLen = fileLen - dataStart;
  const entries = new Map<string, TensorEntry>();
  const metadata = (header.__metadata__ ?? {}) as Record<string, string>;
  const spans: [number, number, string][] = [];
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const info = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const shape = info.shape;
    const offsets = info.data_offsets;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) throw bad(`'${name}' has an invalid shape`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isInteger(o) && o >= 0) || offsets[0] > offsets[1]) {
      throw bad(`'${name}' has invalid data_offsets`);
    }
    const [begin, end] = offsets as [number, number];
    if (end > dataLen) throw bad(`'${name}' ends at byte ${end}, past the data (${dataLen} bytes): the file is truncated`);
    const count = (shape as number[]).reduce((a, b) => a * b, 1);
    const dtype = info.dtype as TensorEntry['dtype'];
    const width = WIDTH[dtype];
    if (!width) throw bad(`'${name}' has dtype ${String(info.dtype)}; inkwell reads F32, F16 and BF16`);
    if (end - begin !== count * width) throw bad(`'${name}' holds ${end - begin} bytes, but ${info.dtype}[${(shape as number[]).join(',')}] needs ${count * width}`);
    spans.push([begin, end, name]);
    entries.set(name, { dtype, shape: shape as number[], count, offset: dataStart + begin, length: end - begin });
  }
  spans.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < spans.length; i++) {
    if (spans[i]![0] < spans[i - 1]![1]) throw bad(`tensors '${spans[i - 1]![2]}' and '${spans[i]![2]}' overlap`);
  }
  return { entries, metadata };
}

function toFloat32(bytes: Uint8Array, at: number, count: number, dtype: string): Float32Array {
  // The common case, F32 on a little-endian host: a view of the bytes when they are aligned and own their
  // buffer (never a view into Node's shared pool of small buffers), else one copy.
  if (dtype === 'F32' && LITTLE_ENDIAN) {
    const start = bytes.byteOffset + at;
    const own = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
    return own && start % 4 === 0 ? new Float32Array(bytes.buffer, start, count) : new Float32Array(bytes.buffer.slice(start, start + 4 * count));
  }
  const out = new Float32Array(count);
  const view = new DataView(bytes.buffer, bytes.byteOffset + at, count * (dtype === 'F32' ? 4 : 2));
  if (dtype === 'F32') for (let i = 0; i < count; i++) out[i] = view.getFloat32(4 * i, true);
  else if (dtype === 'BF16') {
    const f = new DataView(new ArrayBuffer(4));
    for (let i = 0; i < count; i++) {
      f.setUint32(0, view.getUint16(2 * i, true) << 16);
      out[i] = f.getFloat32(0);
    }
  } else for (let i = 0; i < count; i++) out[i] = halfToFloat(view.getUint16(2 * i, true));
  return out;
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}
