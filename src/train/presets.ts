/**
 * Run specs: everything `inkwell train` needs besides the corpus — tokenizer,
 * model and training recipe — as one JSON-able object, plus the named presets:
 * plain objects, each a full recipe or a few overrides of another, with the
 * reason beside each choice that is not the default (run-spec.ts resolves them).
 */
import type { GptConfig } from '../models/gpt.js';
import type { RnnConfig } from '../models/rnn.js';
import { InkwellError } from '../utils/errors.js';
import type { TrainConfig } from './trainer.js';

export type TokenizerSpec =
  | { type: 'char'; vocabSize?: number }
  | { type: 'word'; vocabSize: number; minFrequency?: number; lowercase?: boolean }
  | { type: 'bpe'; vocabSize: number };

/** The model, without its vocabulary size (that comes from the tokenizer). */
export type ModelSpec = ({ type: 'gpt' } & Omit<GptConfig, 'vocabSize'>) | ({ type: 'rnn' } & Omit<RnnConfig, 'vocabSize'>);

export interface RunSpec {
  description?: string;
  tokenizer: TokenizerSpec;
  model: ModelSpec;
  /** Share of the corpus held out for validation (whole documents; one document is cut at 1 − f). */
  valFraction: number;
  train: TrainConfig;
}

const gptBaby: RunSpec = {
  description: "nanoGPT's shakespeare_char CPU recipe: a 4-layer, 128-wide character GPT",
  tokenizer: { type: 'char' },
  model: { type: 'gpt', nPositions: 64, nEmbd: 128, nLayer: 4, nHead: 4, bias: true, dropout: 0, layerNormEps: 1e-5 },
  valFraction: 0.1,
  train: {
    batchSize: 12,
    contextLength: 64,
    maxSteps: 2000,
    // β2 0.99 rather than 0.999: few tokens per step, so the second moment must follow the gradients faster (nanoGPT's choice here).
    optimizer: { name: 'adamw', betas: [0.9, 0.99], weightDecay: 0.1 },
    schedule: { lr: 1e-3, warmupSteps: 100, decay: 'cosine', decaySteps: 2000, minLr: 1e-4 },
    gradClip: 1,
    evalInterval: 250,
    // nanoGPT's eval_iters: enough batches that two estimates differ by less than the improvements they compare.
    evalBatches: 20,
    checkpointInterval: 250,
    logInterval: 10,
    seed: 1337,
  },
};

export const PRESETS: Record<string, RunSpec> = {
  'char-gpt': gptBaby,
  'char-lstm': {
    description: 'a char-rnn style 2-layer LSTM trained with truncated BPTT',
    tokenizer: { type: 'char' },
    model: { type: 'rnn', cell: 'lstm', embeddingDim: 128, hiddenSize: 256, numLayers: 2, dropout: 0.1, tieWeights: false },
    valFraction: 0.1,
    train: {
      ...gptBaby.train,
      // An LSTM step is cheap: more sequences per update, as char-rnn.
      batchSize: 32,
      maxSteps: 2000,
      // Truncated BPTT: each lane continues where it stopped, its state carried.
      sampling: 'sequential',
      optimizer: { name: 'adam' },
      schedule: { lr: 2e-3, warmupSteps: 50, decay: 'cosine', decaySteps: 2000, minLr: 2e-4 },
      // char-rnn's clip: recurrent gradients spike now and then.
      gradClip: 5,
    },
  },
  'tutorial-lstm': {
    description: "the tutorial's recipe: word tokens → Embedding → LSTM → Dense softmax, Adam, sparse categorical cross-entropy",
    tokenizer: { type: 'word', vocabSize: 8000, minFrequency: 2, lowercase: true },
    model: { type: 'rnn', cell: 'lstm', embeddingDim: 128, hiddenSize: 256, numLayers: 1, dropout: 0, tieWeights: false },
    valFraction: 0.1,
    train: {
      batchSize: 32,
      contextLength: 32,
      maxSteps: 1000,
      optimizer: { name: 'adam' },
      schedule: { lr: 2e-3 },
      gradClip: 5,
      sampling: 'sequential',
      evalInterval: 250,
      evalBatches: 20,
      patience: 4,
      checkpointInterval: 250,
      logInterval: 10,
      seed: 1337,
    },
  },
  'bpe-gpt': {
    description: 'a 4-layer, 256-wide GPT over an 8,000-token byte-level BPE trained on the corpus',
    tokenizer: { type: 'bpe', vocabSize: 8000 },
    // Dropout 0.1: a word-piece model of this size overfits a few million tokens without it.
    model: { type: 'gpt', nPositions: 128, nEmbd: 256, nLayer: 4, nHead: 8, bias: true, dropout: 0.1, layerNormEps: 1e-5 },
    valFraction: 0.1,
    train: {
      batchSize: 12,
      contextLength: 128,
      maxSteps: 2000,
      // GPT-2/nanoGPT's β2 for larger vocabularies.
      optimizer: { name: 'adamw', betas: [0.9, 0.95], weightDecay: 0.1 },
      schedule: { lr: 1e-3, warmupSteps: 100, decay: 'cosine', decaySteps: 2000, minLr: 1e-4 },
      gradClip: 1,
      evalInterval: 250,
      evalBatches: 20,
      // Stop once validation has not improved for 1,500 steps.
      patience: 6,
      checkpointInterval: 250,
      logInterval: 10,
      seed: 1337,
    },
  },
  'gutenberg-quality': {
    description: 'the best text inkwell makes in about an hour on two cores (issue 16): a 4-layer, 256-wide GPT over a 4,096-token BPE, 5,200 steps of 16 × 128 tokens, about 10.6M tokens or six passes over the 16 training books',
    // 4,096 BPE tokens: ~3.7 characters a token on these books, so 128 tokens see ~470 characters; the sweep found it beat
    // the character models at equal time, and a larger vocabulary spends a 4×256 model's parameters on a softmax.
    tokenizer: { type: 'bpe', vocabSize: 4096 },
    // 4×256: in the sweep's equal-time runs (README) 4×128 went flat after 3.6 passes and 6×384 saw under half a pass;
    // an hour gives 4×256 about six passes. Dropout 0.2 because six passes over 1.8M tokens overfit a 4M-parameter model
    // (nanoGPT's shakespeare_char takes 0.2 for the same reason).
    model: { type: 'gpt', nPositions: 128, nEmbd: 256, nLayer: 4, nHead: 4, bias: true, dropout: 0.2, layerNormEps: 1e-5 },
    valFraction: 0.05,
    train: {
      ...gptBaby.train,
      batchSize: 16,
      contextLength: 128,
      maxSteps: 5200,
      // The cosine reaches its floor at the last step: the sweep's runs stopped mid-decay and lost the end of the schedule.
      schedule: { lr: 1e-3, warmupSteps: 100, decay: 'cosine', decaySteps: 5200, minLr: 1e-4 },
      evalInterval: 400,
      checkpointInterval: 400,
    },
  },
  demo: {
    description: "the demo's recipe (npm run demo): a 4-layer, 128-wide GPT over a 4,096-token byte-level BPE, 1,500 steps of 16 × 64 tokens — about 1.5M tokens, a few minutes on two quiet cores; seed 1 makes Alice the validation book among the bundled ones",
    tokenizer: { type: 'bpe', vocabSize: 4096 },
    model: { type: 'gpt', nPositions: 64, nEmbd: 128, nLayer: 4, nHead: 4, bias: true, dropout: 0, layerNormEps: 1e-5 },
    valFraction: 0.05,
    train: {
      ...gptBaby.train,
      batchSize: 16,
      maxSteps: 1500,
      schedule: { lr: 2e-3, warmupSteps: 100, decay: 'cosine', decaySteps: 1500, minLr: 2e-4 },
      evalInterval: 500,
      checkpointInterval: 500,
      seed: 1,
    },
  },
  'transfer-gpt': {
    description: 'the transfer experiment (inkwell transfer): a 4-layer, 128-wide GPT over a 4,096-token BPE, ~1.3M parameters, ~20 minutes of pretraining on two cores',
    tokenizer: { type: 'bpe', vocabSize: 4096 },
    model: { type: 'gpt', nPositions: 64, nEmbd: 128, nLayer: 4, nHead: 4, bias: true, dropout: 0, layerNormEps: 1e-5 },
    valFraction: 0.05,
    train: {
      ...gptBaby.train,
      batchSize: 16,
      // About 20 minutes on two cores: long enough that pretraining shows, short enough to repeat.
      maxSteps: 1200,
      // A shorter run takes a higher peak rate.
      schedule: { lr: 2e-3, warmupSteps: 100, decay: 'cosine', decaySteps: 1200, minLr: 2e-4 },
    },
  },
};

export function preset(name: string): RunSpec {
  const p = PRESETS[name];
  if (!p) throw new InkwellError(`unknown preset '${name}'`, `choose one of: ${Object.keys(PRESETS).join(', ')}`);
  return structuredClone(p);
}
