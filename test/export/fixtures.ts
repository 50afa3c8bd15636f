/**
 * Small models for the export tests, built here (no training, no ../shared): a
 * GPT with a byte-level BPE and an LSTM and GRU with a char tokenizer. The
 * GPT's token embedding is scaled up so its logits are decisive — greedy picks
 * then win by clear margins, and runtimes with other kernels (llama.cpp) must
 * agree on every one.
 */
import path from 'node:path';
import { saveModel, type ModelBundle } from '../../src/io/model-dir.js';
import { Gpt } from '../../src/models/gpt.js';
import { RnnLm, type RnnCell } from '../../src/models/rnn.js';
import { initWeights } from '../../src/nn/params.js';
import { trainByteLevelBpe } from '../../src/tokenizers/bpe-trainer.js';
import { trainWordLevel } from '../../src/tokenizers/word-level.js';
import { syntheticText } from '../helpers/corpus.js';
import { tempDir } from '../data/fixtures.js';

/** Accents, emoji (with a skin-tone modifier), CRLF, tabs and runs of spaces. */
export const PROBE = 'Café naïve — déjà vu 😀👍🏽!\r\nthe cat\tsees  the moon.\n\tA dog, 42 birds.';

const TEXT = syntheticText(200, 5) + PROBE;

export interface Fixture {
  dir: string;
  bundle: ModelBundle;
}

export function bpeGpt(o: { nEmbd?: number; nLayer?: number; nPositions?: number } = {}): Fixture {
  const tokenizer = trainByteLevelBpe([TEXT], { vocabSize: 320, minFrequency: 2 });
  const model = new Gpt({ vocabSize: tokenizer.vocabSize, nPositions: o.nPositions ?? 64, nEmbd: o.nEmbd ?? 64, nLayer: o.nLayer ?? 2, nHead: 2, bias: true, dropout: 0, layerNormEps: 1e-5 });
  const weights = initWeights(model.specs, 7);
  const wte = weights.get('transformer.wte.weight')!;
  for (let i = 0; i < wte.length; i++) wte[i]! *= 5;
  return save({ model, weights, tokenizer });
}

export function charRnn(cell: RnnCell): Fixture {
  const tokenizer = trainWordLevel([TEXT], 'char');
  const model = new RnnLm({ cell, vocabSize: tokenizer.vocabSize, embeddingDim: 16, hiddenSize: 32, numLayers: 2, dropout: 0, tieWeights: false });
  return save({ model, weights: initWeights(model.specs, 11), tokenizer });
}

function save(bundle: ModelBundle): Fixture {
  const dir = path.join(tempDir('inkwell-export-'), 'model');
  saveModel(dir, bundle);
  return { dir, bundle };
}
