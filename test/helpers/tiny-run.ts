/**
 * A run directory as `inkwell train --out` leaves it — model files plus the
 * token cache in data/ — with a tiny untrained GPT or LSTM, for generation
 * and evaluation tests (no training, no ../shared).
 */
import fs from 'node:fs';
import path from 'node:path';
import { readCorpus } from '../../src/corpus/corpus.js';
import { prepareTokenCache } from '../../src/dataset/token-cache.js';
import { saveModel, type ModelBundle } from '../../src/io/model-dir.js';
import { Gpt } from '../../src/models/gpt.js';
import { RnnLm } from '../../src/models/rnn.js';
import { initWeights } from '../../src/nn/params.js';
import { trainWordLevel } from '../../src/tokenizers/word-level.js';
import { tempDir } from './books.js';
import { syntheticText } from './corpus.js';

export function tinyRun(kind: 'gpt' | 'lstm', o: { nPositions?: number; specials?: string[] } = {}): { dir: string; bundle: ModelBundle } {
  const dir = tempDir();
  const corpus = path.join(dir, 'corpus');
  fs.mkdirSync(corpus);
  fs.writeFileSync(path.join(corpus, 'a.txt'), syntheticText(120, 1));
  fs.writeFileSync(path.join(corpus, 'b.txt'), syntheticText(40, 2));
  const docs = readCorpus(corpus);
  const tokenizer = trainWordLevel(docs.map((d) => d.text), 'char', { specialTokens: o.specials ?? [] });
  const model = kind === 'gpt'
    ? new Gpt({ vocabSize: tokenizer.vocabSize, nPositions: o.nPositions ?? 32, nEmbd: 16, nLayer: 1, nHead: 2, bias: true, dropout: 0, layerNormEps: 1e-5 })
    : new RnnLm({ cell: 'lstm', vocabSize: tokenizer.vocabSize, embeddingDim: 8, hiddenSize: 16, numLayers: 2, dropout: 0, tieWeights: false });
  const bundle: ModelBundle = { model, weights: initWeights(model.specs, 3), tokenizer };
  const run = path.join(dir, 'run');
  saveModel(run, bundle);
  saveModel(path.join(run, 'best'), bundle);
  prepareTokenCache(docs, tokenizer, path.join(run, 'data'), { valFraction: 0.25 });
  return { dir: run, bundle };
}
