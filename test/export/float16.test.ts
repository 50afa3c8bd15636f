import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromHalf, toHalf } from '../../src/export/float16.js';
import { encodeQ8_0 } from '../../src/export/gguf-format.js';

test('float16: exact bit patterns, ties to even, overflow, subnormals, NaN', () => {
  const cases: Array<[number, number]> = [
    [0, 0x0000], [-0, 0x8000], [1, 0x3c00], [-2, 0xc000], [0.5, 0x3800], [65504, 0x7bff], [65520, 0x7c00], [1e6, 0x7c00], [-Infinity, 0xfc00],
    [2 ** -24, 0x0001], [2 ** -25, 0x0000], [3 * 2 ** -25, 0x0002], [2 ** -14, 0x0400], [1 + 2 ** -11, 0x3c00], [1 + 3 * 2 ** -11, 0x3c02],
  ];
  for (const [v, bits] of cases) assert.equal(toHalf(v), bits, `${v}`);
  assert.ok(Number.isNaN(fromHalf(toHalf(NaN))));
  for (let i = 0; i < 2000; i++) {
    const v = (i - 1000) * 0.0137;
    assert.ok(Math.abs(fromHalf(toHalf(v)) - v) <= Math.abs(v) * 2 ** -11 + 2 ** -25, `${v}`);
  }
});

test('Q8_0: one f16 scale max|x|/127 and 32 rounded int8 codes per block', () => {
  const x = Float32Array.from({ length: 64 }, (_, i) => (i < 32 ? (i - 16) / 16 : i === 40 ? -3 : 0.5));
  const q = encodeQ8_0(x);
  assert.equal(q.length, 2 * 34);
  const view = new DataView(q.buffer);
  for (let b = 0; b < 2; b++) {
    const d = fromHalf(view.getUint16(b * 34, true));
    for (let j = 0; j < 32; j++) assert.ok(Math.abs(view.getInt8(b * 34 + 2 + j) * d - x[b * 32 + j]!) <= d / 2 + 1e-3, `block ${b} value ${j}`);
  }
  assert.equal(view.getInt8(34 + 2 + 8), -127, 'the largest magnitude maps to ±127');
});
