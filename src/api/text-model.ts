/**
 * The library API in the tutorial's (Keras') shape:
 *
 *   const model = TextModel.create({ tokenizer, model: { type: 'rnn', cell: 'lstm', … } });
 *   model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', learningRate: 2e-3 });
 *   const history = await model.fit(trainIds, { epochs: 1, batchSize: 32, contextLength: 64, validationData: valIds });
 *   await model.evaluate(valIds);  await model.predict([[...ids]]);  await model.generate('It was');
 *   model.save('runs/mine');  const again = TextModel.load('runs/mine');
 *
 * It is a thin layer over the same pieces the CLI uses (models, Trainer, decoders).
 */
import type { TokenSource } from '../dataset/token-source.js';
import { tokenSourceFromIds } from '../dataset/token-source.js';
import { WindowBatcher } from '../dataset/batches.js';
import { evaluatePerplexity, type PerplexityOptions, type PerplexityResult } from '../eval/perplexity.js';
import { createDecoder } from '../generate/decoders.js';
import { generateText, type GenerateOptions } from '../generate/generate.js';
import { loadModel, saveModel, type ModelBundle } from '../io/model-dir.js';
import { buildForwardGraph, carriesState, stateNames, type LanguageModel } from '../models/lm.js';
import { countParams, initWeights, type Weights } from '../nn/params.js';
import { CompiledStep } from '../runtime/step.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import { createModel, resolveSpec, trainTokenizer } from '../train/run-spec.js';
import type { ModelSpec, RunSpec } from '../train/presets.js';
import type { OptimizerConfig, OptimizerName } from '../train/optimizers.js';
import { Trainer, type EvalInfo, type StepInfo, type TrainConfig } from '../train/trainer.js';
import { InkwellError } from '../utils/errors.js';

export interface CompileOptions {
  optimizer: OptimizerName | OptimizerConfig;
  /** Only next-token sparse categorical cross-entropy (from logits) is defined for language models. */
  loss?: 'sparseCategoricalCrossentropy';
  learningRate?: number;
  /** Linear warmup steps, then cosine decay to learningRate / 10 over the run (0 = constant rate). */
  warmupSteps?: number;
  cosineDecay?: boolean;
  /** Clip the global gradient norm (0 = off). */
  clipNorm?: number;
}

export interface FitOptions {
  /** Passes over the training tokens (converted to steps), or… */
  epochs?: number;
  /** …optimizer steps directly. */
  steps?: number;
  batchSize?: number;
  contextLength?: number;
  validationData?: TokenSource | ArrayLike<number>;
  /** Evaluate every this many steps (default: at the end only). */
  validationFreq?: number;
  /** 'sequential' carries RNN state across batches (truncated BPTT); default: sequential for RNNs, random windows for GPT. */
  sampling?: 'random' | 'sequential';
  /** Stop after this many evaluations without improvement. */
  patience?: number;
  seed?: number;
  /** Checkpoints, best model and metrics.jsonl go here when given. */
  outDir?: string;
  callbacks?: { onStep?(s: StepInfo): void; onEval?(e: EvalInfo): void };
}

/** Keras' History.history: one entry per logged step / evaluation. */
export interface History {
  loss: number[];
  valLoss: number[];
}

export class TextModel {
  private compiled?: CompileOptions;

  private constructor(readonly model: LanguageModel, readonly weights: Weights, readonly tokenizer: Tokenizer) {}

  /** A new, initialised model for `tokenizer` (the vocabulary size comes from it). */
  static create(o: { tokenizer: Tokenizer; model: ModelSpec; seed?: number }): TextModel {
    const model = createModel(o.model, o.tokenizer.vocabSize);
    return new TextModel(model, initWeights(model.specs, o.seed ?? 0), o.tokenizer);
  }

  /**
   * A new model as a preset (by name) or run spec describes it, as `inkwell train
   * --preset` makes it: the spec's tokenizer trained on `texts`, the model
   * initialised from the spec's seed.
   */
  static fromSpec(spec: RunSpec | string, texts: readonly string[]): TextModel {
    const s = typeof spec === 'string' ? resolveSpec({ preset: spec }) : spec;
    return TextModel.create({ tokenizer: trainTokenizer(texts, s.tokenizer), model: s.model, seed: s.train.seed });
  }

  /** Loads a model directory written by `save`, `inkwell train` or a Hugging Face GPT-2 export of inkwell. */
  static load(dir: string): TextModel {
    const b = loadModel(dir, { keepWeights: true });
    return new TextModel(b.model, b.weights, b.tokenizer);
  }

  get bundle(): ModelBundle {
    return { model: this.model, weights: this.weights, tokenizer: this.tokenizer };
  }

  get parameterCount(): number {
    return countParams(this.model.specs);
  }

  compile(o: CompileOptions): void {
    if (o.loss !== undefined && o.loss !== 'sparseCategoricalCrossentropy') {
      throw new InkwellError(`loss '${String(o.loss)}' is not supported`, "language models train with 'sparseCategoricalCrossentropy'");
    }
    this.compiled = o;
  }

  async fit(data: TokenSource | ArrayLike<number>, o: FitOptions = {}): Promise<History> {
    if (!this.compiled) throw new InkwellError('call compile() before fit()');
    const train = asSource(data);
    const batchSize = o.batchSize ?? 32;
    const contextLength = o.contextLength ?? 64;
    const sampling = o.sampling ?? (carriesState(this.model) ? 'sequential' : 'random');
    const steps = o.steps ?? (o.epochs ?? 1) * new WindowBatcher(train, { batchSize, contextLength, mode: sampling }).batchesPerEpoch;
    const c = this.compiled;
    const lr = c.learningRate ?? 1e-3;
    const optimizer = typeof c.optimizer === 'string' ? { name: c.optimizer } : c.optimizer;
    const config: TrainConfig = {
      batchSize,
      contextLength,
      maxSteps: steps,
      optimizer,
      schedule: { lr, warmupSteps: c.warmupSteps ?? 0, decay: c.cosineDecay ? 'cosine' : 'constant', decaySteps: steps, minLr: lr / 10 },
      gradClip: c.clipNorm ?? 0,
      evalInterval: o.validationFreq ?? 0,
      patience: o.patience ?? 0,
      sampling,
      logInterval: 1,
      seed: o.seed ?? 0,
    };
    const history: History = { loss: [], valLoss: [] };
    const trainer = new Trainer({
      bundle: this.bundle,
      train,
      val: o.validationData === undefined ? undefined : asSource(o.validationData),
      config,
      outDir: o.outDir,
      events: {
        onStep: (s) => {
          history.loss.push(s.loss);
          o.callbacks?.onStep?.(s);
        },
        onEval: (e) => {
          history.valLoss.push(e.valLoss);
          o.callbacks?.onEval?.(e);
        },
      },
    });
    try {
      await trainer.run();
    } finally {
      await trainer.release();
    }
    return history;
  }

  /** Loss, perplexity, bits per character and top-1/top-5 accuracy of next-token prediction over the data. */
  async evaluate(data: TokenSource | ArrayLike<number>, o: PerplexityOptions = {}): Promise<PerplexityResult> {
    const source = asSource(data);
    const tokens = new Int32Array(source.length);
    source.read(0, source.length, tokens, 0);
    return evaluatePerplexity(this.bundle, tokens, o);
  }

  /** Next-token logits for equal-length id sequences: [batch, T, vocab] row-major (RNNs start from a zero state). */
  async predict(sequences: readonly (readonly number[])[]): Promise<Float32Array> {
    const T = sequences[0]?.length ?? 0;
    if (T === 0 || sequences.some((s) => s.length !== T)) throw new InkwellError('predict: give one or more non-empty sequences of equal length');
    const step = new CompiledStep({ weights: this.weights, state: stateNames(this.model) });
    try {
      const out = await step.run('forward', () => buildForwardGraph(this.model, sequences.length, T), { ids: Int32Array.from(sequences.flat()) }, { fetch: ['logits'] });
      return out.logits as Float32Array;
    } finally {
      await step.release();
    }
  }

  /** Continues `prompt` (see GenerateOptions: temperature, topK, topP, penalties, stop, seed, maxNewTokens). */
  async generate(prompt: string, o: GenerateOptions = {}): Promise<string> {
    const decoder = await createDecoder(this.bundle, 1);
    try {
      return (await generateText({ decoder, tokenizer: this.tokenizer }, prompt, o)).text;
    } finally {
      await decoder.release();
    }
  }

  save(dir: string): void {
    saveModel(dir, this.bundle);
  }
}

function asSource(data: TokenSource | ArrayLike<number>): TokenSource {
  return 'read' in data && typeof (data as TokenSource).read === 'function' ? (data as TokenSource) : tokenSourceFromIds(data as ArrayLike<number>);
}
