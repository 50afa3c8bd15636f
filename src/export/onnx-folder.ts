/**
 * `--format onnx`: one plain decoder (`model.onnx`, weights embedded) for
 * onnxruntime-web / onnxruntime-node users, with `inference.json` describing
 * every input and output and the state to carry between calls, and a README
 * whose example runs as it is.
 */
import onnxProto from 'onnx-proto';
import type { ModelBundle } from '../io/model-dir.js';
import { modelFiles } from '../io/model-dir.js';
import { plainModel } from '../models/registry.js';
import { decoderOnnx } from './onnx-decoder.js';
import { onnxFolderReadme } from './onnx-readme.js';
import type { ExportFiles } from './out-dir.js';

const { onnx } = onnxProto;

export interface TensorInfo {
  name: string;
  type: 'int64' | 'float32';
  /** Sizes, or names of the dimensions that vary. */
  shape: Array<number | string>;
  description: string;
}

/** A tensor that goes back in: feed `output` of one call as `input` of the next; start from zeros of `initial_shape`. */
export interface CarriedState {
  input: string;
  output: string;
  initial_shape: Array<number | string>;
}

export interface InferenceJson {
  format: 'inkwell-onnx-decoder';
  version: 1;
  model_type: string;
  file: string;
  opset: number;
  /** Operator domains beyond the ONNX standard the file uses (com.microsoft: onnxruntime's contrib ops). */
  domains: string[];
  inputs: TensorInfo[];
  outputs: TensorInfo[];
  state: CarriedState[];
  /** Longest sequence (prompt + generated) the model takes; null when unbounded (RNNs). */
  context_length: number | null;
  vocab_size: number;
  bos_token_id: number | null;
  eos_token_id: number | null;
}

export function onnxFolderFiles(bundle: ModelBundle): ExportFiles {
  const bytes = decoderOnnx(plainModel(bundle.model, 'onnx'), bundle.weights);
  const info = describe(bytes, bundle, bundle.model.contextLength);
  const files: ExportFiles = new Map([...modelFiles(bundle)].filter(([name]) => name.endsWith('.json')));
  files.set('model.onnx', bytes);
  files.set('inference.json', JSON.stringify(info, null, 2) + '\n');
  files.set('README.md', onnxFolderReadme(info));
  return files;
}

const DESCRIPTIONS: ReadonlyArray<[RegExp, string]> = [
  [/^input_ids$/, 'token ids of the new tokens (the whole prompt first, then one token per call)'],
  [/^ids$/, 'token ids of the new tokens (the whole prompt first, then one token per call)'],
  [/^attention_mask$/, '1 for every real token so far, past and new; 0 for left padding'],
  [/^position_ids$/, 'position of each new token in its sequence (its count of earlier real tokens)'],
  [/^past_key_values\.\d+\.(key|value)$/, "this layer's cached keys/values of the tokens so far (zero-length at the start)"],
  [/^present\.\d+\.(key|value)$/, 'the cache after this call: feed back as the matching past_key_values'],
  [/^logits$/, 'next-token scores at every new position (the last one predicts the next token)'],
  [/^state\.[hc]$/, 'recurrent state per layer (zeros at the start of a sequence)'],
  [/^state\.[hc]\.out$/, 'state after the last new token: feed back as the matching state input'],
];

function describe(bytes: Uint8Array, bundle: ModelBundle, context: number | null): InferenceJson {
  const model = onnx.ModelProto.decode(bytes);
  const io = (v: onnxProto.onnx.IValueInfoProto): TensorInfo => {
    const t = v.type!.tensorType!;
    return {
      name: v.name!,
      type: t.elemType === onnx.TensorProto.DataType.INT64 ? 'int64' : 'float32',
      shape: t.shape!.dim!.map((d) => (d.dimParam ? d.dimParam : Number(d.dimValue))),
      description: DESCRIPTIONS.find(([re]) => re.test(v.name!))?.[1] ?? '',
    };
  };
  const inputs = model.graph!.input!.map(io);
  const outputs = model.graph!.output!.map(io);
  const outputNames = new Set(outputs.map((o) => o.name));
  const state: CarriedState[] = [];
  for (const i of inputs) {
    const output = i.name.startsWith('past_key_values.') ? i.name.replace('past_key_values.', 'present.') : `${i.name}.out`;
    if (outputNames.has(output)) state.push({ input: i.name, output, initial_shape: i.shape.map((d) => (d === 'batch_size' ? 1 : d === 'past_sequence_length' ? 0 : d)) });
  }
  const special = bundle.tokenizer.special;
  return {
    format: 'inkwell-onnx-decoder',
    version: 1,
    model_type: String(bundle.model.configJson().model_type),
    file: 'model.onnx',
    opset: Number(model.opsetImport!.find((o) => !o.domain)!.version),
    domains: model.opsetImport!.filter((o) => o.domain).map((o) => o.domain!),
    inputs,
    outputs,
    state,
    context_length: context,
    vocab_size: bundle.model.vocabSize,
    bos_token_id: special.bos ?? null,
    eos_token_id: special.eos ?? null,
  };
}
