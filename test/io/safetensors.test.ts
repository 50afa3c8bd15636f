/** safetensors: round trip, and every malformed file rejected with a message naming it. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decodeSafetensors, encodeSafetensors, readSafetensorsHeader } from '../../src/io/safetensors.js';
import { InkwellError } from '../../src/utils/errors.js';

const tensors = new Map([
  ['b.weight', { shape: [2, 3], data: Float32Array.from([1, -2, 3.5, 0, 1e-8, -7]) }],
  ['a.bias', { shape: [3], data: Float32Array.from([0.25, 0.5, 0.75]) }],
]);

test('round trip keeps names, shapes, values and metadata; data starts 8-byte aligned', () => {
  const bytes = encodeSafetensors(tensors, { format: 'pt', step: '7' });
  const headerLen = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  assert.equal((8 + headerLen) % 8, 0);
  const back = decodeSafetensors(bytes, 'x.safetensors');
  assert.deepEqual(back.metadata, { format: 'pt', step: '7' });
  for (const [name, t] of tensors) {
    assert.deepEqual(back.tensors.get(name)!.shape, t.shape);
    assert.deepEqual(back.tensors.get(name)!.data, t.data);
  }
});

test('F16 and BF16 tensors widen to float32', () => {
  const header = Buffer.from(JSON.stringify({ h: { dtype: 'F16', shape: [2], data_offsets: [0, 4] }, b: { dtype: 'BF16', shape: [1], data_offsets: [4, 6] } }));
  const data = Buffer.from([0x00, 0x3c, 0x00, 0xc0, 0x80, 0x3f]); // 1.0, -2.0 (half); 1.0 (bfloat16)
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(header.length));
  const out = decodeSafetensors(Buffer.concat([len, header, data]), 'half.safetensors');
  assert.deepEqual([...out.tensors.get('h')!.data], [1, -2]);
  assert.deepEqual([...out.tensors.get('b')!.data], [1]);
});

test('truncated, oversized, overlapping and mistyped files fail naming the file and the problem', () => {
  const good = encodeSafetensors(tensors);
  const rejects = (bytes: Uint8Array, why: RegExp) =>
    assert.throws(() => decodeSafetensors(bytes, 'm.safetensors'), (e: Error) => e instanceof InkwellError && /m\.safetensors is not a valid safetensors file/.test(e.message) && why.test(e.message));
  rejects(good.subarray(0, 5), /shorter than its 8-byte header length/);
  rejects(good.subarray(0, good.length - 4), /past the data .* truncated/);
  const huge = Uint8Array.from(good);
  new DataView(huge.buffer).setBigUint64(0, 1n << 40n, true);
  rejects(huge, /header length .* exceeds the file/);
  const make = (header: object, dataBytes: number) => {
    const h = Buffer.from(JSON.stringify(header));
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(h.length));
    return Buffer.concat([len, h, Buffer.alloc(dataBytes)]);
  };
  rejects(make({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, 12), /overlap/);
  rejects(make({ a: { dtype: 'I8', shape: [2], data_offsets: [0, 2] } }, 2), /dtype I8/);
  rejects(make({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, 8), /holds 8 bytes, but F32\[3\] needs 12/);
  rejects(make({ a: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, 4), /invalid shape/);
  const notJson = Uint8Array.from(good);
  notJson[8] = 0x7b + 1;
  rejects(notJson, /header is not JSON/);
});

test('the header alone gives each tensor\'s file offset and length, and a truncated file fails before any data is read', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inkwell-st-'));
  const file = path.join(dir, 'w.safetensors');
  const bytes = encodeSafetensors(tensors);
  fs.writeFileSync(file, bytes);
  const { entries } = readSafetensorsHeader(file);
  for (const [name, t] of tensors) {
    const e = entries.get(name)!;
    assert.equal(e.dtype, 'F32');
    assert.deepEqual(e.shape, t.shape);
    assert.deepEqual(new Float32Array(bytes.slice(e.offset, e.offset + e.length).buffer), t.data);
  }
  fs.writeFileSync(file, bytes.subarray(0, bytes.length - 4));
  assert.throws(() => readSafetensorsHeader(file), /w\.safetensors is not a valid safetensors file: .* truncated/);
  assert.throws(() => readSafetensorsHeader(path.join(dir, 'missing.safetensors')), /cannot read .*missing\.safetensors/);
  fs.rmSync(dir, { recursive: true });
});
