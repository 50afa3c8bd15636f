/**
 * Weight-only quantization of an emitted inference graph, as transformers.js
 * ships `q8`/`q4` models and onnxruntime-genai runs int4 LLMs on CPU.
 *
 * A batch-1 decoder streams every weight matrix from memory once per token, so
 * its speed is set by bytes, not FLOPs: int8 weights are 4× fewer bytes, int4
 * 8× (and small models then fit in the L3 cache). Each MatMul whose B is a
 * baked float matrix (directly, or through a 2-D Transpose such as the tied
 * lm_head's wteᵀ) is rewritten:
 * - `q8`: com.microsoft DynamicQuantizeMatMul — int8 B (7-bit range) with one
 *   symmetric scale per output column; ORT quantizes the activations per
 *   tensor at run time.
 * - `q4`: com.microsoft MatMulNBits — 4-bit B in blocks of 32 along K, one
 *   scale per block (zero point 8); accuracy_level 4 computes in int8.
 * LSTM nodes get int8 weights in both modes (see quantize-lstm.ts). Embedding
 * lookups (Gather) and everything else stay float32.
 */
import type onnxProto from 'onnx-proto';
import { ATTRIBUTE_TYPE as ATTR, DATA_TYPE as DT } from './onnx-wire.js';
import { GraphError } from './tensor.js';
import { MS_DOMAIN } from './registry.js';
import { bytesOf, fromBase64 } from '../utils/bytes.js';
import { quantizeLstms } from './quantize-lstm.js';
import { QUANTIZE_WASM } from './quantize-kernel.js';

type NodeProto = onnxProto.onnx.INodeProto;
type TensorProto = onnxProto.onnx.ITensorProto;

export type QuantizeMode = 'q8' | 'q4';
export const QUANTIZE_MODES: readonly QuantizeMode[] = ['q8', 'q4'];
export const Q4_BLOCK = 32;
const Q8_MAX = 63;
/** Bytes of float rows quantizeInt8 copies in at a time. */
const RUN_BYTES = 1 << 20;

/** A [K, N] float matrix, row-major, as MatMul's B. */
interface Matrix {
  data: Float32Array;
  K: number;
  N: number;
}

/** Rewrites `nodes` and `initializers` in place (`keep`: graph outputs, never dropped). */
export function quantizeMatMuls(nodes: NodeProto[], initializers: TensorProto[], mode: QuantizeMode, keep: ReadonlySet<string>): void {
  const inits = new Map(initializers.map((t) => [t.name!, t]));
  const producers = new Map(nodes.flatMap((n) => n.output!.map((o) => [o, n] as const)));
  const done = new Map<string, string[]>(); // source (name, transposed) → the quantized op's extra inputs
  const quantized: NodeProto[] = [];
  for (const node of nodes) {
    if (node.opType !== 'MatMul' || node.domain) continue;
    const b = matrixOf(node.input![1]!, inits, producers);
    if (!b) continue;
    let extra = done.get(b.key);
    if (!extra) {
      const q = mode === 'q8' ? quantizeInt8(b.m) : quantizeInt4(b.m);
      extra = q.map((t, i) => {
        const name = `${b.key}.${mode}.${i}`;
        const q = { ...t, name };
        initializers.push(q);
        inits.set(name, q);
        return name;
      });
      done.set(b.key, extra);
    }
    node.domain = MS_DOMAIN;
    node.input = [node.input![0]!, ...extra];
    if (mode === 'q8') {
      node.opType = 'DynamicQuantizeMatMul';
    } else {
      node.opType = 'MatMulNBits';
      node.attribute = [
        { name: 'K', type: ATTR.INT, i: b.m.K },
        { name: 'N', type: ATTR.INT, i: b.m.N },
        { name: 'bits', type: ATTR.INT, i: 4 },
        { name: 'block_size', type: ATTR.INT, i: Q4_BLOCK },
        { name: 'accuracy_level', type: ATTR.INT, i: 4 },
      ];
    }
    quantized.push(node);
  }
  for (const node of quantized) foldBias(node, nodes, inits, keep);
  quantizeLstms(nodes, initializers);
  dropUnused(nodes, initializers, keep);
}

/**
 * A bias Add after a quantized MatMul becomes the op's own bias input (both take one: the 5th input of
 * DynamicQuantizeMatMul, the 6th of MatMulNBits): at batch 1 each node costs more than its arithmetic,
 * and a GPT block has four such Adds (ORT fuses float MatMul+Add into Gemm itself, but not these).
 */
function foldBias(node: NodeProto, nodes: NodeProto[], inits: Map<string, TensorProto>, keep: ReadonlySet<string>): void {
  const out = node.output![0]!;
  if (keep.has(out)) return;
  const readers = nodes.filter((n) => n.input!.includes(out));
  const add = readers[0];
  if (readers.length !== 1 || add!.opType !== 'Add' || add!.domain || add!.input!.length !== 2) return;
  const bias = add!.input!.find((i) => i !== out);
  const b = bias === undefined ? undefined : inits.get(bias);
  const n = node.opType === 'MatMulNBits' ? node.attribute!.find((a) => a.name === 'N')!.i : undefined;
  if (!b || b.dataType !== DT.FLOAT || b.dims?.length !== 1 || (n !== undefined && Number(b.dims[0]) !== Number(n))) return;
  if (node.opType === 'DynamicQuantizeMatMul') {
    // B's column count: the bias must be one value per output column, not a broadcast scalar.
    const cols = inits.get(node.input![1]!)?.dims?.[1];
    if (Number(b.dims[0]) !== Number(cols)) return;
  }
  const slot = node.opType === 'MatMulNBits' ? 5 : 4;
  node.input = [...node.input!, ...Array<string>(slot - node.input!.length).fill(''), bias!];
  node.output = [...add!.output!];
  nodes.splice(nodes.indexOf(add!), 1);
}

/** B as a float matrix when it is a baked initializer or a plain 2-D transpose of one. */
function matrixOf(name: string, inits: Map<string, TensorProto>, producers: Map<string, NodeProto>): { key: string; m: Matrix } | undefined {
  const direct = floatMatrix(inits.get(name));
  if (direct) return { key: name, m: direct };
  const t = producers.get(name);
  if (t?.opType !== 'Transpose' || t.domain) return undefined;
  const perm = t.attribute?.find((a) => a.name === 'perm')?.ints?.map(Number);
  const src = floatMatrix(inits.get(t.input![0]!));
  if (!src || (perm && !(perm[0] === 1 && perm[1] === 0))) return undefined;
  return { key: `${t.input![0]}.T`, m: { data: transposeRows([src.data], src.K, src.N), K: src.N, N: src.K } };
}

function floatMatrix(t: TensorProto | undefined): Matrix | undefined {
  if (!t || t.dataType !== DT.FLOAT || t.dims?.length !== 2 || !t.rawData) return undefined;
  const data = floatsOf(t.rawData);
  const [K, N] = t.dims.map(Number) as [number, number];
  if (K * N !== data.length) throw new GraphError(`quantize: initializer '${t.name}' has ${data.length} values for [${K},${N}]`);
  return { data, K, N };
}

/**
 * int8 [K, N] and one scale per column N: w ≈ q · scale, |q| ≤ 63. Seven bits, not
 * eight ("reduce_range", as ORT's own quantizer does on x86): AVX2's u8·s8 kernel adds
 * pairs of products in int16, and 255·127·2 would saturate it. Computed by quantize.wat,
 * the rows copied into its memory a run at a time, twice: for the columns' largest
 * magnitudes, then for the codes.
 */
export function quantizeInt8({ data, K, N }: Matrix): TensorProto[] {
  const np = Math.ceil(N / 4) * 4;
  const run = Math.max(1, Math.min(K, Math.floor(RUN_BYTES / (np * 4))));
  const [inAt, sclAt, outAt, end] = offsets([run * np * 4, np * 4, run * np]);
  const { kernel, buffer } = quantizeKernel(end!);
  const rows = new Float32Array(buffer, inAt, run * np);
  const scl = new Float32Array(buffer, sclAt, np);
  const out = new Int8Array(buffer, outAt, run * np);
  // (Whatever the padding columns hold only reaches their own lanes, which are never copied out.)
  scl.fill(0);
  for (let k0 = 0; k0 < K; k0 += run) {
    copyRows(data, N, k0, Math.min(K, k0 + run), rows, np);
    kernel.absmax(inAt, Math.min(run, K - k0), np, sclAt);
  }
  const scale = Float32Array.from(scl.subarray(0, N), (m) => (m > 0 ? m / Q8_MAX : 1));
  scl.set(scale);
  const q = new Int8Array(K * N);
  for (let k0 = 0; k0 < K; k0 += run) {
    const k1 = Math.min(K, k0 + run);
    copyRows(data, N, k0, k1, rows, np);
    kernel.int8_rows(inAt, k1 - k0, np, sclAt, outAt);
    if (np === N) q.set(out.subarray(0, (k1 - k0) * N), k0 * N);
    else for (let k = k0; k < k1; k++) q.set(out.subarray((k - k0) * np, (k - k0) * np + N), k * N);
  }
  return [
    { dataType: DT.INT8, dims: [K, N], rawData: bytesOf(q) },
    { dataType: DT.FLOAT, dims: [N], rawData: bytesOf(scale) },
  ];
}

/**
 * MatMulNBits' layout: for each column n, blocks of 32 consecutive k, each
 * 16 bytes holding two 4-bit codes (the even k in the low nibble); code
 * c ∈ [0, 15] means (c − 8) · scale, scale = the block's largest |w| / 7. K is
 * padded with zeros to whole blocks. Computed by quantize.wat a block of rows at a
 * time, the rows copied into its memory at a stride of whole four-lane groups.
 */
export function quantizeInt4({ data, K, N }: Matrix): TensorProto[] {
  const blocks = Math.ceil(K / Q4_BLOCK);
  const blob = Q4_BLOCK / 2;
  const np = Math.ceil(N / 4) * 4;
  const [inAt, sclAt, workAt, scalesAt, packedAt, end] = offsets([Q4_BLOCK * np * 4, np * 4, 640, N * blocks * 4, N * blocks * blob]);
  const { kernel, buffer } = quantizeKernel(end!);
  const rows = new Float32Array(buffer, inAt, Q4_BLOCK * np);
  rows.fill(0);
  for (let blk = 0; blk < blocks; blk++) {
    const [k0, k1] = [blk * Q4_BLOCK, Math.min(K, (blk + 1) * Q4_BLOCK)];
    copyRows(data, N, k0, k1, rows, np);
    if (k1 - k0 < Q4_BLOCK) rows.fill(0, (k1 - k0) * np);
    kernel.int4_block(inAt, np, N, blocks, blk, sclAt, scalesAt, packedAt, workAt);
  }
  const packed = new Uint8Array(buffer.slice(packedAt, packedAt + N * blocks * blob));
  const scales = new Float32Array(buffer.slice(scalesAt, scalesAt + N * blocks * 4));
  return [
    { dataType: DT.UINT8, dims: [N, blocks, blob], rawData: packed },
    { dataType: DT.FLOAT, dims: [N * blocks], rawData: bytesOf(scales) },
  ];
}

/** Weight-shaping ops whose output nothing reads any more once the weights they shaped are quantized. */
const WEIGHT_OPS = new Set(['Transpose', 'Slice', 'Concat', 'Unsqueeze']);

/** Removes initializers, and the weight-shaping nodes, that nothing reads any more (the float copies of quantized weights). */
function dropUnused(nodes: NodeProto[], initializers: TensorProto[], keep: ReadonlySet<string>): void {
  for (let removed = true; removed; ) {
    const read = new Set([...keep, ...nodes.flatMap((n) => n.input!)]);
    const dead = nodes.filter((n) => WEIGHT_OPS.has(n.opType!) && !n.domain && !n.output!.some((o) => read.has(o)));
    for (const n of dead) nodes.splice(nodes.indexOf(n), 1);
    removed = dead.length > 0;
  }
  const stillRead = new Set([...keep, ...nodes.flatMap((n) => n.input!)]);
  for (let i = initializers.length - 1; i >= 0; i--) if (!stillRead.has(initializers[i]!.name!)) initializers.splice(i, 1);
}

/** An initializer's float32 bytes as values: a view where they are 4-aligned (the values are only read), a copy where not. */
export function floatsOf(raw: Uint8Array): Float32Array {
  return raw.byteOffset % 4 === 0 ? new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4) : new Float32Array(raw.slice().buffer);
}

/**
 * The [G, K] matrix that `blocks` hold, row-major, transposed to [K, G], in square tiles (a row-by-row loop
 * would write a whole column of strides for every row it reads). A block not made of whole rows is
 * joined to its neighbours first.
 */
export function transposeRows(blocks: Float32Array[], G: number, K: number): Float32Array {
  const rows = blocks.every((b) => b.length % K === 0) ? blocks : [joined(blocks)];
  const out = new Float32Array(G * K);
  const T = 32;
  let g0 = 0;
  for (const b of rows) {
    const n = b.length / K;
    for (let r0 = 0; r0 < n; r0 += T) {
      for (let c0 = 0; c0 < K; c0 += T) {
        const [r1, c1] = [Math.min(n, r0 + T), Math.min(K, c0 + T)];
        for (let r = r0; r < r1; r++) for (let c = c0; c < c1; c++) out[c * G + g0 + r] = b[r * K + c]!;
      }
    }
    g0 += n;
  }
  return out;
}

function joined(blocks: Float32Array[]): Float32Array {
  const out = new Float32Array(blocks.reduce((s, b) => s + b.length, 0));
  blocks.reduce((at, b) => (out.set(b, at), at + b.length), 0);
  return out;
}

/** Rows [k0, k1) of a [K, N] matrix into `rows` from its start, at a row stride of np ≥ N floats. */
function copyRows(data: Float32Array, N: number, k0: number, k1: number, rows: Float32Array, np: number): void {
  if (np === N) rows.set(data.subarray(k0 * N, k1 * N));
  else for (let k = k0; k < k1; k++) rows.set(data.subarray(k * N, (k + 1) * N), (k - k0) * np);
}

/** Where regions of these byte counts start, one after another at multiples of 16, and where the last ends. */
function offsets(sizes: readonly number[]): number[] {
  const starts = [0];
  for (const n of sizes) starts.push(starts.at(-1)! + Math.ceil(n / 16) * 16);
  return starts;
}

interface QuantizeKernel {
  absmax(inAt: number, rows: number, np: number, accAt: number): void;
  int8_rows(inAt: number, rows: number, np: number, sclAt: number, outAt: number): void;
  int4_block(inAt: number, np: number, n: number, blocks: number, blk: number, sclAt: number, scalesAt: number, packedAt: number, workAt: number): void;
}
let quantizer: { memory: WebAssembly.Memory; kernel: QuantizeKernel } | undefined;

/**
 * quantize.wat's functions over a memory of at least `bytes`: one for the process, grown when a larger matrix
 * needs it (its buffer then changes) and kept (a WebAssembly memory cannot shrink; ~31 MB after GPT-2's q4 lm_head).
 */
function quantizeKernel(bytes: number): { kernel: QuantizeKernel; buffer: ArrayBuffer } {
  if (!quantizer) {
    const memory = new WebAssembly.Memory({ initial: 1 });
    const instance = new WebAssembly.Instance(new WebAssembly.Module(fromBase64(QUANTIZE_WASM)), { env: { memory } });
    quantizer = { memory, kernel: instance.exports as unknown as QuantizeKernel };
  }
  const { memory, kernel } = quantizer;
  const short = bytes - memory.buffer.byteLength;
  if (short > 0) memory.grow(Math.ceil(short / 65536));
  return { kernel, buffer: memory.buffer };
}
