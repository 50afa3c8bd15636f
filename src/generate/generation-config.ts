/**
 * Defaults from a model directory's Hugging Face `generation_config.json`
 * (do_sample, temperature, top_k, top_p, repetition_penalty, max_new_tokens),
 * so a model saved with its preferred settings generates with them.
 */
import fs from 'node:fs';
import path from 'node:path';
import { InkwellError, errorMessage } from '../utils/errors.js';
import type { GenerateOptions } from './generate.js';

export function generationDefaults(modelDir: string): GenerateOptions {
  const file = path.join(modelDir, 'generation_config.json');
  if (!fs.existsSync(file)) return {};
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new InkwellError(`cannot read ${file}: ${errorMessage(err)}`);
  }
  const num = (key: string): number | undefined => (typeof json[key] === 'number' ? (json[key] as number) : undefined);
  const o: GenerateOptions = {};
  // Hugging Face decodes greedily unless do_sample is true.
  if (json.do_sample === false) o.greedy = true;
  const fields: Array<[string, keyof GenerateOptions]> = [
    ['temperature', 'temperature'],
    ['top_k', 'topK'],
    ['top_p', 'topP'],
    ['repetition_penalty', 'repetitionPenalty'],
    ['max_new_tokens', 'maxNewTokens'],
  ];
  for (const [key, name] of fields) {
    const v = num(key);
    if (v !== undefined) (o as Record<string, unknown>)[name] = v;
  }
  return o;
}
