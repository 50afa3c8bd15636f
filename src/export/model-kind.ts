/**
 * The one place export asks which kind of model it holds: formats differ in
 * what they can carry (a KV-cache decoder, a recurrent step), and this is the
 * switch to re-point when models describe their own capabilities.
 */
import { Gpt } from '../models/gpt.js';
import type { LanguageModel } from '../models/lm.js';
import { RnnLm } from '../models/rnn.js';
import { InkwellError } from '../utils/errors.js';

export type ExportableModel = { kind: 'gpt'; gpt: Gpt } | { kind: 'rnn'; rnn: RnnLm };

export function exportableModel(model: LanguageModel): ExportableModel {
  if (model instanceof Gpt) return { kind: 'gpt', gpt: model };
  if (model instanceof RnnLm) return { kind: 'rnn', rnn: model };
  throw new InkwellError(`export: a '${model.kind}' model cannot be exported (inkwell exports GPT, LSTM and GRU language models)`);
}

/** The GPT of a bundle, or a clear error naming the format that needs one. */
export function requireGpt(model: LanguageModel, format: string): Gpt {
  const m = exportableModel(model);
  if (m.kind !== 'gpt') throw new InkwellError(`--format ${format} exports GPT models; this is a '${model.kind}' model`, 'use --format onnx for LSTM/GRU models');
  return m.gpt;
}
