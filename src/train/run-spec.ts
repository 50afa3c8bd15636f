/**
 * Run policy, in the library so the CLI and TextModel share it: how a run spec
 * is put together (preset, then a JSON file, then single overrides — later
 * sources win, as nanoGPT's configurator), how its tokenizer is trained (one
 * set of special-token defaults), and how its model is made.
 */
import fs from 'node:fs';
import { Gpt } from '../models/gpt.js';
import type { LanguageModel } from '../models/lm.js';
import { RnnLm } from '../models/rnn.js';
import { trainByteLevelBpe } from '../tokenizers/bpe-trainer.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import { trainWordLevel } from '../tokenizers/word-level.js';
import { InkwellError, errorMessage } from '../utils/errors.js';
import { PRESETS, preset, type ModelSpec, type RunSpec, type TokenizerSpec } from './presets.js';
import { checkRunSpec } from './spec-check.js';
import type { TrainConfig } from './trainer.js';

/** Single settings that override a spec (the `inkwell train` flags). */
export interface SpecOverrides {
  steps?: number;
  batchSize?: number;
  context?: number;
  lr?: number;
  seed?: number;
  threads?: number;
  evalInterval?: number;
}

/** Preset, then the `config` JSON file, then `overrides`: later sources override earlier ones. */
export function resolveSpec(o: { preset?: string; config?: string; overrides?: SpecOverrides }): RunSpec {
  if (!o.preset && !o.config) throw new InkwellError('give --preset or --config', `presets: ${Object.keys(PRESETS).join(', ')}`);
  let spec: RunSpec = o.preset ? preset(o.preset) : ({} as RunSpec);
  if (o.config) {
    let file: Partial<RunSpec>;
    try {
      file = JSON.parse(fs.readFileSync(o.config, 'utf8')) as Partial<RunSpec>;
    } catch (err) {
      throw new InkwellError(`cannot read --config ${o.config}: ${errorMessage(err)}`);
    }
    if (file === null || typeof file !== 'object' || Array.isArray(file)) throw new InkwellError(`--config ${o.config}: not a JSON object`, 'a run spec has tokenizer, model and train sections');
    spec = {
      ...spec,
      ...file,
      tokenizer: { ...spec.tokenizer, ...file.tokenizer } as RunSpec['tokenizer'],
      model: { ...spec.model, ...file.model } as RunSpec['model'],
      train: { ...spec.train, ...file.train },
    };
  }
  // Checked before the flags apply (those are checked by their parsers), so a bad file is named, not a flag.
  const source = o.config ? `--config ${o.config}` : `preset ${o.preset}`;
  for (const key of ['tokenizer', 'model', 'train'] as const) {
    if (!spec[key]) throw new InkwellError(`${source}: the run spec has no '${key}' section`, 'start from a --preset or write it in --config');
  }
  checkRunSpec(spec as unknown as Record<string, unknown>, source);
  spec.valFraction ??= 0.1;
  const t = spec.train;
  const f = o.overrides ?? {};
  if (f.steps) {
    // Stretch the schedule with the run, as a preset's decay is sized to its own length.
    if (t.schedule.decaySteps === t.maxSteps) t.schedule.decaySteps = f.steps;
    t.maxSteps = f.steps;
  }
  if (f.batchSize) t.batchSize = f.batchSize;
  if (f.context) {
    t.contextLength = f.context;
    // A GPT must see the windows it trains on.
    if (spec.model.type === 'gpt' && spec.model.nPositions < f.context) spec.model.nPositions = f.context;
  }
  if (f.lr !== undefined) {
    if (!(f.lr >= 0)) throw new InkwellError(`--lr must be a non-negative number`);
    // Keep the preset's ratio of final to peak rate.
    t.schedule.minLr = t.schedule.minLr === undefined ? undefined : (t.schedule.minLr / t.schedule.lr) * f.lr;
    t.schedule.lr = f.lr;
  }
  if (f.seed !== undefined) t.seed = f.seed;
  if (f.threads !== undefined) t.threads = f.threads;
  if (f.evalInterval !== undefined) t.evalInterval = f.evalInterval;
  if (t.checkpointInterval && t.checkpointInterval > t.maxSteps) t.checkpointInterval = t.maxSteps;
  return spec;
}

/** The shape of the fine-tuning recipes (finetune, classify): a fresh AdamW, linear warmup, then cosine decay to lr/10 at the end of the run. */
export interface AdamWRecipe {
  steps: number;
  lr: number;
  warmup: number;
  batchSize: number;
  /** Tokens per sequence. */
  context: number;
  weightDecay: number;
  beta2: number;
  gradClip: number;
  evalInterval: number;
  evalBatches?: number;
  patience: number;
  checkpointInterval: number;
  seed: number;
  threads?: number;
}

export function adamWCosine(r: AdamWRecipe): TrainConfig {
  return {
    batchSize: r.batchSize,
    contextLength: r.context,
    maxSteps: r.steps,
    optimizer: { name: 'adamw', betas: [0.9, r.beta2], weightDecay: r.weightDecay },
    schedule: { lr: r.lr, warmupSteps: r.warmup, decay: 'cosine', decaySteps: r.steps, minLr: r.lr / 10 },
    gradClip: r.gradClip,
    evalInterval: r.evalInterval,
    ...(r.evalBatches === undefined ? {} : { evalBatches: r.evalBatches }),
    patience: r.patience,
    checkpointInterval: r.checkpointInterval,
    logInterval: 10,
    seed: r.seed,
    threads: r.threads,
  };
}

/** The special tokens each kind of tokenizer gets unless told otherwise, and why. */
export const DEFAULT_SPECIAL_TOKENS: Readonly<Record<TokenizerSpec['type'], readonly string[]>> = {
  // Only <unk>, so that any text encodes: otherwise the vocabulary is exactly the corpus'
  // characters, as in nanoGPT's shakespeare_char (trainWordLevel adds <unk> when missing).
  char: ['<unk>'],
  // Padding, words below the vocabulary cut, and document boundaries.
  word: ['<pad>', '<unk>', '<bos>', '<eos>'],
  // GPT-2's one token, which separates documents.
  bpe: ['<|endoftext|>'],
};

export interface TokenizerTrainOptions {
  /** Instead of DEFAULT_SPECIAL_TOKENS. */
  specialTokens?: readonly string[];
  /** Units (word/char) or pairs (BPE) seen fewer times are left out. */
  minFrequency?: number;
  /** BPE: merges done so far, of the total. */
  onProgress?: (done: number, total: number) => void;
}

/** Trains the tokenizer a spec describes on `texts`. */
export function trainTokenizer(texts: Iterable<string>, spec: TokenizerSpec, o: TokenizerTrainOptions = {}): Tokenizer {
  const specialTokens = o.specialTokens ?? DEFAULT_SPECIAL_TOKENS[spec.type];
  switch (spec.type) {
    case 'char':
    case 'word': {
      const word = spec.type === 'word' ? spec : undefined;
      const minFrequency = o.minFrequency ?? word?.minFrequency;
      return trainWordLevel(texts, spec.type, {
        specialTokens,
        ...(spec.vocabSize ? { vocabSize: spec.vocabSize } : {}),
        ...(minFrequency ? { minFrequency } : {}),
        lowercase: word?.lowercase ?? false,
      });
    }
    case 'bpe':
      return trainByteLevelBpe(texts, { vocabSize: spec.vocabSize, specialTokens, ...(o.minFrequency ? { minFrequency: o.minFrequency } : {}), onProgress: o.onProgress });
    default:
      throw new InkwellError(`tokenizer type must be bpe, char or word, got '${String((spec as { type: unknown }).type)}'`);
  }
}

/** The model a spec describes, for a vocabulary of `vocabSize`. */
export function createModel(spec: ModelSpec, vocabSize: number): LanguageModel {
  if (spec.type === 'gpt') {
    const { type: _type, ...c } = spec;
    return new Gpt({ ...c, vocabSize });
  }
  if (spec.type === 'rnn') {
    const { type: _type, ...c } = spec;
    return new RnnLm({ ...c, vocabSize });
  }
  throw new InkwellError(`model type must be 'gpt' or 'rnn', got '${String((spec as { type: unknown }).type)}'`);
}
