/** config.json → model: dispatches on `model_type`. */
import { InkwellError } from '../utils/errors.js';
import { Gpt } from './gpt.js';
import type { LanguageModel } from './lm.js';
import { RnnLm } from './rnn.js';
import { LoraModel } from './lora.js';

type Loader = (json: Record<string, unknown>, source: string) => LanguageModel;

// A Map, not an object: a model_type such as '__proto__' or 'toString' must not find an inherited property.
const LOADERS = new Map<string, Loader>([
  ['gpt2', Gpt.fromConfigJson],
  ['lstm', RnnLm.fromConfigJson],
  ['gru', RnnLm.fromConfigJson],
]);

export function modelFromConfigJson(json: unknown, source: string): LanguageModel {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new InkwellError(`${source}: not a JSON object`);
  const fields = json as Record<string, unknown>;
  const type = fields.model_type;
  const load = typeof type === 'string' ? LOADERS.get(type) : undefined;
  if (!load) throw new InkwellError(`${source}: model_type ${JSON.stringify(type) ?? 'is missing and'} is not supported`, `supported: ${[...LOADERS.keys()].join(', ')}`);
  try {
    const model = load(fields, source);
    // A LoRA fine-tuning run saves the base config plus its adapter settings.
    const lora = fields.inkwell_lora;
    return lora === undefined ? model : LoraModel.fromConfigJson(model, lora, source);
  } catch (err) {
    // The models' own checks (e.g. tied weights need equal widths) do not know the file: name it.
    if (err instanceof InkwellError && !err.message.startsWith(source)) throw new InkwellError(`${source}: ${err.message}`, err.hint);
    throw err;
  }
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
