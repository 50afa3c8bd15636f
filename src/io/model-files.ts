/**
 * The files of a model directory as bytes and text (config.json,
 * model.safetensors, tokenizer.json, ...), without touching a disk: a browser
 * zips them or keeps them in IndexedDB; model-dir.ts writes and reads them as
 * a folder.
 */
import type { ExternalWeights } from '../graph/onnx.js';
import type { LanguageModel } from '../models/lm.js';
import { modelFromConfigJson } from '../models/registry.js';
import { validateWeights, type Weights } from '../nn/params.js';
import { fromTokenizerJson } from '../tokenizers/from-json.js';
import type { Tokenizer, TokenizerJson } from '../tokenizers/tokenizer.js';
import { InkwellError, errorMessage } from '../utils/errors.js';
import { checkGpt2Config, gpt2TensorNames, normalizeGpt2Weights } from './hf-gpt2.js';
import { decodeSafetensors, encodeSafetensors, type NamedTensor } from './safetensors-codec.js';

export interface ModelBundle {
  model: LanguageModel;
  weights: Weights;
  tokenizer: Tokenizer;
  /**
   * Where the weights lie, byte for byte, in a file on disk — set by loadModel
   * while `weights` has not been read (so cannot have been changed). Inference
   * sessions then let ONNX Runtime read them from the file itself (external
   * data), skipping the copy through JavaScript: a saved model's first token
   * comes sooner.
   */
  readonly weightsFile?: WeightsFile;
}

/** float32 tensors at byte ranges of one file: ONNX external data. */
export type WeightsFile = ExternalWeights;

export const MODEL_FILE = 'model.safetensors';

/** The files of a saved model, ready to be written (extra files, e.g. training state, can join the same transaction). */
export function modelFiles(b: ModelBundle, metadata: Record<string, string> = {}): Map<string, Uint8Array | string> {
  const json = (v: unknown) => JSON.stringify(v, null, 2) + '\n';
  const tensors = new Map<string, NamedTensor>();
  for (const [name, spec] of Object.entries(b.model.specs)) tensors.set(name, { shape: spec.shape, data: b.weights.get(name)! });
  const special = b.tokenizer.special;
  return new Map<string, Uint8Array | string>([
    ['config.json', json({ ...b.model.configJson(), bos_token_id: special.bos ?? null, eos_token_id: special.eos ?? null })],
    [MODEL_FILE, encodeSafetensors(tensors, { format: 'pt', ...metadata })],
    ['tokenizer.json', json(b.tokenizer.toJSON())],
    ['tokenizer_config.json', json(b.tokenizer.config())],
    ['generation_config.json', json({ bos_token_id: special.bos ?? null, eos_token_id: special.eos ?? null, do_sample: true, temperature: 0.8, top_k: 40, max_new_tokens: 200 })],
  ]);
}

/**
 * A model from its files in memory (`config.json`, `model.safetensors`,
 * `tokenizer.json`), validated as loadModel validates a directory; `source`
 * names them in errors (e.g. the zip's name).
 */
export function bundleFromFiles(files: ReadonlyMap<string, Uint8Array | string>, source: string): ModelBundle {
  const text = (name: string): string => {
    const f = files.get(name);
    if (f === undefined) throw new InkwellError(`${source}: ${name} is missing`, 'a model needs config.json, model.safetensors and tokenizer.json');
    return typeof f === 'string' ? f : new TextDecoder().decode(f);
  };
  const json = (name: string): unknown => {
    try {
      return JSON.parse(text(name));
    } catch (err) {
      if (err instanceof InkwellError) throw err;
      throw new InkwellError(`${source}/${name} is not valid JSON: ${errorMessage(err)}`);
    }
  };
  const config = json('config.json');
  const model = modelFromConfigJson(config, `${source}/config.json`);
  const weightsBytes = files.get(MODEL_FILE);
  if (!(weightsBytes instanceof Uint8Array)) throw new InkwellError(`${source}: ${MODEL_FILE} is missing`);
  const weightsSource = `${source}/${MODEL_FILE}`;
  const decoded = decodeSafetensors(weightsBytes, weightsSource).tensors;
  let weights: Weights = new Map([...decoded].map(([k, t]) => [k, t.data]));
  let shapes = new Map([...decoded].map(([k, t]) => [k, t.shape]));
  // Hugging Face GPT-2 folders keep their own names and layouts, normalised here (see hf-gpt2.ts).
  if ((config as Record<string, unknown>).model_type === 'gpt2') {
    checkGpt2Config(config as Record<string, unknown>, `${source}/config.json`);
    weights = normalizeGpt2Weights(weights, weightsSource);
    shapes = new Map([...gpt2TensorNames([...decoded.keys()])].map(([ours, theirs]) => [ours, decoded.get(theirs)!.shape]));
  }
  validateWeights(model.specs, weights, weightsSource, shapes);
  let tokenizer: Tokenizer;
  try {
    tokenizer = fromTokenizerJson(json('tokenizer.json') as Partial<TokenizerJson> | null);
  } catch (err) {
    if (err instanceof InkwellError) throw new InkwellError(`${source}/tokenizer.json: ${err.message}`, err.hint);
    throw err;
  }
  checkVocabularies(tokenizer.vocabSize, model.vocabSize, source);
  return { model, weights, tokenizer };
}

/**
 * The model's output vocabulary must be the tokenizer's: more tokenizer ids than
 * outputs cannot all be predicted, and an output id the tokenizer lacks cannot
 * be decoded — sampling one would fail mid-generation.
 */
export function checkVocabularies(tokenizerSize: number, modelSize: number, source: string): void {
  if (tokenizerSize === modelSize) return;
  throw new InkwellError(
    `${source}: the tokenizer has ${tokenizerSize} tokens but the model's vocabulary (vocab_size in config.json) has ${modelSize}`,
    tokenizerSize < modelSize ? 'the model can produce ids the tokenizer cannot decode: use the tokenizer it was trained with' : 'use the tokenizer the model was trained with',
  );
}
