/**
 * The models a server serves: each a saved model directory under a name, with
 * its own slot decoder, scheduler, generation defaults (generation_config.json,
 * as `inkwell generate` uses them) and chat template (tokenizer_config.json).
 * Request names map only to these; nothing else on disk is reachable.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Template } from '@huggingface/jinja';
import { loadModel } from '../io/model-dir.js';
import { createSlotDecoder, type SlotDecoder } from '../generate/slot-decoder.js';
import { generationDefaults } from '../generate/generation-config.js';
import type { GenerateOptions } from '../generate/generate.js';
import { resolveSampling } from '../generate/sampling.js';
import type { QuantizeMode } from '../graph/quantize.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import { InkwellError, errorMessage } from '../utils/errors.js';
import { Scheduler } from './scheduler.js';

export interface ModelSpec {
  /** The name clients ask for (`model` in a request). */
  name: string;
  dir: string;
}

export interface ChatTemplate {
  template: Template;
  /** Special-token strings the template may use. */
  bosToken: string;
  eosToken: string;
}

export interface ServedModel {
  name: string;
  dir: string;
  /** Unix seconds when the server loaded it (/v1/models `created`). */
  created: number;
  tokenizer: Tokenizer;
  decoder: SlotDecoder;
  scheduler: Scheduler;
  defaults: GenerateOptions;
  chat?: ChatTemplate;
}

export interface ModelLoadOptions {
  maxBatch: number;
  maxQueue: number;
  quantize?: QuantizeMode;
  threads?: number;
}

export async function loadServedModel(spec: ModelSpec, o: ModelLoadOptions): Promise<ServedModel> {
  const bundle = loadModel(spec.dir, { keepWeights: o.quantize !== undefined });
  const defaults = generationDefaults(spec.dir);
  try {
    resolveSampling(defaults);
  } catch (err) {
    throw new InkwellError(`${path.join(spec.dir, 'generation_config.json')}: ${errorMessage(err)}`);
  }
  const decoder = await createSlotDecoder(bundle, o.maxBatch, { quantize: o.quantize, threads: o.threads });
  return {
    name: spec.name,
    dir: spec.dir,
    created: Math.floor(Date.now() / 1000),
    tokenizer: bundle.tokenizer,
    decoder,
    scheduler: new Scheduler(decoder, bundle.tokenizer, o.maxQueue),
    defaults,
    chat: readChatTemplate(spec.dir, bundle.tokenizer),
  };
}

/** tokenizer_config.json's `chat_template` (a string, or Hugging Face's list of named templates: 'default' is used). */
function readChatTemplate(dir: string, tokenizer: Tokenizer): ChatTemplate | undefined {
  const file = path.join(dir, 'tokenizer_config.json');
  if (!fs.existsSync(file)) return undefined;
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new InkwellError(`cannot read ${file}: ${errorMessage(err)}`);
  }
  let source = json.chat_template;
  if (source === undefined || source === null) return undefined;
  if (Array.isArray(source)) source = (source as Array<{ name?: unknown; template?: unknown }>).find((t) => t.name === 'default')?.template;
  if (typeof source !== 'string') throw new InkwellError(`${file}: chat_template must be a string (or a list with a 'default' entry)`);
  let template: Template;
  try {
    template = new Template(source);
  } catch (err) {
    throw new InkwellError(`${file}: chat_template does not parse: ${errorMessage(err)}`);
  }
  const token = (role: 'bos' | 'eos'): string => {
    const id = tokenizer.special[role];
    return id === undefined ? '' : tokenizer.decode([id]);
  };
  return { template, bosToken: token('bos'), eosToken: token('eos') };
}

/** `NAME=DIR`, or a bare DIR named after its last path component. */
export function parseModelSpec(arg: string): ModelSpec {
  const at = arg.indexOf('=');
  const [name, dir] = at > 0 ? [arg.slice(0, at), arg.slice(at + 1)] : [path.basename(path.resolve(arg)), arg];
  if (dir === '') throw new InkwellError(`--model ${arg}: the directory is empty`, 'use --model NAME=DIR or --model DIR');
  return { name, dir };
}
