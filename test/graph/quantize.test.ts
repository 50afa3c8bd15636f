/** Weight-only quantization: ORT's contrib kernels read our int8/int4 layouts as we decode them, and a quantized decoder stays close to float32. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import onnxProto from 'onnx-proto';
import { Graph, F } from '../../src/graph/index.js';
import { quantizeInt4, quantizeInt8, Q4_BLOCK, type QuantizeMode } from '../../src/graph/quantize.js';
import { toOnnx } from '../../src/graph/onnx.js';
import { quantizeLstms } from '../../src/graph/quantize-lstm.js';
import { CompiledGraph } from '../../src/runtime/session.js';
import { Gpt } from '../../src/models/gpt.js';
import { RnnLm } from '../../src/models/rnn.js';
import type { LanguageModel } from '../../src/models/lm.js';
import { initWeights } from '../../src/nn/params.js';
import { createDecoder } from '../../src/generate/decoders.js';
import { trainWordLevel } from '../../src/tokenizers/word-level.js';
import { Rng } from '../../src/utils/rng.js';
import { QUANTIZE_WASM } from '../../src/graph/quantize-kernel.js';
import { compiledWat } from '../helpers/wasm.js';

const DT = onnxProto.onnx.TensorProto.DataType;

/** The float matrix [K, N] a quantized tensor set stands for, decoded from the documented layouts. */
function dequantize(mode: QuantizeMode, K: number, N: number, w: Float32Array): Float32Array {
  const out = new Float32Array(K * N);
  if (mode === 'q8') {
    const [q, s] = quantizeInt8({ data: w, K, N });
    assert.equal(q!.dataType, DT.INT8);
    const codes = new Int8Array(q!.rawData!.buffer, q!.rawData!.byteOffset, K * N);
    const scales = new Float32Array(s!.rawData!.slice().buffer);
    for (let k = 0; k < K; k++) for (let n = 0; n < N; n++) out[k * N + n] = codes[k * N + n]! * scales[n]!;
  } else {
    const [q, s] = quantizeInt4({ data: w, K, N });
    const blocks = Math.ceil(K / Q4_BLOCK);
    assert.deepEqual(q!.dims, [N, blocks, Q4_BLOCK / 2]);
    const scales = new Float32Array(s!.rawData!.slice().buffer);
    for (let n = 0; n < N; n++) {
      for (let k = 0; k < K; k++) {
        const byte = q!.rawData![(n * blocks + Math.floor(k / Q4_BLOCK)) * (Q4_BLOCK / 2) + ((k % Q4_BLOCK) >> 1)]!;
        const code = k % 2 ? byte >> 4 : byte & 15;
        out[k * N + n] = (code - 8) * scales[n * blocks + Math.floor(k / Q4_BLOCK)]!;
      }
    }
  }
  return out;
}

function matmul(x: Float32Array, w: Float32Array, M: number, K: number, N: number): Float64Array {
  const y = new Float64Array(M * N);
  for (let m = 0; m < M; m++) for (let k = 0; k < K; k++) for (let n = 0; n < N; n++) y[m * N + n] += x[m * K + k]! * w[k * N + n]!;
  return y;
}

function relError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i]! - b[i]!) ** 2;
    den += b[i]! ** 2;
  }
  return Math.sqrt(num / den);
}

test('quantize-kernel.ts holds the compilation of quantize.wat (run scripts/build-wasm.mjs after editing it)', async () => {
  assert.equal(QUANTIZE_WASM, await compiledWat('src/graph/quantize.wat'));
});

/** quantizeInt4's definition as plain JavaScript, one weight at a time: float64 division, Math.floor(x + 0.5). */
function int4Reference(data: Float32Array, K: number, N: number): { codes: Uint8Array; scales: Float32Array } {
  const blocks = Math.ceil(K / Q4_BLOCK);
  const packed = new Uint8Array(N * blocks * (Q4_BLOCK / 2));
  const scales = new Float32Array(N * blocks);
  for (let n = 0; n < N; n++) {
    for (let blk = 0; blk < blocks; blk++) {
      let max = 0;
      for (let k = blk * Q4_BLOCK; k < Math.min(K, (blk + 1) * Q4_BLOCK); k++) max = Math.max(max, Math.abs(data[k * N + n]!));
      const scale = (scales[n * blocks + blk] = max > 0 ? max / 7 : 1);
      for (let j = 0; j < Q4_BLOCK; j++) {
        const k = blk * Q4_BLOCK + j;
        const code = k < K ? Math.min(15, Math.max(0, Math.floor(data[k * N + n]! / Math.fround(scale) + 0.5) + 8)) : 8;
        packed[(n * blocks + blk) * (Q4_BLOCK / 2) + (j >> 1)]! |= j % 2 ? code << 4 : code;
      }
    }
  }
  return { codes: packed, scales };
}

/** quantizeInt8's definition as plain JavaScript: float64 division, Math.floor(x + 0.5). */
function int8Reference(data: Float32Array, K: number, N: number): { codes: Int8Array; scales: Float32Array } {
  const scales = new Float32Array(N);
  for (let n = 0; n < N; n++) {
    let max = 0;
    for (let k = 0; k < K; k++) max = Math.max(max, Math.abs(data[k * N + n]!));
    scales[n] = max > 0 ? max / 63 : 1;
  }
  const codes = Int8Array.from({ length: K * N }, (_, i) => Math.floor(data[i]! / scales[i % N]! + 0.5));
  return { codes, scales };
}

/** Shapes for the kernels' bit-for-bit tests: partial blocks and runs, column tails, one-row and one-column matrices. */
const KERNEL_SHAPES = [[32, 4], [40, 7], [1, 1], [64, 65], [100, 384], [33, 130], [700, 384]] as const;

/** Random weights of mixed magnitudes, with an all-zero last column and (N > 2) a column of exact halves of its scale. */
function kernelInput(K: number, N: number, rng: Rng): Float32Array {
  const data = Float32Array.from({ length: K * N }, () => (rng.float() - 0.5) * 10 ** Math.floor(rng.float() * 6 - 4));
  for (let k = 0; k < K; k++) data[k * N + (N - 1)] = 0;
  if (N > 2) for (let k = 0; k < K; k++) data[k * N + 1] = ((k % 15) - 7) * 0.5 + (k % 2 ? 0.25 : 0);
  return data;
}

for (const mode of ['q8', 'q4'] as const) {
  test(`${mode}: the WebAssembly kernel writes the reference codes and scales bit for bit`, () => {
    const rng = new Rng(mode === 'q8' ? 22 : 21);
    for (const [K, N] of KERNEL_SHAPES) {
      const data = kernelInput(K, N, rng);
      const [q, s] = mode === 'q8' ? quantizeInt8({ data, K, N }) : quantizeInt4({ data, K, N });
      const want = mode === 'q8' ? int8Reference(data, K, N) : int4Reference(data, K, N);
      assert.deepEqual(new Uint8Array(q!.rawData!), new Uint8Array(want.codes.buffer), `codes of [${K},${N}]`);
      assert.deepEqual(new Float32Array(s!.rawData!.slice().buffer), want.scales, `scales of [${K},${N}]`);
    }
  });
}

for (const mode of ['q8', 'q4'] as const) {
  for (const transB of [false, true]) {
    test(`${mode}: ORT computes x · dequantize(W) for a baked ${transB ? 'transposed ' : ''}matrix, K not a multiple of the block`, async () => {
      const [M, K, N] = [3, 40, 7];
      const rng = new Rng(mode === 'q8' ? 1 : 2);
      const w = Float32Array.from({ length: K * N }, () => 2 * rng.float() - 1);
      const x = Float32Array.from({ length: M * K }, () => 2 * rng.float() - 1);
      const g = new Graph();
      const xin = g.input('x', 'float32', [M, K]);
      const win = g.param('w', transB ? [N, K] : [K, N]);
      const y = F.matmul(xin, win, { transB });
      const stored = transB ? Float32Array.from({ length: N * K }, (_, i) => w[(i % K) * N + Math.floor(i / K)]!) : w;
      const c = await CompiledGraph.compile(g, { y }, { bake: new Map([['w', stored]]), quantize: mode, threads: 1 });
      const got = (await c.run({ x })).y as Float32Array;
      await c.release();
      const deq = dequantize(mode, K, N, w);
      // Both kernels also quantize the activations to int8, so agreement is to about a percent, not to rounding.
      assert.ok(relError(got, matmul(x, deq, M, K, N)) < 0.02, `${mode} differs from x·dequantize(W) by ${relError(got, matmul(x, deq, M, K, N))}`);
      const bound = mode === 'q8' ? 0.02 : 0.15;
      assert.ok(relError(got, matmul(x, w, M, K, N)) < bound, `${mode} is ${relError(got, matmul(x, w, M, K, N))} away from float32`);
      assert.ok(relError(deq, w) < bound / 2, `the ${mode} codes themselves are ${relError(deq, w)} away`);
    });
  }
}

for (const mode of ['q8', 'q4'] as const) {
  test(`${mode}: a bias Add after the matmul becomes the quantized op's bias input, with the same result`, async () => {
    const [M, K, N] = [2, 40, 7];
    const rng = new Rng(5);
    const w = Float32Array.from({ length: K * N }, () => 2 * rng.float() - 1);
    const bias = Float32Array.from({ length: N }, () => 2 * rng.float() - 1);
    const x = Float32Array.from({ length: M * K }, () => 2 * rng.float() - 1);
    const g = new Graph();
    const y = F.add(F.matmul(g.input('x', 'float32', [M, K]), g.param('w', [K, N])), g.param('b', [N]));
    const bake = new Map([['w', w], ['b', bias]]);
    const model = onnxProto.onnx.ModelProto.decode(toOnnx(g, { y }, { initializers: bake, quantize: mode }).bytes);
    assert.deepEqual(model.graph!.node!.map((n) => n.opType), [mode === 'q8' ? 'DynamicQuantizeMatMul' : 'MatMulNBits']);
    assert.equal(model.graph!.node![0]!.input!.at(-1), 'b');
    const c = await CompiledGraph.compile(g, { y }, { bake, quantize: mode, threads: 1 });
    const got = (await c.run({ x })).y as Float32Array;
    await c.release();
    const want = matmul(x, dequantize(mode, K, N, w), M, K, N).map((v, i) => v + bias[i % N]!);
    assert.ok(relError(got, want) < 0.02, `${mode} with bias differs from x·dequantize(W) + b by ${relError(got, want)}`);
  });
}

test('q8 and q4: an LSTM with baked weights becomes DynamicQuantizeLSTM over int8 gate rows, computing the LSTM of the dequantized weights', async () => {
  const [T, B, I, H] = [5, 2, 12, 16];
  const rng = new Rng(11);
  const values = (n: number) => Float32Array.from({ length: n }, () => (rng.float() - 0.5) * 0.8);
  const weights = new Map([['wih', values(4 * H * I)], ['whh', values(4 * H * H)], ['bih', values(4 * H)], ['bhh', values(4 * H)]]);
  // What the int8 weights stand for: each gate row's values rounded to 63 steps of max|row| / 63.
  const dequantized = new Map([...weights].map(([k, w]) => {
    if (k.startsWith('b')) return [k, w];
    const K = k === 'wih' ? I : H;
    const out = new Float32Array(w.length);
    for (let r = 0; r < 4 * H; r++) {
      const row = w.subarray(r * K, (r + 1) * K);
      const scale = Math.max(...row.map(Math.abs)) / 63;
      row.forEach((v, j) => (out[r * K + j] = Math.round(v / scale) * scale));
    }
    return [k, out];
  }));
  const graph = new Graph();
  const p = (name: string, ...shape: number[]) => graph.param(name, shape);
  const outs = F.rnnSequence('lstm', graph.input('x', 'float32', [T, B, I]), p('wih', 4 * H, I), p('whh', 4 * H, H), p('bih', 4 * H), p('bhh', 4 * H), graph.input('h0', 'float32', [B, H]), graph.input('c0', 'float32', [B, H]));
  const outputs = { y: outs[0]!, h: outs[1]!, c: outs[2]! };
  const feeds = { x: values(T * B * I), h0: values(B * H), c0: values(B * H) };
  const run = async (bake: Map<string, Float32Array>, quantize?: QuantizeMode) => {
    const c = await CompiledGraph.compile(graph, outputs, { bake, quantize });
    const out = await c.run(feeds);
    await c.release();
    return out;
  };
  const want = await run(dequantized);
  const exact = await run(weights);
  for (const mode of ['q8', 'q4'] as const) {
    const ops = onnxProto.onnx.ModelProto.decode(toOnnx(graph, outputs, { initializers: weights, quantize: mode }).bytes).graph!.node!.map((n) => n.opType);
    assert.ok(ops.includes('DynamicQuantizeLSTM') && !ops.includes('LSTM'), `${mode}: ${ops.join(' ')}`);
    const got = await run(weights, mode);
    for (const k of ['y', 'h', 'c']) {
      const err = relError(got[k] as Float32Array, want[k] as Float32Array);
      // ORT also quantizes x and h to uint8 at run time: close to the dequantized weights' LSTM, not equal.
      assert.ok(err < 0.02, `${mode} ${k}: relative error ${err} against the dequantized weights`);
      assert.ok(relError(got[k] as Float32Array, exact[k] as Float32Array) > 0, `${mode} ${k}: no different from float32 at all`);
    }
  }
});

test('an LSTM weight assembled from pieces that split its rows is quantized from the values it assembles', () => {
  // W [1, 4, 3] = Unsqueeze(Concat of four [1, 3] rows), each row Unsqueeze(Concat(a[0:1], a[1:3])): blocks of 1 and 2 values, rows of 3.
  const K = 3;
  const a = Float32Array.of(0.5, -0.25, 1);
  const f32 = (name: string, dims: number[], v: Float32Array) => ({ name, dataType: DT.FLOAT, dims, rawData: new Uint8Array(v.buffer.slice(0)) });
  const i64 = (name: string, ...v: number[]) => ({ name, dataType: DT.INT64, dims: [v.length], rawData: new Uint8Array(BigInt64Array.from(v, BigInt).buffer) });
  const initializers = [f32('a', [K], a), f32('R', [1, 4, 1], Float32Array.of(1, 2, 3, 4)), i64('zero', 0), i64('one', 1), i64('three', 3)];
  const node = (opType: string, input: string[], output: string, axis?: number) => ({ opType, input, output: [output], attribute: axis === undefined ? [] : [{ name: 'axis', i: axis }] });
  const nodes = [
    node('Slice', ['a', 'zero', 'one', 'zero'], 'a0'),
    node('Slice', ['a', 'one', 'three', 'zero'], 'a1'),
    node('Concat', ['a0', 'a1'], 'row', 0),
    node('Unsqueeze', ['row', 'zero'], 'row2'),
    node('Concat', ['row2', 'row2', 'row2', 'row2'], 'g', 0),
    node('Unsqueeze', ['g', 'zero'], 'W'),
    { opType: 'LSTM', input: ['X', 'W', 'R'], output: ['Y'], attribute: [] },
  ];
  quantizeLstms(nodes, initializers);
  assert.equal(nodes.at(-1)!.opType, 'DynamicQuantizeLSTM');
  const q = initializers.find((t) => t.name === 'W.q8')!;
  const scale = new Float32Array(initializers.find((t) => t.name === 'W.q8.scale')!.rawData!.slice().buffer);
  assert.deepEqual(q.dims, [1, K, 4]);
  const codes = new Int8Array(q.rawData!.buffer, q.rawData!.byteOffset, K * 4);
  // [k, g] = a[k] for every gate row g, to the int8 step.
  for (let k = 0; k < K; k++) for (let g = 0; g < 4; g++) assert.ok(Math.abs(codes[k * 4 + g]! * scale[g]! - a[k]!) <= scale[g]! / 2, `[${k},${g}]`);
});

const tokenizer = trainWordLevel(['abcdefghijklmnopqrstuvwxyz'], 'char', { specialTokens: [] });
for (const model of [
  new Gpt({ vocabSize: 26, nPositions: 16, nEmbd: 64, nLayer: 2, nHead: 2, bias: true, dropout: 0, layerNormEps: 1e-5 }),
  new RnnLm({ cell: 'lstm', vocabSize: 26, embeddingDim: 32, hiddenSize: 64, numLayers: 2, dropout: 0, tieWeights: false }),
] as LanguageModel[]) {
  test(`${model.kind}: q8 and q4 decoders give logits close to float32's`, async () => {
    const weights = initWeights(model.specs, 4);
    const bundle = { model, weights, tokenizer };
    const ids = Int32Array.from([3, 1, 4, 1, 5, 9, 2, 6]);
    const ref = await createDecoder(bundle, 1, { threads: 1 });
    const want = await ref.feed(ids);
    await ref.release();
    for (const [mode, bound] of [['q8', 0.03], ['q4', 0.2]] as const) {
      const dec = await createDecoder(bundle, 1, { threads: 1, quantize: mode });
      const got = await dec.feed(ids);
      await dec.release();
      const err = relError(got, want);
      assert.ok(err > 0 && err < bound, `${model.kind} ${mode}: relative logit error ${err}`);
    }
  });
}
