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
