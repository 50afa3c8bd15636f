/**
 * Training and evaluating a sequence classifier on a pretrained (or freshly
 * initialised) model: full fine-tuning (optionally head-only for the first
 * `freezeSteps`), a frozen base (linear probe), or LoRA adapters plus the
 * head. It is a task of the one Trainer (train/trainer.ts): AdamW with warmup
 * and cosine decay, clipping, accumulation, NaN stop, evaluation with
 * best-model keeping (by accuracy) and early stopping, metrics.jsonl, and
 * checkpoints in OUT/checkpoint that `resumeClassifier` continues exactly.
 */
import fs from 'node:fs';
import path from 'node:path';
import { MODEL_FILE } from '../io/model-dir.js';
import { readSafetensors } from '../io/safetensors.js';
import { lockRun, type RunLock } from '../io/run-lock.js';
import { recover, writeFilesAtomically } from '../io/transaction.js';
import { SequenceClassifier, type Pooling } from '../models/classifier.js';
import { stateNames } from '../models/lm.js';
import type { LoraConfig } from '../models/lora.js';
import { pickSpecs } from '../models/scopes.js';
import { countParams, initWeights, validateWeights, type Weights } from '../nn/params.js';
import { CompiledStep } from '../runtime/step.js';
import { adamWCosine } from '../train/run-spec.js';
import { Trainer, type TrainConfig, type TrainerEvents, type TrainResult } from '../train/trainer.js';
import { InkwellError, errorMessage } from '../utils/errors.js';
import { Rng } from '../utils/rng.js';
import { encodeExamples, readTsv, type Example } from './classify-data.js';
import type { ClassificationMetrics } from './classify-metrics.js';
import { argmax, classifierLogits, ClassifierTask, evaluateClassifier, logSumExp, shuffle } from './classify-task.js';
import { loadClassifier, type ClassifierBundle } from './classifier-io.js';
import { loadBase } from './finetune.js';
import { checkOutsideFrom, claimRunDir } from '../train/run-dir.js';

export type ClassifyMethod = 'full' | 'frozen' | 'lora';

export interface ClassifyTrainOptions {
  from: string;
  trainFile: string;
  evalFile: string;
  outDir: string;
  method: ClassifyMethod;
  /** 'scratch' keeps the architecture and tokenizer of `from` but re-initialises its weights: the baseline for transfer. */
  init?: 'pretrained' | 'scratch';
  pooling: Pooling;
  maxLength: number;
  batchSize: number;
  steps: number;
  lr: number;
  warmup: number;
  weightDecay: number;
  gradClip: number;
  /** Full fine-tuning: train the head alone for this many steps first. */
  freezeSteps?: number;
  lora?: LoraConfig;
  evalInterval: number;
  /** Stop after this many evaluations without a better accuracy (0 = never). */
  patience: number;
  /** Save a resumable checkpoint (OUT/checkpoint) every this many steps (default: at every evaluation). */
  checkpointInterval?: number;
  /** Use at most this many training examples (a quick run). */
  maxTrainExamples?: number;
  seed: number;
  threads?: number;
  /** Called at every logged step (every 10). */
  onStep?: (step: number, loss: number) => void;
  onEval?: (step: number, m: ClassificationMetrics, loss: number) => void;
}

export interface ClassifyReport {
  from: string;
  init: 'pretrained' | 'scratch';
  method: ClassifyMethod;
  parameters: { total: number; trainable: number; trainablePercent: number };
  optimizerBytes: number;
  steps: number;
  bestStep: number;
  stoppedEarly: boolean;
  seconds: number;
  labels: string[];
  eval: ClassificationMetrics & { loss: number };
}

/** Settings a checkpoint keeps so that `resumeClassifier` rebuilds the same run. */
type SavedOptions = Omit<ClassifyTrainOptions, 'outDir' | 'onStep' | 'onEval' | 'threads'>;

/** Where a classifier run keeps its resumable checkpoint, inside OUT (which holds the best classifier). */
export const CHECKPOINT_DIR = 'checkpoint';
const RUN_FILE = 'classify_run.json';

export async function trainClassifier(o: ClassifyTrainOptions, { force = false } = {}): Promise<ClassifyReport> {
  const t0 = performance.now();
  checkOutsideFrom(o.outDir, o.from);
  const lock = lockRun(o.outDir);
  try {
    // An existing run is kept unless --force: replacing it silently would lose its checkpoint and report.
    claimRunDir(o.outDir, force);
    const run = setUp(o);
    fs.writeFileSync(path.join(o.outDir, 'metrics.jsonl'), '');
    const trainer = new Trainer({ task: run.task, config: trainConfig(o, run.trainable), ...trainerDirs(o), events: events(o, run.task), lock });
    return await finish(o, run, trainer, t0);
  } finally {
    lock.release();
  }
}

/**
 * Continues the classifier run in `outDir` from its last checkpoint: the same
 * weights, optimizer slots, step, data order and RNG; `steps` may extend it.
 */
export async function resumeClassifier(outDir: string, o: Pick<ClassifyTrainOptions, 'threads' | 'onStep' | 'onEval'> & { steps?: number } = {}): Promise<ClassifyReport> {
  const t0 = performance.now();
  const dir = path.join(outDir, CHECKPOINT_DIR);
  // Recovery writes: under the run's lock, held to the report.
  const lock = lockRun(outDir);
  try {
    return await resumeLocked(outDir, dir, o, t0, lock);
  } finally {
    lock.release();
  }
}

async function resumeLocked(outDir: string, dir: string, o: Pick<ClassifyTrainOptions, 'threads' | 'onStep' | 'onEval'> & { steps?: number }, t0: number, lock: RunLock): Promise<ClassifyReport> {
  recover(dir);
  const runFile = path.join(dir, RUN_FILE);
  if (!fs.existsSync(runFile)) throw new InkwellError(`--resume ${outDir}: no classifier checkpoint there (missing ${path.join(CHECKPOINT_DIR, RUN_FILE)})`);
  let saved: SavedOptions;
  try {
    saved = JSON.parse(fs.readFileSync(runFile, 'utf8')) as SavedOptions;
  } catch (err) {
    throw new InkwellError(`cannot read ${runFile}: ${errorMessage(err)}`);
  }
  const options: ClassifyTrainOptions = { ...saved, ...o, steps: o.steps ?? saved.steps, outDir };
  const weightsFile = path.join(dir, MODEL_FILE);
  const weights: Weights = new Map([...readSafetensors(weightsFile).tensors].map(([k, t]) => [k, t.data]));
  const run = setUp(options, { weights, source: weightsFile });
  const trainer = Trainer.resumeTask(() => run.task, { ...trainerDirs(options), events: events(options, run.task), lock }, { maxSteps: options.steps, threads: o.threads });
  return finish(options, run, trainer, t0);
}

interface ClassifierRun {
  task: ClassifierTask;
  /** Trained after any head-only warm-up: everything (full), or the head and adapters. */
  trainable: string[];
  evalSet: Example[];
}

/** Base model, data, labels, the classifier and its weights (fresh, or a checkpoint's). */
function setUp(o: ClassifyTrainOptions, from?: { weights: Weights; source: string }): ClassifierRun {
  const base = loadBase(o.from);
  const trainRows = readTsv(o.trainFile, '--train');
  const evalRows = readTsv(o.evalFile, '--eval');
  const labels = sortLabels([...new Set(trainRows.map((r) => r.label))]);
  const tok = base.tokenizer;
  const padTokenId = tok.special.pad ?? tok.special.eos ?? 0;
  if (o.method === 'lora' && !o.lora) throw new InkwellError('--method lora needs LoRA settings');
  const classifier = new SequenceClassifier(base.model, { labels, pooling: o.pooling, maxLength: o.maxLength, padTokenId }, o.method === 'lora' ? o.lora : undefined);
  const fresh = [...classifier.headNames, ...(classifier.lora?.adapterNames ?? [])];
  let weights: Weights;
  if (from) {
    validateWeights(classifier.specs, from.weights, from.source);
    weights = from.weights;
  } else {
    const baseWeights = o.init === 'scratch' ? initWeights(base.model.specs, o.seed) : base.weights;
    weights = new Map([...baseWeights, ...initWeights(pickSpecs(classifier.specs, fresh), o.seed)]);
  }
  const trainable = o.method === 'full' ? Object.keys(classifier.specs) : fresh;

  let train = encodeExamples(trainRows, labels, tok, o.maxLength, padTokenId, o.trainFile);
  if (o.maxTrainExamples) train = shuffle(train, new Rng(`${o.seed}:subset`)).slice(0, o.maxTrainExamples);
  const evalSet = encodeExamples(evalRows, labels, tok, o.maxLength, padTokenId, o.evalFile);
  if (train.length < o.batchSize) throw new InkwellError(`--train ${o.trainFile} has ${train.length} examples, fewer than one batch of ${o.batchSize}`);
  const { outDir: _out, onStep: _s, onEval: _e, threads: _t, ...saved } = o;
  const task = new ClassifierTask(classifier, weights, tok, train, evalSet, {
    batchSize: o.batchSize,
    seed: o.seed,
    trainable,
    freezeSteps: o.freezeSteps ?? 0,
    checkpointExtras: { [RUN_FILE]: JSON.stringify(saved satisfies SavedOptions, null, 2) + '\n' },
  });
  return { task, trainable, evalSet };
}

/** AdamW (β2 0.999), warmup then cosine to lr/10, clipping, evaluation and patience, a checkpoint at every evaluation: the trainer's settings for a classifier run. */
function trainConfig(o: ClassifyTrainOptions, trainable: string[]): TrainConfig {
  const recipe = { ...o, context: o.maxLength, beta2: 0.999, checkpointInterval: o.checkpointInterval ?? o.evalInterval };
  return { ...adamWCosine(recipe), trainable: o.method === 'full' ? undefined : trainable };
}

function trainerDirs(o: ClassifyTrainOptions): { outDir: string; checkpointDir: string } {
  return { outDir: o.outDir, checkpointDir: path.join(o.outDir, CHECKPOINT_DIR) };
}

function events(o: Pick<ClassifyTrainOptions, 'onStep' | 'onEval'>, task: ClassifierTask): TrainerEvents {
  return {
    onStep: (s) => o.onStep?.(s.step, s.loss),
    onEval: (e) => o.onEval?.(e.step, task.lastMetrics!, e.valLoss),
  };
}

/** Trains, then scores the best classifier (as saved in OUT) on the eval set and writes the report beside it. */
async function finish(o: ClassifyTrainOptions, run: ClassifierRun, trainer: Trainer, t0: number): Promise<ClassifyReport> {
  let result: TrainResult;
  try {
    result = await trainer.run();
  } finally {
    await trainer.release();
  }
  const best = loadClassifier(o.outDir);
  const step = new CompiledStep({ weights: best.weights, state: stateNames(best.classifier.base), threads: o.threads });
  let final: ClassificationMetrics & { loss: number };
  try {
    final = await evaluateClassifier(step, best.classifier, run.evalSet, o.batchSize);
  } finally {
    await step.release();
  }
  const { classifier, weights } = run.task;
  const total = countParams(classifier.specs);
  const nTrainable = run.trainable.reduce((n, k) => n + weights.get(k)!.length, 0);
  const report: ClassifyReport = {
    from: o.from,
    init: o.init ?? 'pretrained',
    method: o.method,
    parameters: { total, trainable: nTrainable, trainablePercent: (100 * nTrainable) / total },
    optimizerBytes: trainer.optimizerBytes,
    steps: result.steps,
    bestStep: result.bestStep!,
    stoppedEarly: result.stoppedEarly,
    seconds: (performance.now() - t0) / 1000,
    labels: classifier.config.labels,
    eval: final,
  };
  writeFilesAtomically(o.outDir, new Map([['classify_report.json', JSON.stringify(report, null, 2) + '\n'], ['classify_report.md', reportMarkdown(report)]]));
  return report;
}

export interface Prediction {
  label: string;
  /** Softmax probability of each label, by label name. */
  scores: Record<string, number>;
}

/** Labels `texts` with a saved classifier. */
export async function predict(b: ClassifierBundle, texts: readonly string[], threads?: number): Promise<Prediction[]> {
  const { classifier, tokenizer } = b;
  const { labels, maxLength, padTokenId } = classifier.config;
  const examples: Example[] = texts.map((t) => {
    const ids = tokenizer.encode(t).slice(0, maxLength);
    return { ids: ids.length ? ids : [padTokenId], label: 0 };
  });
  const out: Prediction[] = [];
  const batch = Math.min(32, examples.length);
  const step = new CompiledStep({ weights: b.weights, state: stateNames(classifier.base), threads });
  try {
    for (const { rows, logits } of await classifierLogits(step, classifier, examples, batch)) {
      const K = labels.length;
      rows.forEach((_, r) => {
        const row = logits.subarray(r * K, (r + 1) * K);
        const z = logSumExp(row);
        out.push({ label: labels[argmax(row)]!, scores: Object.fromEntries(labels.map((l, k) => [l, Math.exp(row[k]! - z)])) });
      });
    }
  } finally {
    await step.release();
  }
  return out;
}

/** Numeric labels in numeric order (SST-2's 0, 1), others alphabetically. */
function sortLabels(labels: string[]): string[] {
  const numeric = labels.every((l) => /^-?\d+(\.\d+)?$/.test(l));
  return labels.sort(numeric ? (a, b) => Number(a) - Number(b) : undefined);
}

export function reportMarkdown(r: ClassifyReport): string {
  const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
  const m = r.eval;
  return [
    '# Classification report',
    '',
    `From \`${r.from}\` (${r.init} weights), ${r.method === 'full' ? 'full fine-tuning' : r.method === 'frozen' ? 'frozen base, head only' : 'LoRA adapters + head'}: ` +
      `${r.parameters.trainable.toLocaleString('en-US')} of ${r.parameters.total.toLocaleString('en-US')} parameters trained (${r.parameters.trainablePercent.toFixed(2)}%), optimizer state ${(r.optimizerBytes / 2 ** 20).toFixed(2)} MiB.`,
    `${r.steps} steps in ${r.seconds.toFixed(1)} s${r.stoppedEarly ? ' (stopped early)' : ''}; best at step ${r.bestStep}.`,
    '',
    `Eval set (${m.count} examples): accuracy **${pct(m.accuracy)}**, macro F1 ${pct(m.macroF1)}, loss ${m.loss.toFixed(4)}.`,
    '',
    '| label | precision | recall | F1 |',
    '|---|---|---|---|',
    ...r.labels.map((l, k) => `| ${l} | ${pct(m.precision[k]!)} | ${pct(m.recall[k]!)} | ${pct(m.f1[k]!)} |`),
    '',
    'Confusion matrix (rows: true label, columns: predicted):',
    '',
    `| | ${r.labels.join(' | ')} |`,
    `|---|${r.labels.map(() => '---').join('|')}|`,
    ...m.confusion.map((row, k) => `| **${r.labels[k]}** | ${row.join(' | ')} |`),
    '',
  ].join('\n');
}
