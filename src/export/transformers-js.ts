/**
 * `--format transformers.js`: a folder that `pipeline('text-generation', dir)`
 * and `AutoModelForCausalLM.from_pretrained(dir)` load as a GPT-2 — config and
 * tokenizer files at the top, decoders under onnx/ with transformers.js's own
 * file name per dtype, so its `dtype` option picks the variant.
 */
import type { ModelBundle } from '../io/model-dir.js';
import { modelFiles } from '../io/model-dir.js';
import type { QuantizeMode } from '../graph/quantize.js';
import { decoderOnnx } from './onnx-decoder.js';
import { plainGpt } from '../models/registry.js';
import type { ExportFiles } from './out-dir.js';

export const TRANSFORMERS_JS_DTYPES = ['fp32', 'q8', 'q4'] as const;
export type TransformersJsDtype = (typeof TRANSFORMERS_JS_DTYPES)[number];

/** transformers.js's file name for each dtype (its `dtype` option → `onnx/<name>`). */
export const TRANSFORMERS_JS_FILES: Readonly<Record<TransformersJsDtype | 'fp16', string>> = {
  fp32: 'onnx/model.onnx',
  fp16: 'onnx/model_fp16.onnx',
  q8: 'onnx/model_quantized.onnx',
  q4: 'onnx/model_q4.onnx',
};

const QUANTIZE: Readonly<Record<TransformersJsDtype, QuantizeMode | undefined>> = { fp32: undefined, q8: 'q8', q4: 'q4' };

export function transformersJsFiles(bundle: ModelBundle, o: { dtypes: readonly TransformersJsDtype[]; fp16: boolean }): ExportFiles {
  const gpt = plainGpt(bundle.model, 'transformers.js');
  // The model's own config, tokenizer and generation files, without its weights (they live in the ONNX files).
  const files: ExportFiles = new Map([...modelFiles(bundle)].filter(([name]) => name.endsWith('.json')));
  const special = bundle.tokenizer.special;
  if (special.pad !== undefined) {
    const config = JSON.parse(files.get('config.json') as string) as Record<string, unknown>;
    files.set('config.json', JSON.stringify({ ...config, pad_token_id: special.pad }, null, 2) + '\n');
  }
  for (const dtype of o.dtypes) files.set(TRANSFORMERS_JS_FILES[dtype], decoderOnnx(gpt, bundle.weights, { quantize: QUANTIZE[dtype] }));
  if (o.fp16) files.set(TRANSFORMERS_JS_FILES.fp16, decoderOnnx(gpt, bundle.weights, { fp16: true }));
  return files;
}
