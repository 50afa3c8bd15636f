/** The runtime: feeds are validated by name, dtype and size; NaN outputs fail clearly; graphs can be dumped. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Graph, F, GraphError } from '../../src/graph/index.js';
import { CompiledGraph, NonFiniteError, SessionCache } from '../../src/runtime/session.js';
import { InkwellError } from '../../src/utils/errors.js';

function tiny() {
  const g = new Graph();
  const x = g.input('x', 'float32', [2, 3]);
  const w = g.param('w', [3, 1]);
  return { g, y: F.log(F.matmul(x, w)) };
}

test('unknown, missing, mistyped and mis-sized feeds are reported by name', async () => {
  const { g, y } = tiny();
  const c = await CompiledGraph.compile(g, { y });
  const x = new Float32Array(6).fill(1);
  const w = new Float32Array(3).fill(1);
  await assert.rejects(c.run({ x, w, z: x }), (e: Error) => e instanceof InkwellError && /unknown feed 'z'/.test(e.message) && /x, w/.test((e as InkwellError).hint!));
  await assert.rejects(c.run({ x }), /missing feed 'w' \(float32\[3,1\]\)/);
  await assert.rejects(c.run({ x, w: new Int32Array(3) }), /feed 'w' must be a Float32Array \(float32\), got Int32Array/);
  await assert.rejects(c.run({ x, w: new Float32Array(4) }), /feed 'w' has 4 values; shape \[3,1\] needs 3/);
  const ok = await c.run({ x, w });
  assert.deepEqual([...ok.y!], [Math.log(3), Math.log(3)].map(Math.fround));
});

test('fetch returns only the outputs asked for, and names the outputs when one is unknown', async () => {
  const { g, y } = tiny();
  const c = await CompiledGraph.compile(g, { y, z: F.mul(y, 2) });
  const feeds = { x: new Float32Array(6).fill(1), w: new Float32Array(3).fill(1) };
  const out = await c.run(feeds, { fetch: ['z'] });
  assert.deepEqual(Object.keys(out), ['z']);
  assert.deepEqual([...out.z!], [2 * Math.log(3), 2 * Math.log(3)].map(Math.fround));
  await assert.rejects(c.run(feeds, { fetch: ['q'] }), (e: Error) => e instanceof InkwellError && /unknown output 'q'/.test(e.message) && /y, z/.test((e as InkwellError).hint!));
  await assert.rejects(c.run(feeds, { fetch: [] }), /fetch: no outputs asked for/);
  await assert.rejects(c.run(feeds, { fetch: ['z'], checkFinite: ['y'] }), /checkFinite: 'y' is not among the fetched outputs/);
});

test('a NaN output listed in checkFinite raises NonFiniteError naming it', async () => {
  const { g, y } = tiny();
  const c = await CompiledGraph.compile(g, { y });
  const feeds = { x: new Float32Array(6).fill(1), w: new Float32Array(3).fill(-1) }; // log of a negative
  await assert.rejects(c.run(feeds, { checkFinite: ['y'] }), (e: Error) => e instanceof NonFiniteError && /y is not finite/.test(e.message));
  const raw = await c.run(feeds);
  assert.ok(Number.isNaN(raw.y![0]));
});

test('bad shapes fail at build time naming the op and the shapes', () => {
  const g = new Graph();
  const a = g.input('a', 'float32', [2, 3]);
  assert.throws(() => F.matmul(a, g.input('b', 'float32', [4, 5])), (e: Error) => e instanceof GraphError && /matmul: inner dimensions differ: \[2,3\] @ \[4,5\]/.test(e.message));
  assert.throws(() => F.add(a, g.input('c', 'float32', [4])), /add: shapes \[2,3\] and \[4\] do not broadcast/);
  assert.throws(() => F.reshape(a, [5, -1]), /reshape: cannot reshape .* to \[5,-1\]/);
  assert.throws(() => F.softmax(a, 2), /softmax: axis 2 out of range for rank 2/);
  assert.throws(() => F.gather(a, g.input('f', 'float32', [2])), /gather: indices must be int64 or int32/);
  assert.throws(() => F.split(a, 1, [1, 1]), /split: sizes \[1,1\] do not partition axis 1/);
  assert.throws(() => g.input('a', 'float32', [1]), /duplicate tensor name 'a'/);
});

test('dropout draws its mask from the given RNG, reproducibly, and requires one', async () => {
  const g = new Graph();
  const x = g.input('x', 'float32', [1000]);
  const c = await CompiledGraph.compile(g, { y: F.dropout(x, 0.25) });
  const ones = new Float32Array(1000).fill(1);
  await assert.rejects(c.run({ x: ones }), /pass `random`/);
  const seeded = () => { let s = 1; return () => ((s = (s * 16807) % 2147483647) / 2147483647); };
  const a = (await c.run({ x: ones }, { random: seeded() })).y as Float32Array;
  const b = (await c.run({ x: ones }, { random: seeded() })).y as Float32Array;
  assert.deepEqual(a, b);
  const kept = a.filter((v) => v !== 0);
  assert.ok(kept.length > 650 && kept.length < 850, `kept ${kept.length} of 1000 at p=0.25`);
  assert.ok(kept.every((v) => Math.abs(v - 1 / 0.75) < 1e-6), 'kept values are scaled by 1/(1-p)');
});

test('a compiled graph can be dumped as a standalone .onnx file that ORT loads', async () => {
  const { g, y } = tiny();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inkwell-'));
  const file = path.join(dir, 'tiny.onnx');
  await CompiledGraph.compile(g, { y }, { dumpPath: file });
  const bytes = fs.readFileSync(file);
  fs.rmSync(dir, { recursive: true });
  assert.ok(bytes.length > 50);
  const ort = (await import('onnxruntime-node')).default;
  const s = await ort.InferenceSession.create(bytes);
  assert.deepEqual([...s.inputNames].sort(), ['w', 'x']);
  assert.deepEqual(s.outputNames, ['y']);
});

test('SessionCache compiles each key once', async () => {
  const cache = new SessionCache({ threads: 1 });
  let builds = 0;
  const build = () => { builds++; const { g, y } = tiny(); return { graph: g, outputs: { y } }; };
  const [a, b] = await Promise.all([cache.get('k', build), cache.get('k', build)]);
  assert.equal(a, b);
  assert.equal(builds, 1);
  await cache.clear();
});
