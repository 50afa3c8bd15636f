// The float32 scans' WebAssembly kernel (src/utils/float-scan.wat): the committed bytes are the committed
// text's; allFinite finds a NaN or ±infinity anywhere (SIMD body, tail, piece boundaries, in place in the
// read buffer); sumOfSquares is JavaScript's four-sum float64 loop bit for bit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FLOAT_SCAN_WASM } from '../../src/utils/float-scan-kernel.js';
import { allFinite, READ_BYTES, readBuffer, sumOfSquares } from '../../src/utils/float-scan.js';
import { Rng } from '../../src/utils/rng.js';
import { compiledWat } from '../helpers/wasm.js';

/** float-scan.ts's piece: arrays longer than it cross a boundary. */
const PIECE = 1 << 16;
const LENGTHS = [0, 1, 3, 4, 7, 8, 9, 31, PIECE - 1, PIECE, PIECE + 13, 3 * PIECE + 5];

test('float-scan-kernel.ts holds the compilation of float-scan.wat (run scripts/build-wasm.mjs after editing it)', async () => {
  assert.equal(FLOAT_SCAN_WASM, await compiledWat('src/utils/float-scan.wat'));
});

function randomArray(n: number, rng: Rng): Float32Array {
  // Magnitudes from 1e-30 to 1e30, signs mixed: the squares' float64 roundings differ by order.
  return Float32Array.from({ length: n }, () => (rng.float() - 0.5) * 10 ** Math.floor(rng.float() * 60 - 30));
}

/** The loop sumOfSquares replaces: four running float64 sums, the tail into the first. */
function reference(a: Float32Array): number {
  let [s0, s1, s2, s3] = [0, 0, 0, 0];
  const n4 = a.length - (a.length % 4);
  for (let i = 0; i < n4; i += 4) {
    s0 += a[i]! * a[i]!;
    s1 += a[i + 1]! * a[i + 1]!;
    s2 += a[i + 2]! * a[i + 2]!;
    s3 += a[i + 3]! * a[i + 3]!;
  }
  for (let i = n4; i < a.length; i++) s0 += a[i]! * a[i]!;
  return s0 + s1 + s2 + s3;
}

test('allFinite: true for finite extremes, false for NaN or ±infinity at any position', () => {
  const rng = new Rng(1);
  assert.equal(allFinite(Float32Array.of(-0, 0, 1.4e-45, -1.4e-45, 3.4028234e38, -3.4028234e38, 1.17549435e-38)), true);
  for (const n of LENGTHS) {
    const a = randomArray(n, rng);
    assert.equal(allFinite(a), true, `length ${n}`);
    for (const at of new Set([0, 5, 7, 8, PIECE - 1, PIECE, PIECE + 4, n - 1].filter((i) => i >= 0 && i < n))) {
      for (const bad of [NaN, Infinity, -Infinity]) {
        const b = a.slice();
        b[at] = bad;
        assert.equal(allFinite(b), false, `${bad} at ${at} of ${n}`);
        // A view that starts past the bad value does not see it.
        if (at + 1 < n) assert.equal(allFinite(b.subarray(at + 1)), true, `view after ${at} of ${n}`);
      }
    }
  }
});

test('sumOfSquares equals the float64 four-sum loop bit for bit, across pieces and tails', () => {
  const rng = new Rng(2);
  for (const n of LENGTHS) {
    const a = randomArray(n, rng);
    assert.equal(sumOfSquares(a), reference(a), `length ${n}`);
    assert.equal(sumOfSquares(a.subarray(1)), reference(a.subarray(1)), `offset view of ${n}`);
  }
  assert.equal(sumOfSquares(Float32Array.of(3, 4)), 25);
  assert.ok(Number.isNaN(sumOfSquares(Float32Array.of(1, NaN, 2))));
  assert.equal(sumOfSquares(Float32Array.of(Infinity)), Infinity);
});

test('an array read into readBuffer is scanned where it lies, with the same results', () => {
  const rng = new Rng(3);
  const buf = readBuffer(READ_BYTES);
  assert.equal(buf.length, READ_BYTES);
  const a = randomArray(READ_BYTES / 4 - 5, rng);
  buf.set(new Uint8Array(a.buffer), 8);
  const view = new Float32Array(buf.buffer, buf.byteOffset + 8, a.length);
  assert.equal(sumOfSquares(view), reference(a));
  assert.equal(allFinite(view), true);
  view[a.length - 7] = NaN;
  assert.equal(allFinite(view), false);
  assert.equal(allFinite(view.subarray(a.length - 6)), true);
  // A read larger than the lent buffer gets an array of its own.
  const big = readBuffer(READ_BYTES + 4);
  assert.equal(big.length, READ_BYTES + 4);
  assert.notEqual(big.buffer, buf.buffer);
});
