/**
 * What the trainer trains: a task is a graph builder, a batch source and its
 * metrics. The trainer owns everything else — schedule, accumulation,
 * clipping, the optimizer, NaN stop, evaluation cadence, best model, patience,
 * checkpoints and exact resume — so every task behaves the same way.
 */
import path from 'node:path';
import { WindowBatcher, type BatcherState, type SamplingMode } from '../dataset/batches.js';
import type { TokenSource } from '../dataset/token-source.js';
import { modelFiles, saveModel, type ModelBundle } from '../io/model-dir.js';
import { buildTrainGraph, stateNames, type BuiltGraph } from '../models/lm.js';
import { trainableView } from '../models/scopes.js';
import type { ParamSpecs, Weights } from '../nn/params.js';
import type { Feed } from '../runtime/session.js';
import type { CompiledStep } from '../runtime/step.js';
import { createDecoder } from '../generate/decoders.js';
import { generateText } from '../generate/generate.js';
import { InkwellError } from '../utils/errors.js';
import { BEST_DIR } from './run-dir.js';
import { validationLoss } from './validation.js';

export interface TaskBatch {
  /** Names the batch's graph and shape (e.g. 'train:12x64'): one compiled session per key. */
  key: string;
  /** Builds the train graph (outputs `loss` and `grad.<name>` of every parameter trained on this batch), once per key. */
  graph: () => BuiltGraph;
  feeds: Record<string, Feed>;
  /** Parameters this batch trains (default: every trainable one), e.g. the head alone during a warm-up. */
  trainable?: readonly string[];
  /** Tokens in the batch, for throughput. */
  tokens: number;
  /** The first batch of an epoch: carried state starts again from zeros. */
  newEpoch: boolean;
}

export interface Evaluation {
  /** What best-model keeping and early stopping compare; lower is better (a loss, or a negated accuracy). */
  score: number;
  /** Validation loss. */
  loss: number;
  /** Written to metrics.jsonl beside the step, e.g. { val_loss } or { val_loss, val_accuracy }. */
  metrics: Record<string, number>;
}

/** What a sample at an evaluation is asked for (see Trainer's `samples` option). */
export interface SampleRequest {
  maxNewTokens: number;
  /** Text to continue; default: the opening tokens of the validation (else training) data, which the vocabulary always covers. */
  prompt?: string;
  temperature: number;
  seed: number;
  threads?: number;
}

export interface Sample {
  prompt: string;
  text: string;
  /** Tokens generated. */
  tokens: number;
}

export interface TrainTask {
  /** Every parameter the task trains or reads, in order. */
  readonly specs: ParamSpecs;
  /** The weights its graphs read, updated in place by the optimizer. */
  readonly weights: Weights;
  /** Names of carried-state inputs (recurrent models); fed zeros unless `carryState`. */
  readonly stateNames: readonly string[];
  /** Whether state runs on from one batch to the next (truncated BPTT) rather than starting at zero each batch. */
  readonly carryState: boolean;
  readonly hasValidation: boolean;
  /** The next micro-batch; `step` is the optimizer step it contributes to (0-based). */
  next(step: number): TaskBatch;
  /** Validation, run through the trainer's compiled step (its weights are the task's). */
  evaluate(step: CompiledStep): Promise<Evaluation>;
  /** The data position, so a resumed run sees the same batches. */
  dataState(): unknown;
  restoreData(state: unknown, source: string): void;
  /** The model files of a checkpoint: every weight as trained, so training can resume from them. */
  checkpointFiles(metadata: Record<string, string>): Map<string, string | Uint8Array>;
  /** Saves the best model so far (the trainer calls it after each improving evaluation). */
  saveBest(outDir: string): void;
  /** Text the model writes now, for a person watching the run (tasks that generate text). */
  sample?(request: SampleRequest): Promise<Sample>;
}

/** Prompt tokens taken from the data when a sample names none: enough for a few words of any tokenizer. */
const PROMPT_CHARS = 24;
const PROMPT_MAX_TOKENS = 32;

export interface LanguageModelTaskOptions {
  batchSize: number;
  contextLength: number;
  sampling: SamplingMode;
  seed: number;
  evalBatches: number;
  /** Parameters that get gradients (default all); the rest are fed as frozen inputs. */
  trainable?: readonly string[];
}

/** Next-token prediction on windows of a token stream: what `inkwell train` and `finetune` run. */
export class LanguageModelTask implements TrainTask {
  readonly stateNames: readonly string[];
  readonly carryState = true;
  private readonly batcher: WindowBatcher;
  private readonly graph: () => BuiltGraph;

  constructor(readonly bundle: ModelBundle, private readonly train: TokenSource, private readonly val: TokenSource | undefined, private readonly o: LanguageModelTaskOptions) {
    const { batchSize: B, contextLength: T } = o;
    this.batcher = new WindowBatcher(train, { batchSize: B, contextLength: T, mode: o.sampling, seed: o.seed });
    this.stateNames = stateNames(bundle.model);
    const model = o.trainable ? trainableView(bundle.model, o.trainable) : bundle.model;
    this.graph = () => buildTrainGraph(model, B, T);
  }

  get specs(): ParamSpecs {
    return this.bundle.model.specs;
  }

  get weights(): Weights {
    return this.bundle.weights;
  }

  get hasValidation(): boolean {
    return this.val !== undefined;
  }

  next(): TaskBatch {
    const b = this.batcher.next();
    return { key: 'train', graph: this.graph, feeds: { ids: b.x, targets: b.y }, tokens: b.x.length, newEpoch: b.newEpoch };
  }

  async evaluate(step: CompiledStep): Promise<Evaluation> {
    if (!this.val) throw new InkwellError('no validation data was given');
    const loss = await validationLoss(step, this.bundle.model, this.val, { batchSize: this.o.batchSize, contextLength: this.o.contextLength, batches: this.o.evalBatches });
    return { score: loss, loss, metrics: { val_loss: loss } };
  }

  dataState(): unknown {
    return this.batcher.state();
  }

  restoreData(state: unknown): void {
    this.batcher.restore(state as BatcherState);
  }

  checkpointFiles(metadata: Record<string, string>): Map<string, string | Uint8Array> {
    return modelFiles(this.bundle, metadata);
  }

  saveBest(outDir: string): void {
    saveModel(path.join(outDir, BEST_DIR), this.bundle);
  }

  /**
   * A continuation through the generation API, from a decoder made for the
   * weights as they are now (it bakes a copy of them, so the optimizer's
   * in-place updates never reach it) and released after. Its sampling draws
   * from its own seeded stream, never the trainer's.
   */
  async sample(r: SampleRequest): Promise<Sample> {
    const { model, weights, tokenizer } = this.bundle;
    const decoder = await createDecoder({ model, weights, tokenizer }, 1, { threads: r.threads });
    try {
      const prompt = r.prompt ?? this.dataPrompt();
      const out = await generateText({ decoder, tokenizer }, prompt, { maxNewTokens: r.maxNewTokens, temperature: r.temperature, seed: r.seed, stopAtEos: false });
      return { prompt: out.prompt, text: out.text, tokens: out.tokens.length };
    } finally {
      await decoder.release();
    }
  }

  /**
   * The opening of the validation (else training) tokens: the shortest that
   * decodes to PROMPT_CHARS characters and ends after a space (so the sample
   * starts a word), else its first PROMPT_MAX_TOKENS tokens' longest such prefix.
   */
  private dataPrompt(): number[] {
    const source = this.val ?? this.train;
    const ids = new Int32Array(Math.min(PROMPT_MAX_TOKENS, source.length));
    source.read(0, ids.length, ids, 0);
    let atSpace = 0;
    for (let n = 1; n <= ids.length; n++) {
      const text = this.bundle.tokenizer.decode([...ids.subarray(0, n)]);
      if (!/\s$/.test(text)) continue;
      atSpace = n;
      if (text.length >= PROMPT_CHARS) break;
    }
    return [...ids.subarray(0, atSpace || ids.length)];
  }
}
