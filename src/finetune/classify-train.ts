/**
 * Training and evaluating a sequence classifier on a pretrained (or freshly
 * initialised) model: full fine-tuning (optionally head-only for the first
 * `freezeSteps`), a frozen base (linear probe), or LoRA adapters plus the
 * head. AdamW with warmup and cosine decay, gradient clipping, periodic
 * evaluation on the eval set with best-model keeping and early stopping;
 * metrics.jsonl uses the trainer's record shape so `inkwell plot` draws it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { GRAD_PREFIX, stateNames } from '../models/lm.js';
import { initWeights, type Weights } from '../nn/params.js';
import { pickSpecs } from '../models/scopes.js';
import type { TypedArray } from '../runtime/session.js';
import { CompiledStep } from '../runtime/step.js';
import { clipGradNorm, createOptimizer } from '../train/optimizers.js';
import { learningRate } from '../train/schedule.js';
import { InkwellError } from '../utils/errors.js';
import { Rng } from '../utils/rng.js';
import { encodeExamples, makeBatch, readTsv, type ClassBatch, type Example } from './classify-data.js';
import { classificationMetrics, type ClassificationMetrics } from './classify-metrics.js';
import { SequenceClassifier, type Pooling } from '../models/classifier.js';
import { saveClassifier, type ClassifierBundle } from './classifier-io.js';
import type { LoraConfig } from '../models/lora.js';
import { loadBase } from './finetune.js';

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
  /** Use at most this many training examples (a quick run). */
  maxTrainExamples?: number;
  seed: number;
  threads?: number;
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

export async function trainClassifier(o: ClassifyTrainOptions): Promise<ClassifyReport> {
  const t0 = performance.now();
  const base = loadBase(o.from);
  const trainRows = readTsv(o.trainFile, '--train');
  const evalRows = readTsv(o.evalFile, '--eval');
  const labels = sortLabels([...new Set(trainRows.map((r) => r.label))]);
  const tok = base.tokenizer;
  const padTokenId = tok.special.pad ?? tok.special.eos ?? 0;
  if (o.method === 'lora' && !o.lora) throw new InkwellError('--method lora needs LoRA settings');
  const classifier = new SequenceClassifier(base.model, { labels, pooling: o.pooling, maxLength: o.maxLength, padTokenId }, o.method === 'lora' ? o.lora : undefined);
  const rng = new Rng(o.seed);
  const baseWeights = o.init === 'scratch' ? initWeights(base.model.specs, o.seed) : base.weights;
  const fresh = [...classifier.headNames, ...(classifier.lora?.adapterNames ?? [])];
  const weights: Weights = new Map([...baseWeights, ...initWeights(pickSpecs(classifier.specs, fresh), o.seed)]);
  const all = Object.keys(classifier.specs);
  const trainable = o.method === 'full' ? all : fresh;
  const headOnly = classifier.headNames;

  let train = encodeExamples(trainRows, labels, tok, o.maxLength, padTokenId, o.trainFile);
  if (o.maxTrainExamples) train = shuffle(train, new Rng(`${o.seed}:subset`)).slice(0, o.maxTrainExamples);
  const evalSet = encodeExamples(evalRows, labels, tok, o.maxLength, padTokenId, o.evalFile);
  if (train.length < o.batchSize) throw new InkwellError(`--train ${o.trainFile} has ${train.length} examples, fewer than one batch of ${o.batchSize}`);

  // Every sequence starts from a zero state (recurrent bases).
  const runner = new CompiledStep({ weights, state: stateNames(classifier.base), threads: o.threads });

  const evaluate = async (): Promise<ClassificationMetrics & { loss: number }> => {
    const predicted: number[] = [];
    let lossSum = 0;
    for (let i = 0; i < evalSet.length; i += o.batchSize) {
      const rows = evalSet.slice(i, i + o.batchSize);
      const b = makeBatch(rows, o.batchSize, o.maxLength, padTokenId);
      const out = await runner.run(`eval:${b.length}`, () => classifier.buildGraph(o.batchSize, b.length, { train: false, withLoss: false }), batchFeeds(b));
      const logits = out.logits as Float32Array;
      const K = labels.length;
      rows.forEach((e, r) => {
        const row = logits.subarray(r * K, (r + 1) * K);
        predicted.push(argmax(row));
        lossSum += logSumExp(row) - row[e.label]!;
      });
    }
    return { ...classificationMetrics(evalSet.map((e) => e.label), predicted, labels.length), loss: lossSum / evalSet.length };
  };

  const optimizer = createOptimizer({ name: 'adamw', betas: [0.9, 0.999], weightDecay: o.weightDecay }, pickSpecs(classifier.specs, trainable));
  const schedule = { lr: o.lr, warmupSteps: o.warmup, decay: 'cosine' as const, decaySteps: o.steps, minLr: o.lr / 10 };
  const dropoutRng = new Rng(`${o.seed}:dropout`);
  fs.mkdirSync(o.outDir, { recursive: true });
  const metricsFile = path.join(o.outDir, 'metrics.jsonl');
  fs.writeFileSync(metricsFile, '');
  const log = (r: Record<string, unknown>) => fs.appendFileSync(metricsFile, JSON.stringify(r) + '\n');

  let order = shuffle(train, rng);
  let cursor = 0;
  let best: { accuracy: number; step: number; weights: Weights } | null = null;
  let evalsWithoutImprovement = 0;
  let stoppedEarly = false;
  let step = 0;
  let lossWindow = 0;
  try {
    while (step < o.steps && !stoppedEarly) {
      if (cursor + o.batchSize > order.length) {
        order = shuffle(train, rng);
        cursor = 0;
      }
      const b = makeBatch(order.slice(cursor, cursor + o.batchSize), o.batchSize, o.maxLength, padTokenId);
      cursor += o.batchSize;
      const phase = step < (o.freezeSteps ?? 0) ? 'head' : 'all';
      const names = phase === 'head' ? headOnly : trainable;
      const graph = () => classifier.buildGraph(o.batchSize, b.length, { train: true, withLoss: true, trainable: names });
      const out = await runner.run(`train:${phase}:${b.length}`, graph, { ...batchFeeds(b), labels: b.labels }, { random: () => dropoutRng.float(), checkFinite: ['loss'] });
      const grads = new Map(names.map((n) => [n, out[GRAD_PREFIX + n] as Float32Array]));
      clipGradNorm(grads, o.gradClip);
      const lr = learningRate(schedule, step);
      optimizer.step(weights, grads, lr);
      step++;
      const loss = (out.loss as Float32Array)[0]!;
      lossWindow += loss;
      if (step % 10 === 0 || step === o.steps) {
        log({ step, loss: lossWindow / (step % 10 || 10), lr });
        lossWindow = 0;
      }
      o.onStep?.(step, loss);
      if (step % o.evalInterval === 0 || step === o.steps) {
        const m = await evaluate();
        log({ step, val_loss: m.loss, val_accuracy: m.accuracy, val_macro_f1: m.macroF1 });
        o.onEval?.(step, m, m.loss);
        if (!best || m.accuracy > best.accuracy) {
          best = { accuracy: m.accuracy, step, weights: new Map([...weights].map(([k, v]) => [k, Float32Array.from(v)])) };
          evalsWithoutImprovement = 0;
        } else {
          evalsWithoutImprovement++;
          stoppedEarly = o.patience > 0 && evalsWithoutImprovement >= o.patience;
        }
      }
    }
    for (const [k, v] of best!.weights) weights.set(k, v);
    const final = await evaluate();
    const total = Object.values(classifier.specs).reduce((n, s) => n + s.shape.reduce((a, d) => a * d, 1), 0);
    const nTrainable = trainable.reduce((n, k) => n + weights.get(k)!.length, 0);
    let optimizerBytes = 0;
    for (const v of optimizer.state().values()) optimizerBytes += v.byteLength;
    const report: ClassifyReport = {
      from: o.from,
      init: o.init ?? 'pretrained',
      method: o.method,
      parameters: { total, trainable: nTrainable, trainablePercent: (100 * nTrainable) / total },
      optimizerBytes,
      steps: step,
      bestStep: best!.step,
      stoppedEarly,
      seconds: (performance.now() - t0) / 1000,
      labels,
      eval: final,
    };
    const bundle: ClassifierBundle = { classifier, weights, tokenizer: tok };
    saveClassifier(o.outDir, bundle, { 'classify_report.json': JSON.stringify(report, null, 2) + '\n', 'classify_report.md': reportMarkdown(report) });
    return report;
  } finally {
    await runner.release();
  }
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
    for (let i = 0; i < examples.length; i += batch) {
      const rows = examples.slice(i, i + batch);
      const bt = makeBatch(rows, batch, maxLength, padTokenId);
      const run = await step.run(`eval:${bt.length}`, () => classifier.buildGraph(batch, bt.length, { train: false, withLoss: false }), batchFeeds(bt));
      const logits = run.logits as Float32Array;
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

/** A batch's token ids and attention mask, as the classifier's graphs name them. */
function batchFeeds(b: ClassBatch): Record<string, TypedArray> {
  return { input_ids: b.inputIds, attention_mask: b.attentionMask };
}

function argmax(row: ArrayLike<number>): number {
  let k = 0;
  for (let i = 1; i < row.length; i++) if (row[i]! > row[k]!) k = i;
  return k;
}

function logSumExp(row: ArrayLike<number>): number {
  let m = -Infinity;
  for (let i = 0; i < row.length; i++) m = Math.max(m, row[i]!);
  let s = 0;
  for (let i = 0; i < row.length; i++) s += Math.exp(row[i]! - m);
  return m + Math.log(s);
}

/** Numeric labels in numeric order (SST-2's 0, 1), others alphabetically. */
function sortLabels(labels: string[]): string[] {
  const numeric = labels.every((l) => /^-?\d+(\.\d+)?$/.test(l));
  return labels.sort(numeric ? (a, b) => Number(a) - Number(b) : undefined);
}

function shuffle<T>(xs: readonly T[], rng: Rng): T[] {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
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
