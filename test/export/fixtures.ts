/**
 * Small models for the export tests, made here (no ../shared): a GPT with a
 * byte-level BPE, trained for a few seconds so its greedy continuations follow
 * the text's grammar (varied tokens, won by clear margins: runtimes with other
 * kernels, like llama.cpp, must agree on every one), and an LSTM, a GRU and a
 * GPT with a char tokenizer, untrained.
 */
import path from 'node:path';
import { TextModel } from '../../src/api/text-model.js';
import { loadModel, saveModel, type ModelBundle } from '../../src/io/model-dir.js';
import { Gpt } from '../../src/models/gpt.js';
import { RnnLm, type RnnCell } from '../../src/models/rnn.js';
import { initWeights } from '../../src/nn/params.js';
import { trainByteLevelBpe } from '../../src/tokenizers/bpe-trainer.js';
import { trainWordLevel } from '../../src/tokenizers/word-level.js';
import { syntheticText } from '../helpers/corpus.js';
import { tempDir } from '../helpers/books.js';

/** Accents, emoji (with a skin-tone modifier), CRLF, tabs and runs of spaces. */
export const PROBE = 'Café naïve — déjà vu 😀👍🏽!\r\nthe cat\tsees  the moon.\n\tA dog, 42 birds.';

const TEXT = syntheticText(200, 5) + PROBE;

export interface Fixture {
  dir: string;
  bundle: ModelBundle;
}

/** A run directory as training leaves it (model files, metrics.jsonl, trainer_state.json). */
export async function bpeGpt(): Promise<Fixture> {
  const tokenizer = trainByteLevelBpe([TEXT], { vocabSize: 320, minFrequency: 2 });
  const m = TextModel.create({ tokenizer, model: { type: 'gpt', nPositions: 64, nEmbd: 64, nLayer: 2, nHead: 2, bias: true, dropout: 0, layerNormEps: 1e-5 }, seed: 7 });
  m.compile({ optimizer: 'adamw', learningRate: 1e-2, clipNorm: 1 });
  const ids = tokenizer.encode(TEXT);
  const dir = path.join(tempDir('inkwell-export-'), 'model');
  await m.fit(ids, { steps: 60, batchSize: 8, contextLength: 32, seed: 1, outDir: dir });
  return { dir, bundle: loadModel(dir) };
}

export function charRnn(cell: RnnCell): Fixture {
  const tokenizer = trainWordLevel([TEXT], 'char');
  const model = new RnnLm({ cell, vocabSize: tokenizer.vocabSize, embeddingDim: 16, hiddenSize: 32, numLayers: 2, dropout: 0, tieWeights: false });
  return save({ model, weights: initWeights(model.specs, 11), tokenizer });
}

/** A GPT with a char tokenizer (what GGUF's gpt2 vocabulary cannot carry). */
export function charGpt(): Fixture {
  const tokenizer = trainWordLevel([TEXT], 'char');
  const model = new Gpt({ vocabSize: tokenizer.vocabSize, nPositions: 32, nEmbd: 32, nLayer: 1, nHead: 2, bias: true, dropout: 0, layerNormEps: 1e-5 });
  return save({ model, weights: initWeights(model.specs, 13), tokenizer });
}

function save(bundle: ModelBundle): Fixture {
  const dir = path.join(tempDir('inkwell-export-'), 'model');
  saveModel(dir, bundle);
  return { dir, bundle };
}
