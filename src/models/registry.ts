/** config.json → model: dispatches on `model_type`. */
import { InkwellError } from '../utils/errors.js';
import { Gpt } from './gpt.js';
import type { LanguageModel } from './lm.js';
import { RnnLm } from './rnn.js';
import { LoraModel } from './lora.js';

type Loader = (json: Record<string, unknown>, source: string) => LanguageModel;

const LOADERS: Record<string, Loader> = {
  gpt2: Gpt.fromConfigJson,
  lstm: RnnLm.fromConfigJson,
  gru: RnnLm.fromConfigJson,
};

export function modelFromConfigJson(json: unknown, source: string): LanguageModel {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new InkwellError(`${source}: not a JSON object`);
  const type = (json as Record<string, unknown>).model_type;
  const load = LOADERS[String(type)];
  if (!load) throw new InkwellError(`${source}: model_type '${String(type)}' is not supported`, `supported: ${Object.keys(LOADERS).join(', ')}`);
  const model = load(json as Record<string, unknown>, source);
  // A LoRA fine-tuning run saves the base config plus its adapter settings.
  const lora = (json as Record<string, unknown>).inkwell_lora;
  return lora === undefined ? model : LoraModel.fromConfigJson(model, lora, source);
}

/**
 * The model as its config.json's model_type alone describes it — no LoRA
 * adapters, no task head — which is all an export format can carry. Wrappers
 * are refused with the way out (merge the adapters first).
 */
export function plainModel(model: LanguageModel, format: string): LanguageModel {
  if (model instanceof Gpt || model instanceof RnnLm) return model;
  throw new InkwellError(`--format ${format}: this '${model.kind}' model carries adapters or a task head, which the format cannot hold`, 'merge the LoRA adapters first (inkwell finetune --lora --merge writes OUT/merged), or export the base model');
}

/** A plain GPT-2 (the one architecture transformers.js's GPT2LMHeadModel and GGUF's gpt2 carry), or a clear error naming the format. */
export function plainGpt(model: LanguageModel, format: string): Gpt {
  const plain = plainModel(model, format);
  if (!(plain instanceof Gpt)) throw new InkwellError(`--format ${format} exports GPT models; this is a '${model.kind}' model`, 'use --format onnx for LSTM/GRU models');
  return plain;
}
