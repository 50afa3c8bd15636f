/**
 * safetensors read/write (the Hugging Face format): an 8-byte little-endian
 * header length, a JSON header mapping names to dtype, shape and byte offsets,
 * then the raw little-endian data. Every header field is validated against the
 * file before any tensor is trusted.
 */
import fs from 'node:fs';
import os from 'node:os';
import { InkwellError, errorMessage } from '../utils/errors.js';
import { writeFileAtomic } from '../utils/fs.js';

export interface NamedTensor {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

const MAX_HEADER = 100 * 1024 * 1024;

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
  let json = Buffer.from(JSON.stringify(header), 'utf8');
  // Pad the header with spaces so the data starts 8-byte aligned.
  const pad = (8 - (json.length % 8)) % 8;
  json = Buffer.concat([json, Buffer.alloc(pad, 0x20)]);
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const name of names) {
    const d = tensors.get(name)!.data;
    out.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), at);
    at += d.byteLength;
  }
  return out;
}

export function writeSafetensors(path: string, tensors: ReadonlyMap<string, NamedTensor>, metadata?: Record<string, string>): void {
  writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}

export interface SafetensorsFile {
  readonly tensors: Map<string, NamedTensor>;
  readonly metadata: Record<string, string>;
}

export function readSafetensors(path: string): SafetensorsFile {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(path);
  } catch (err) {
    throw new InkwellError(`cannot read ${path}: ${errorMessage(err)}`);
  }
  return decodeSafetensors(bytes, path);
}

/** Parses and validates a safetensors buffer; `source` names the file in errors. Supports F32, and F16/BF16 widened to float32. */
export function decodeSafetensors(bytes: Uint8Array, source: string): SafetensorsFile {
  const bad = (why: string) => new InkwellError(`${source} is not a valid safetensors file: ${why}`);
  if (bytes.length < 8) throw bad('shorter than its 8-byte header length');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  if (headerLen > MAX_HEADER || 8 + headerLen > bytes.length) throw bad(`header length ${headerLen} exceeds the file (${bytes.length} bytes)`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset + 8, headerLen).toString('utf8')) as Record<string, unknown>;
  } catch (err) {
    throw bad(`header is not JSON (${errorMessage(err)})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) throw bad('header is not a JSON object');
  const dataStart = 8 + headerLen;
  const dataLen = bytes.length - dataStart;
  const tensors = new Map<string, NamedTensor>();
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
    const width = { F32: 4, F16: 2, BF16: 2 }[info.dtype as string];
    if (!width) throw bad(`'${name}' has dtype ${String(info.dtype)}; inkwell reads F32, F16 and BF16`);
    if (end - begin !== count * width) throw bad(`'${name}' holds ${end - begin} bytes, but ${info.dtype}[${(shape as number[]).join(',')}] needs ${count * width}`);
    spans.push([begin, end, name]);
    tensors.set(name, { shape: shape as number[], data: toFloat32(bytes, dataStart + begin, count, info.dtype as string) });
  }
  spans.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < spans.length; i++) {
    if (spans[i]![0] < spans[i - 1]![1]) throw bad(`tensors '${spans[i - 1]![2]}' and '${spans[i]![2]}' overlap`);
  }
  return { tensors, metadata };
}

function toFloat32(bytes: Uint8Array, at: number, count: number, dtype: string): Float32Array {
  // The common case, F32 on a little-endian host, is one aligned copy of the bytes.
  if (dtype === 'F32' && os.endianness() === 'LE') {
    return new Float32Array(bytes.buffer.slice(bytes.byteOffset + at, bytes.byteOffset + at + 4 * count));
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
