/** ONNX Runtime's per-node profile: INKWELL_ORT_PROFILE makes sessions write it; profile.ts reads it into time by operator and matmul rates. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Graph, F } from '../../src/graph/index.js';
import { readProfile, summarizeProfile } from '../../src/runtime/profile.js';
import { CompiledGraph } from '../../src/runtime/session.js';
import { InkwellError } from '../../src/utils/errors.js';

test('a session compiled with INKWELL_ORT_PROFILE set writes a profile that summarises its runs, matmul FLOPs included', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inkwell-profile-test-'));
  process.env.INKWELL_ORT_PROFILE = path.join(dir, 'ort');
  try {
    const g = new Graph();
    const x = g.input('x', 'float32', [8, 16]);
    const w = g.param('w', [16, 32]);
    const c = await CompiledGraph.compile(g, { y: F.tanh(F.matmul(x, w)) }, { threads: 1 });
    for (let i = 0; i < 8; i++) await c.run({ x: new Float32Array(8 * 16).fill(0.5), w: new Float32Array(16 * 32).fill(0.25) });
    await c.release();
    const files = fs.readdirSync(dir);
    assert.equal(files.length, 1, `profile files: ${files.join(', ')}`);
    const p = summarizeProfile(readProfile(path.join(dir, files[0]!)));
    assert.equal(p.runs, 6, 'the first quarter of 8 runs is left out');
    assert.ok(p.kernelMs > 0 && p.kernelMs <= p.runMs, `kernels ${p.kernelMs} ms of a ${p.runMs} ms run`);
    assert.ok(Math.abs(p.betweenNodesMs - (p.runMs - p.kernelMs)) < 1e-9);
    assert.deepEqual(p.ops.map((o) => o.op).sort(), ['MatMul', 'Tanh']);
    assert.ok(Math.abs(p.ops.reduce((s, o) => s + o.share, 0) - 1) < 1e-9);
    // One [8,16]·[16,32] product a run: 2·8·32·16 FLOPs.
    assert.ok(Math.abs(p.matmulGflops * p.matmulMs * 1e6 - 2 * 8 * 32 * 16) < 1e-6, `${p.matmulGflops} GFLOP/s over ${p.matmulMs} ms`);
  } finally {
    delete process.env.INKWELL_ORT_PROFILE;
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('INKWELL_ORT_PROFILE outside an existing folder is refused in one line naming the variable', async () => {
  process.env.INKWELL_ORT_PROFILE = path.join(os.tmpdir(), 'no-such-folder-for-inkwell', 'ort');
  try {
    const g = new Graph();
    const x = g.input('x', 'float32', [2]);
    await assert.rejects(CompiledGraph.compile(g, { y: F.tanh(x) }), (e: unknown) => e instanceof InkwellError && /INKWELL_ORT_PROFILE=.*does not exist/.test(e.message));
  } finally {
    delete process.env.INKWELL_ORT_PROFILE;
  }
});

test("a product's K is found from its shapes whether or not A is transposed", () => {
  const shape = (...dims: number[][]) => dims.map((d) => ({ float: d }));
  const node = (op: string, ts: number, dur: number, ins: number[][], out: number[]) => ({
    cat: 'Node', name: `${op}_kernel_time`, ts, dur, args: { op_name: op, input_type_shape: shape(...ins), output_type_shape: shape(out) },
  });
  const events = [
    { cat: 'Session', name: 'model_run', ts: 0, dur: 10 },
    { cat: 'Session', name: 'model_run', ts: 100, dur: 50 },
    node('Gemm', 1, 7, [[9, 9], [9, 9]], [9, 9]), // the warm-up run: left out
    node('FusedMatMul', 101, 10, [[768, 512], [768, 128]], [512, 128]), // Aᵀ·B: K = 768
    node('Gemm', 111, 10, [[768, 128], [128, 512]], [768, 512]), // K = 128
    node('MatMul', 121, 10, [[12, 64, 32], [12, 32, 64]], [12, 64, 64]), // batched: K = 32
    node('MatMulNBits', 131, 10, [[1, 1, 384], [1152, 6, 32]], [1, 1, 1152]), // K = 384 (B is packed)
    node('Softmax', 141, 5, [[4, 4]], [4, 4]),
  ];
  const p = summarizeProfile(events, 0.5);
  const flops = 2 * (512 * 128 * 768 + 768 * 512 * 128 + 12 * 64 * 64 * 32 + 1152 * 384);
  assert.equal(p.runs, 1);
  assert.equal(p.matmulMs, 0.04);
  assert.ok(Math.abs(p.matmulGflops - flops / 40e3) < 1e-9, `${p.matmulGflops}`);
  assert.equal(p.kernelMs, 0.045);
  assert.equal(p.betweenNodesMs, 0.005);
  assert.deepEqual(p.ops.map((o) => [o.op, o.nodes]), [['FusedMatMul', 1], ['Gemm', 1], ['MatMul', 1], ['MatMulNBits', 1], ['Softmax', 1]]);
});

test("a Loop's time is not counted on top of its body's nodes", () => {
  const node = (op: string, ts: number, dur: number) => ({ cat: 'Node', name: `${op}_kernel_time`, ts, dur, args: { op_name: op } });
  const events = [
    { cat: 'Session', name: 'model_run', ts: 0, dur: 40 },
    node('Loop', 1, 38),
    ...[0, 1].flatMap((step) => [node('LSTM', 2 + 18 * step, 12), node('ArgMax', 15 + 18 * step, 3)]),
  ];
  const p = summarizeProfile(events, 0);
  assert.equal(p.kernelMs, 0.03);
  assert.equal(p.betweenNodesMs, 0.01);
  assert.deepEqual(p.ops.map((o) => [o.op, o.nodes]), [['LSTM', 2], ['ArgMax', 2]]);
});

test('a file that is not a profile is refused in one line naming it', () => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'inkwell-profile-test-')), 'p.json');
  fs.writeFileSync(file, '{"traceEvents": []}');
  assert.throws(() => readProfile(file), (e: unknown) => e instanceof InkwellError && e.message.includes(file));
  assert.throws(() => summarizeProfile([]), /no runs/);
  fs.rmSync(path.dirname(file), { recursive: true });
});
