/**
 * The small models a browser tab trains: a char GPT and a char LSTM, sized to
 * learn a pasted paragraph in a few hundred steps on one or two wasm threads.
 */
import { Gpt, type GptConfig } from '../../../src/models/gpt.js';
import type { LanguageModel } from '../../../src/models/lm.js';
import { RnnLm, type RnnConfig } from '../../../src/models/rnn.js';
import type { SamplingMode } from '../../../src/dataset/batches.js';
import type { OptimizerConfig } from '../../../src/train/optimizers.js';
import type { ScheduleConfig } from '../../../src/train/schedule.js';
import { InkwellError } from '../../../src/utils/errors.js';

export type ModelShape = ({ type: 'gpt' } & Omit<GptConfig, 'vocabSize'>) | ({ type: 'rnn' } & Omit<RnnConfig, 'vocabSize'>);

export interface Recipe {
  readonly label: string;
  readonly model: ModelShape;
  readonly batchSize: number;
  readonly contextLength: number;
  readonly sampling: SamplingMode;
  readonly optimizer: OptimizerConfig;
  readonly schedule: ScheduleConfig;
  /** Global gradient-norm clip (0 = off). */
  readonly gradClip: number;
}

export const RECIPES = {
  'char-gpt': {
    label: 'char GPT (2 layers × 64, context 32)',
    model: { type: 'gpt', nPositions: 32, nEmbd: 64, nLayer: 2, nHead: 4, bias: true, dropout: 0, layerNormEps: 1e-5 },
    batchSize: 8,
    contextLength: 32,
    sampling: 'random',
    optimizer: { name: 'adamw', betas: [0.9, 0.99], weightDecay: 0.01 },
    schedule: { lr: 3e-3, warmupSteps: 10 },
    gradClip: 1,
  },
  'char-lstm': {
    label: 'char LSTM (1 layer × 128, context 32)',
    model: { type: 'rnn', cell: 'lstm', embeddingDim: 32, hiddenSize: 128, numLayers: 1, dropout: 0, tieWeights: false },
    batchSize: 8,
    contextLength: 32,
    sampling: 'sequential',
    optimizer: { name: 'adam' },
    schedule: { lr: 5e-3, warmupSteps: 10 },
    gradClip: 5,
  },
  // The preset `inkwell train --preset char-gpt` trains (nanoGPT's baby GPT): what bench/browser.ts times.
  'bench-gpt': {
    label: 'char GPT (4 layers × 128, context 64, batch 12)',
    model: { type: 'gpt', nPositions: 64, nEmbd: 128, nLayer: 4, nHead: 4, bias: true, dropout: 0, layerNormEps: 1e-5 },
    batchSize: 12,
    contextLength: 64,
    sampling: 'random',
    optimizer: { name: 'adamw', betas: [0.9, 0.99], weightDecay: 0.1 },
    schedule: { lr: 1e-3, warmupSteps: 100 },
    gradClip: 1,
  },
} as const satisfies Record<string, Recipe>;

export type RecipeName = keyof typeof RECIPES;

export function recipe(name: string): Recipe {
  const r = (RECIPES as Record<string, Recipe>)[name];
  if (!r) throw new InkwellError(`unknown recipe '${name}'`, `choose one of: ${Object.keys(RECIPES).join(', ')}`);
  return r;
}

/** A fresh model of a recipe's shape: the one place the web app tells a GPT from a recurrent model. */
export function createRecipeModel(shape: ModelShape, vocabSize: number): LanguageModel {
  if (shape.type === 'gpt') {
    const { type: _type, ...c } = shape;
    return new Gpt({ ...c, vocabSize });
  }
  const { type: _type, ...c } = shape;
  return new RnnLm({ ...c, vocabSize });
}
