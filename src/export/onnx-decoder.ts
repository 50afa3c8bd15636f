/**
 * Self-contained decoder ONNX files for other runtimes: weights embedded as
 * initializers, I/O named and shaped as Hugging Face's own exports are, so
 * transformers.js, onnxruntime-web and onnxruntime-node users see what they
 * expect.
 */
import onnxProto from 'onnx-proto';
import { toOnnx } from '../graph/onnx.js';
import type { QuantizeMode } from '../graph/quantize.js';
import type { Tensor } from '../graph/tensor.js';
import { buildForwardGraph, type LanguageModel } from '../models/lm.js';
import type { Weights } from '../nn/params.js';
import { InkwellError } from '../utils/errors.js';
import { float32ToFloat16 } from './float16.js';

const { onnx } = onnxProto;
const DT = onnx.TensorProto.DataType;

/** Symbolic dimension names of Hugging Face's ONNX exports; transformers.js sizes its empty first cache from `batch_size` (any other symbol reads 0). */
const HF_DIMS: Readonly<Record<string, string>> = {
  batch: 'batch_size',
  seq: 'sequence_length',
  past: 'past_sequence_length',
  'past+seq': 'total_sequence_length',
};

export interface DecoderOnnxOptions {
  quantize?: QuantizeMode;
  /** Store the weights as float16 (computed in float32 after a Cast): half the file, same I/O. */
  fp16?: boolean;
}

/**
 * The model's decoder in the layout its decoding calls for:
 * - a KV cache (GPT): `input_ids`, `attention_mask`, `position_ids`,
 *   `past_key_values.{i}.key|value` [batch, n_head, past, head_dim] → `logits`,
 *   `present.{i}.key|value` (Hugging Face's layout; inkwell's own `new.*` outputs left out);
 * - recurrent (LSTM/GRU): `ids` [batch, seq], `state.h` (+ `state.c`) [layers,
 *   batch, hidden] → `logits`, `state.h.out` (+ `state.c.out`), over any batch and
 *   length (ORT's fused LSTM/GRU kernels take any), so one file serves every call.
 */
export function decoderOnnx(model: LanguageModel, weights: Weights, opts: DecoderOnnxOptions = {}): Uint8Array {
  checkEmbeddable(weights);
  const name = `inkwell-${String(model.configJson().model_type)}-decoder`;
  const decoding = model.decoding;
  if (decoding.type === 'kv-cache') {
    const { graph, outputs } = decoding.buildGraph();
    const kept: Record<string, Tensor> = {};
    for (const [n, t] of Object.entries(outputs)) if (n === 'logits' || n.startsWith('present.')) kept[n] = t;
    return finish(toOnnx(graph, kept, { initializers: weights, quantize: opts.quantize, name }).bytes, opts);
  }
  const { graph, outputs } = buildForwardGraph(model, 'batch', 'seq');
  return finish(toOnnx(graph, outputs, { initializers: weights, quantize: opts.quantize, name }).bytes, opts);
}

/** One ONNX file is one protobuf message, which cannot exceed 2 GiB: say so before building it. */
function checkEmbeddable(weights: Weights): void {
  let bytes = 0;
  for (const w of weights.values()) bytes += w.byteLength;
  if (bytes > 2 ** 31 - 2 ** 24) {
    throw new InkwellError(`the model's ${(bytes / 2 ** 30).toFixed(2)} GiB of float32 weights do not fit in one ONNX file (protobuf's 2 GiB limit)`, 'export it as gguf or hf instead');
  }
}

function finish(bytes: Uint8Array, opts: DecoderOnnxOptions): Uint8Array {
  const model = onnx.ModelProto.decode(bytes);
  const graph = model.graph!;
  for (const v of [...(graph.input ?? []), ...(graph.output ?? [])]) {
    for (const d of v.type?.tensorType?.shape?.dim ?? []) if (d.dimParam && HF_DIMS[d.dimParam]) d.dimParam = HF_DIMS[d.dimParam]!;
  }
  if (opts.fp16) weightsToFloat16(graph);
  return onnx.ModelProto.encode(model).finish();
}

/** Every float32 initializer of 1,024 values or more becomes float16, read through a Cast back to float32. */
function weightsToFloat16(graph: onnxProto.onnx.IGraphProto): void {
  const casts: onnxProto.onnx.INodeProto[] = [];
  for (const t of graph.initializer ?? []) {
    if (t.dataType !== DT.FLOAT || !t.rawData || t.rawData.byteLength < 4096) continue;
    const raw = t.rawData;
    const f32 = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
    const name = t.name!;
    t.name = `${name}.fp16`;
    t.dataType = DT.FLOAT16;
    t.rawData = new Uint8Array(float32ToFloat16(f32).buffer);
    casts.push({ opType: 'Cast', name: `Cast_${name}`, input: [t.name], output: [name], attribute: [{ name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: DT.FLOAT }] });
  }
  graph.node = [...casts, ...(graph.node ?? [])];
}
