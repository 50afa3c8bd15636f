/**
 * Sequence classification as a trainer task: shuffled labelled examples in
 * padded batches (a graph per padded length), an optional head-only warm-up,
 * and evaluation by accuracy (the best model is the most accurate; patience
 * counts evaluations without a better one).
 */
import { MODEL_FILE } from '../io/model-dir.js';
import { encodeSafetensors, type NamedTensor } from '../io/safetensors.js';
import type { SequenceClassifier } from '../models/classifier.js';
import { stateNames } from '../models/lm.js';
import type { ParamSpecs, Weights } from '../nn/params.js';
import type { TypedArray } from '../runtime/session.js';
import type { CompiledStep } from '../runtime/step.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import type { Evaluation, TaskBatch, TrainTask } from '../train/task.js';
import { InkwellError } from '../utils/errors.js';
import { Rng } from '../utils/rng.js';
import { makeBatch, type ClassBatch, type Example } from './classify-data.js';
import { classificationMetrics, type ClassificationMetrics } from './classify-metrics.js';
import { saveClassifier } from './classifier-io.js';

export interface ClassifierTaskOptions {
  batchSize: number;
  seed: number;
  /** Parameters trained after the warm-up. */
  trainable: readonly string[];
  /** Train the head alone for this many steps first. */
  freezeSteps: number;
  /** Files that a checkpoint carries besides the weights (the run's settings, to resume it). */
  checkpointExtras: Record<string, string>;
}

/** Where a shuffled epoch stands: the RNG before its shuffle, and the next example. */
interface DataState {
  rng: number[];
  cursor: number;
}

export class ClassifierTask implements TrainTask {
  readonly stateNames: readonly string[];
  /** Every sequence starts from a zero state. */
  readonly carryState = false;
  readonly hasValidation = true;
  /** The full metrics of the latest evaluation. */
  lastMetrics: (ClassificationMetrics & { loss: number }) | null = null;
  private readonly rng: Rng;
  private epochStart: number[] = [];
  private order: Example[] = [];
  private cursor = 0;

  constructor(
    readonly classifier: SequenceClassifier,
    readonly weights: Weights,
    readonly tokenizer: Tokenizer,
    private readonly train: readonly Example[],
    private readonly evalSet: readonly Example[],
    private readonly o: ClassifierTaskOptions,
  ) {
    if (train.length < o.batchSize) throw new InkwellError(`the training set has ${train.length} examples, fewer than one batch of ${o.batchSize}`);
    this.stateNames = stateNames(classifier.base);
    this.rng = new Rng(o.seed);
    this.shuffle();
  }

  get specs(): ParamSpecs {
    return this.classifier.specs;
  }

  next(step: number): TaskBatch {
    const B = this.o.batchSize;
    if (this.cursor + B > this.order.length) this.shuffle();
    const newEpoch = this.cursor === 0;
    const b = this.batch(this.order.slice(this.cursor, this.cursor + B));
    this.cursor += B;
    const phase = step < this.o.freezeSteps ? 'head' : 'all';
    const trainable = phase === 'head' ? this.classifier.headNames : this.o.trainable;
    return {
      key: `train:${phase}:${b.length}`,
      graph: () => this.classifier.buildGraph(B, b.length, { train: true, withLoss: true, trainable }),
      feeds: { ...batchFeeds(b), labels: b.labels },
      trainable,
      tokens: b.inputIds.length,
      newEpoch,
    };
  }

  async evaluate(step: CompiledStep): Promise<Evaluation> {
    const m = await evaluateClassifier(step, this.classifier, this.evalSet, this.o.batchSize);
    this.lastMetrics = m;
    return { score: -m.accuracy, loss: m.loss, metrics: { val_loss: m.loss, val_accuracy: m.accuracy, val_macro_f1: m.macroF1 } };
  }

  dataState(): DataState {
    return { rng: this.epochStart, cursor: this.cursor };
  }

  restoreData(state: unknown, source: string): void {
    const s = state as DataState;
    if (!Array.isArray(s?.rng) || !Number.isInteger(s.cursor) || s.cursor < 0 || s.cursor > this.train.length) throw new InkwellError(`${source}: the data position is not a classifier's`);
    this.rng.setState(s.rng);
    this.shuffle();
    this.cursor = s.cursor;
  }

  /** Every weight as trained (LoRA adapters unmerged) and the run's settings. */
  checkpointFiles(metadata: Record<string, string>): Map<string, string | Uint8Array> {
    const tensors = new Map<string, NamedTensor>(Object.entries(this.classifier.specs).map(([n, s]) => [n, { shape: s.shape, data: this.weights.get(n)! }]));
    return new Map<string, string | Uint8Array>([[MODEL_FILE, encodeSafetensors(tensors, { format: 'pt', ...metadata })], ...Object.entries(this.o.checkpointExtras)]);
  }

  /** The classifier itself (adapters merged) is the run's output: it goes to OUT. */
  saveBest(outDir: string): void {
    saveClassifier(outDir, { classifier: this.classifier, weights: this.weights, tokenizer: this.tokenizer });
  }

  private shuffle(): void {
    this.epochStart = this.rng.getState();
    this.order = shuffle(this.train, this.rng);
    this.cursor = 0;
  }

  private batch(rows: readonly Example[]): ClassBatch {
    const { maxLength, padTokenId } = this.classifier.config;
    return makeBatch(rows, this.o.batchSize, maxLength, padTokenId);
  }
}

/** Accuracy, F1, the confusion matrix and the mean loss of a classifier on `examples`, in batches of `batch`. */
export async function evaluateClassifier(step: CompiledStep, classifier: SequenceClassifier, examples: readonly Example[], batch: number): Promise<ClassificationMetrics & { loss: number }> {
  const { labels } = classifier.config;
  const predicted: number[] = [];
  let lossSum = 0;
  for (const { rows, logits } of await classifierLogits(step, classifier, examples, batch)) {
    const K = labels.length;
    rows.forEach((e, r) => {
      const row = logits.subarray(r * K, (r + 1) * K);
      predicted.push(argmax(row));
      lossSum += logSumExp(row) - row[e.label]!;
    });
  }
  return { ...classificationMetrics(examples.map((e) => e.label), predicted, labels.length), loss: lossSum / examples.length };
}

/** The classifier's logits for `examples`, batch by batch (a session per padded length). */
export async function classifierLogits(step: CompiledStep, classifier: SequenceClassifier, examples: readonly Example[], batch: number): Promise<Array<{ rows: readonly Example[]; logits: Float32Array }>> {
  const { maxLength, padTokenId } = classifier.config;
  const out: Array<{ rows: readonly Example[]; logits: Float32Array }> = [];
  for (let i = 0; i < examples.length; i += batch) {
    const rows = examples.slice(i, i + batch);
    const b = makeBatch(rows, batch, maxLength, padTokenId);
    const run = await step.run(`eval:${b.length}`, () => classifier.buildGraph(batch, b.length, { train: false, withLoss: false }), batchFeeds(b), { fetch: ['logits'] });
    out.push({ rows, logits: run.logits as Float32Array });
  }
  return out;
}

/** A batch's token ids and attention mask, as the classifier's graphs name them. */
function batchFeeds(b: ClassBatch): Record<string, TypedArray> {
  return { input_ids: b.inputIds, attention_mask: b.attentionMask };
}

export function argmax(row: ArrayLike<number>): number {
  let k = 0;
  for (let i = 1; i < row.length; i++) if (row[i]! > row[k]!) k = i;
  return k;
}

export function logSumExp(row: ArrayLike<number>): number {
  let m = -Infinity;
  for (let i = 0; i < row.length; i++) m = Math.max(m, row[i]!);
  let s = 0;
  for (let i = 0; i < row.length; i++) s += Math.exp(row[i]! - m);
  return m + Math.log(s);
}

export function shuffle<T>(xs: readonly T[], rng: Rng): T[] {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}
