/** A classifier as a Hugging Face style model directory: config.json (id2label, …), model.safetensors (base + score head), tokenizer. */
import fs from 'node:fs';
import path from 'node:path';
import { MODEL_FILE } from '../io/model-dir.js';
import { encodeSafetensors, readSafetensors, type NamedTensor } from '../io/safetensors.js';
import { writeFilesAtomically } from '../io/transaction.js';
import { modelFromConfigJson } from '../models/registry.js';
import { validateWeights, type Weights } from '../nn/params.js';
import { loadTokenizer } from '../tokenizers/io.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import { InkwellError, errorMessage } from '../utils/errors.js';
import { SequenceClassifier } from '../models/classifier.js';

export interface ClassifierBundle {
  classifier: SequenceClassifier;
  weights: Weights;
  tokenizer: Tokenizer;
}

/** Writes the classifier with any LoRA adapters merged into the base weights; `extra` files join the same transaction. */
export function saveClassifier(dir: string, b: ClassifierBundle, extra: Record<string, string> = {}): void {
  const weights = b.classifier.exportWeights(b.weights);
  const tensors = new Map<string, NamedTensor>();
  for (const [name, spec] of Object.entries(b.classifier.exportSpecs())) tensors.set(name, { shape: spec.shape, data: weights.get(name)! });
  const json = (v: unknown) => JSON.stringify(v, null, 2) + '\n';
  writeFilesAtomically(dir, new Map<string, string | Uint8Array>([
    ['config.json', json(b.classifier.configJson())],
    [MODEL_FILE, encodeSafetensors(tensors, { format: 'pt' })],
    ['tokenizer.json', json(b.tokenizer.toJSON())],
    ['tokenizer_config.json', json(b.tokenizer.config())],
    ...Object.entries(extra),
  ]));
}

export function loadClassifier(dir: string): ClassifierBundle {
  const configPath = path.join(dir, 'config.json');
  if (!fs.existsSync(configPath)) throw new InkwellError(`--model ${dir}: no config.json there`, 'train a classifier with `inkwell classify train`');
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(fs.readFileSync(configPath, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new InkwellError(`cannot read ${configPath}: ${errorMessage(err)}`);
  }
  const classifier = SequenceClassifier.fromConfigJson(modelFromConfigJson(json, configPath), json, configPath);
  const weightsPath = path.join(dir, MODEL_FILE);
  const weights: Weights = new Map([...readSafetensors(weightsPath).tensors].map(([k, t]) => [k, t.data]));
  validateWeights(classifier.specs, weights, weightsPath);
  return { classifier, weights, tokenizer: loadTokenizer(dir) };
}
