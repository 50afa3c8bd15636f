/**
 * The one training loop, for every task (a language model on token windows, a
 * sequence classifier, …): batches → compiled train step (loss + gradients in
 * one ORT run) → gradient accumulation, clipping and the optimizer in JS →
 * periodic evaluation, best-model keeping, early stopping and atomic
 * checkpoints that resume exactly (weights, optimizer slots, step, RNG, data
 * position and any carried recurrent state).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { SamplingMode } from '../dataset/batches.js';
import type { TokenSource } from '../dataset/token-source.js';
import { loadModel, MODEL_FILE, type ModelBundle } from '../io/model-dir.js';
import { lockRun, type RunLock } from '../io/run-lock.js';
import { decodeSafetensors, encodeSafetensors, readSafetensorsHeader, type NamedTensor } from '../io/safetensors.js';
import { readCommitted, recover, verifyManifest, writeFilesAtomically } from '../io/transaction.js';
import { GRAD_PREFIX } from '../models/lm.js';
import { pickSpecs } from '../models/scopes.js';
import { NonFiniteError, type TypedArray } from '../runtime/session.js';
import { CompiledStep } from '../runtime/step.js';
import { InkwellError, errorMessage } from '../utils/errors.js';
import { checkTrainerState } from './spec-check.js';
import { Rng } from '../utils/rng.js';
import { clipCoefficient, createOptimizer, gradNorm, type Optimizer, type OptimizerConfig } from './optimizers.js';
import { METRICS_FILE, MetricsLog, truncateMetrics } from './metrics-log.js';
import { learningRate, type ScheduleConfig } from './schedule.js';
import { LanguageModelTask, type Evaluation, type Sample, type TrainTask } from './task.js';

/** Where the samples written at each evaluation go, one JSON record a line ({step, prompt, text, tokens, temperature, seed}). */
export const SAMPLES_FILE = 'samples.jsonl';

/**
 * A short text the model writes after each evaluation, for a person watching
 * the run (the dashboard shows them). Seeded: the same run writes the same
 * samples, and they draw nothing from the training's random streams, so a run
 * trains identically with or without them.
 */
export interface SampleOptions {
  /** Tokens per sample. */
  maxNewTokens: number;
  /** Default: the opening of the validation data. */
  prompt?: string;
  /** Default 0.8. */
  temperature?: number;
}

export interface TrainConfig {
  batchSize: number;
  contextLength: number;
  /** Optimizer updates to run in total. */
  maxSteps: number;
  /** Micro-batches summed per update (effective batch = batchSize · gradAccum). */
  gradAccum?: number;
  optimizer: OptimizerConfig;
  schedule: ScheduleConfig;
  /** Clip the global gradient norm to this (0 = off). */
  gradClip?: number;
  /** Evaluate every this many steps (and at the end); 0 = only at the end. */
  evalInterval?: number;
  /** Validation batches averaged per evaluation. */
  evalBatches?: number;
  /** Stop after this many evaluations without a new best validation loss (0 = never). */
  patience?: number;
  /** Save a resumable checkpoint every this many steps (and at the end). */
  checkpointInterval?: number;
  /** Report (and write metrics.jsonl) every this many steps. */
  logInterval?: number;
  /** 'random' windows (GPT) or 'sequential' lanes with carried state (RNN truncated BPTT). */
  sampling?: SamplingMode;
  seed: number;
  threads?: number;
  /** Parameters to update (default: all); the rest stay frozen, with no gradients and no optimizer slots. */
  trainable?: string[];
  /** Learning-rate multipliers by parameter (default 1), e.g. layer-wise decay when fine-tuning. */
  lrScale?: Record<string, number>;
}

export interface StepInfo {
  step: number;
  loss: number;
  lr: number;
  gradNorm: number;
  tokensPerSecond: number;
  elapsedSeconds: number;
}

export interface EvalInfo {
  step: number;
  valLoss: number;
  /** Validation loss of the best model so far (best by the task's score: loss, or a classifier's accuracy). */
  bestValLoss: number;
  improved: boolean;
  /** Everything the task measured (as written to metrics.jsonl). */
  metrics: Record<string, number>;
}

export interface SampleInfo extends Sample {
  step: number;
}

export interface TrainerEvents {
  onStep?(info: StepInfo): void;
  onEval?(info: EvalInfo): void;
  onSample?(info: SampleInfo): void;
  onCheckpoint?(step: number, dir: string): void;
}

export interface TrainResult {
  steps: number;
  finalTrainLoss: number;
  finalValLoss: number | null;
  bestValLoss: number | null;
  bestStep: number | null;
  stoppedEarly: boolean;
  seconds: number;
}

interface TrainerState {
  version: 1;
  step: number;
  /** Validation loss of the best model, and (absent in older checkpoints: the same) its score. */
  bestValLoss: number | null;
  bestScore?: number | null;
  bestStep: number | null;
  evalsWithoutImprovement: number;
  data: unknown;
  rng: number[];
  config: TrainConfig;
  elapsedSeconds: number;
}

const STATE_FILE = 'trainer_state.json';
const OPTIMIZER_FILE = 'optimizer.safetensors';
/** Carried recurrent state is checkpointed beside the optimizer slots under this prefix. */
const CARRY_PREFIX = 'carry.';

/** A language model on token windows. */
export interface TrainerOptions {
  bundle: ModelBundle;
  train: TokenSource;
  val?: TokenSource;
  config: TrainConfig;
  /** Where checkpoints, the best model and metrics.jsonl go; nothing is written without it. */
  outDir?: string;
  events?: TrainerEvents;
  /** The lock on outDir when the caller already holds it (see run-lock.ts); otherwise the trainer takes it while it writes. */
  lock?: RunLock;
  /** A sample after each evaluation (to samples.jsonl and onSample); none without it. */
  samples?: SampleOptions;
}

/** Any task. */
export interface TaskTrainerOptions {
  task: TrainTask;
  config: TrainConfig;
  /** Where metrics.jsonl and the best model go; nothing is written without it. */
  outDir?: string;
  /** Where resumable checkpoints go (default: outDir). */
  checkpointDir?: string;
  events?: TrainerEvents;
  /** The lock on outDir (else checkpointDir) when the caller already holds it; otherwise the trainer takes it while it writes. */
  lock?: RunLock;
  /** A sample after each evaluation, for tasks that generate text (to samples.jsonl and onSample); none without it. */
  samples?: SampleOptions;
}

export class Trainer {
  private readonly cfg: ResolvedConfig;
  private readonly task: TrainTask;
  private readonly optimizer: Optimizer;
  private readonly rng: Rng;
  private readonly o: TaskTrainerOptions;
  private step = 0;
  private best: { score: number; loss: number; step: number } | null = null;
  private evalsWithoutImprovement = 0;
  private elapsedBefore = 0;
  private carry = new Map<string, TypedArray>();
  /** Step of the newest checkpoint on disk (saved by this run or resumed from), for the divergence message. */
  private lastCheckpoint: number | null = null;
  private metrics: MetricsLog | undefined;
  private samples: MetricsLog | undefined;
  /** The task's graphs, compiled once per shape, fed its weights (updated in place by the optimizer). */
  private readonly runner: CompiledStep;

  constructor(options: TrainerOptions | TaskTrainerOptions) {
    this.cfg = withDefaults(options.config);
    this.o = 'task' in options ? options : { ...options, task: languageModelTask(options, this.cfg) };
    this.task = this.o.task;
    const specs = this.cfg.trainable ? pickSpecs(this.task.specs, this.cfg.trainable) : this.task.specs;
    this.optimizer = createOptimizer(this.cfg.optimizer, specs, this.cfg.lrScale);
    this.rng = new Rng(`${this.cfg.seed}:dropout`);
    this.runner = new CompiledStep({ weights: this.task.weights, state: this.task.stateNames, threads: this.cfg.threads });
    if (this.o.outDir) this.metrics = new MetricsLog(path.join(this.o.outDir, METRICS_FILE));
    if (this.o.outDir && this.o.samples && this.task.sample) this.samples = new MetricsLog(path.join(this.o.outDir, SAMPLES_FILE));
  }

  /**
   * Continues the language-model run saved in `outDir` exactly where its last
   * checkpoint left it: same weights, optimizer slots, step, RNG and data
   * order. `overrides` may extend the run (e.g. a larger maxSteps).
   */
  static resume(outDir: string, data: { train: TokenSource; val?: TokenSource }, events?: TrainerEvents, overrides: Partial<TrainConfig> = {}, lock?: RunLock, samples?: SampleOptions): Trainer {
    return Trainer.resumeTask((config) => languageModelTask({ bundle: loadModel(outDir, { keepWeights: true }), ...data }, withDefaults(config)), { outDir, events, lock, samples }, overrides);
  }

  /** Continues any task's run from its checkpoint: `task` is rebuilt (weights from the checkpoint) for the saved config with `overrides`. */
  static resumeTask(task: (config: TrainConfig) => TrainTask, o: Omit<TaskTrainerOptions, 'task' | 'config'>, overrides: Partial<TrainConfig> = {}): Trainer {
    const dir = o.checkpointDir ?? o.outDir;
    if (!dir) throw new InkwellError('resuming needs the run directory');
    // Recovery writes: only the run's one writer may do it.
    const lock = o.lock?.retain() ?? lockRun(o.outDir ?? dir);
    try {
      recover(dir);
      // The whole set as committed together: a model a step behind its optimizer and state is refused here.
      verifyManifest(dir);
      const config = { ...readState(dir).config, ...overrides };
      const trainer = new Trainer({ ...o, task: task(config), config });
      trainer.resumeFrom(dir);
      return trainer;
    } finally {
      lock.release();
    }
  }

  /** Loads optimizer slots, step, RNG, data position and carried state from `dir`. */
  private resumeFrom(dir: string): void {
    const state = readState(dir);
    const file = path.join(dir, OPTIMIZER_FILE);
    const { tensors, metadata } = decodeSafetensors(fs.readFileSync(file), file);
    if (metadata.step !== String(state.step)) throw new InkwellError(`${file} is from step ${metadata.step}, but ${STATE_FILE} says ${state.step}`);
    // Checkpoints older than the manifest: the weights' own step stamp.
    const weightsFile = path.join(dir, MODEL_FILE);
    const weightsStep = fs.existsSync(weightsFile) ? readSafetensorsHeader(weightsFile).metadata.step : undefined;
    if (weightsStep !== undefined && weightsStep !== String(state.step)) throw new InkwellError(`${weightsFile} is from step ${weightsStep}, but ${STATE_FILE} says ${state.step}`, 'the checkpoint is mixed; restore it or train again');
    const slots = new Map<string, Float32Array>();
    for (const [k, t] of tensors) (k.startsWith(CARRY_PREFIX) ? this.carry : slots).set(k.replace(CARRY_PREFIX, ''), t.data);
    this.optimizer.loadState(slots, state.step);
    this.task.restoreData(state.data, path.join(dir, STATE_FILE));
    this.rng.setState(state.rng);
    this.step = state.step;
    this.best = state.bestStep === null || state.bestValLoss === null ? null : { score: state.bestScore ?? state.bestValLoss, loss: state.bestValLoss, step: state.bestStep };
    this.evalsWithoutImprovement = state.evalsWithoutImprovement;
    this.elapsedBefore = state.elapsedSeconds;
    this.lastCheckpoint = state.step;
    // Keep the metrics of the steps this checkpoint covers; later lines belong to the lost tail of the old run.
    if (this.metrics) truncateMetrics(this.metrics.file, state.step);
    // Samples too (even when this run writes none: the dashboard must not show a lost tail's).
    if (this.o.outDir) truncateMetrics(path.join(this.o.outDir, SAMPLES_FILE), state.step);
  }

  /** Bytes held by the optimizer's slots (e.g. Adam's exp_avg and exp_avg_sq): frozen parameters have none. */
  get optimizerBytes(): number {
    let n = 0;
    for (const v of this.optimizer.state().values()) n += v.byteLength;
    return n;
  }

  get currentStep(): number {
    return this.step;
  }

  async run(): Promise<TrainResult> {
    const dir = this.o.outDir ?? this.o.checkpointDir;
    const lock = dir === undefined ? undefined : (this.o.lock?.retain() ?? lockRun(dir));
    try {
      return await this.loop();
    } finally {
      try {
        this.metrics?.close();
        this.samples?.close();
      } finally {
        lock?.release();
      }
    }
  }

  private async loop(): Promise<TrainResult> {
    const c = this.cfg;
    const task = this.task;
    const trainable = c.trainable ?? Object.keys(task.specs);
    const t0 = performance.now();
    let windowStart = performance.now();
    let windowTokens = 0;
    let lastLoss = NaN;
    let stoppedEarly = false;
    let lastVal: number | null = null;
    while (this.step < c.maxSteps && !stoppedEarly) {
      const lr = learningRate(c.schedule, this.step);
      let grads: Map<string, Float32Array> | undefined;
      let lossSum = 0;
      for (let micro = 0; micro < c.gradAccum; micro++) {
        const batch = task.next(this.step);
        if (batch.newEpoch) this.carry.clear();
        let out: Record<string, TypedArray>;
        try {
          const carry = task.carryState ? { carry: this.carry } : {};
          out = await this.runner.run(batch.key, batch.graph, batch.feeds, { ...carry, random: () => this.rng.float(), checkFinite: ['loss'] });
        } catch (err) {
          if (err instanceof NonFiniteError) throw this.divergedError('the loss or gradients', this.step + 1);
          throw err;
        }
        lossSum += (out.loss as Float32Array)[0]!;
        windowTokens += batch.tokens;
        if (!grads) {
          grads = new Map((batch.trainable ?? trainable).map((n) => [n, out[GRAD_PREFIX + n] as Float32Array]));
        } else {
          for (const [n, g] of grads) {
            const add = out[GRAD_PREFIX + n] as Float32Array;
            for (let i = 0; i < g.length; i++) g[i]! += add[i]!;
          }
        }
      }
      // The micro-batches' mean gradient, clipped: both scalings applied inside the optimizer's own pass.
      const norm = gradNorm(grads!) / c.gradAccum;
      if (!Number.isFinite(norm)) throw this.divergedError('the loss or gradients', this.step + 1);
      this.optimizer.step(task.weights, grads!, lr, clipCoefficient(norm, c.gradClip) / c.gradAccum);
      this.step++;
      lastLoss = lossSum / c.gradAccum;

      const last = this.step === c.maxSteps;
      if (this.step % c.logInterval === 0 || last) {
        const now = performance.now();
        const info: StepInfo = {
          step: this.step,
          loss: lastLoss,
          lr,
          gradNorm: norm,
          tokensPerSecond: windowTokens / ((now - windowStart) / 1000),
          elapsedSeconds: this.elapsedBefore + (now - t0) / 1000,
        };
        windowStart = now;
        windowTokens = 0;
        this.appendMetrics({ step: info.step, loss: info.loss, lr: info.lr, grad_norm: norm, tokens_per_s: info.tokensPerSecond, elapsed_s: info.elapsedSeconds });
        this.o.events?.onStep?.(info);
      }
      if (task.hasValidation && ((c.evalInterval > 0 && this.step % c.evalInterval === 0) || last)) {
        const e = await task.evaluate(this.runner);
        // Before anything of this step is kept: a NaN loss would otherwise count as a first "best".
        if (!Number.isFinite(e.loss) || !Number.isFinite(e.score)) throw this.divergedError('the validation loss', this.step);
        lastVal = e.loss;
        stoppedEarly = this.recordEvaluation(e);
        await this.writeSample();
      }
      const checkpointDir = this.o.checkpointDir ?? this.o.outDir;
      if (checkpointDir && (this.step % c.checkpointInterval === 0 || last || stoppedEarly)) {
        this.checkpoint(checkpointDir, this.elapsedBefore + (performance.now() - t0) / 1000);
      }
    }
    return {
      steps: this.step,
      finalTrainLoss: lastLoss,
      finalValLoss: lastVal,
      bestValLoss: this.best?.loss ?? null,
      bestStep: this.best?.step ?? null,
      stoppedEarly,
      seconds: (performance.now() - t0) / 1000,
    };
  }

  /** Best-model keeping and patience for one evaluation; true when the run should stop early. */
  private recordEvaluation(e: Evaluation): boolean {
    const improved = this.best === null || e.score < this.best.score;
    if (improved) {
      this.best = { score: e.score, loss: e.loss, step: this.step };
      this.evalsWithoutImprovement = 0;
      if (this.o.outDir) {
        this.checkFinite(false);
        this.task.saveBest(this.o.outDir);
      }
    } else {
      this.evalsWithoutImprovement++;
    }
    this.appendMetrics({ step: this.step, ...e.metrics, best_val_loss: this.best!.loss });
    this.o.events?.onEval?.({ step: this.step, valLoss: e.loss, bestValLoss: this.best!.loss, improved, metrics: e.metrics });
    return this.cfg.patience > 0 && this.evalsWithoutImprovement >= this.cfg.patience;
  }

  /** The sample after an evaluation, when asked for: to samples.jsonl and onSample. */
  private async writeSample(): Promise<void> {
    const o = this.o.samples;
    if (!o || !this.task.sample) return;
    const temperature = o.temperature ?? 0.8;
    const s = await this.task.sample({ maxNewTokens: o.maxNewTokens, prompt: o.prompt, temperature, seed: this.cfg.seed, threads: this.cfg.threads });
    this.samples?.append({ step: this.step, ...s, temperature, seed: this.cfg.seed });
    this.o.events?.onSample?.({ step: this.step, ...s });
  }

  /** The task's validation loss (for a language model: the mean over `evalBatches` batches, the same at every evaluation). */
  async evaluate(): Promise<number> {
    return (await this.task.evaluate(this.runner)).loss;
  }

  async release(): Promise<void> {
    await this.runner.release();
  }

  private checkpoint(dir: string, elapsedSeconds: number): void {
    this.checkFinite(true);
    const meta = { step: String(this.step) };
    const files = this.task.checkpointFiles(meta);
    const opt = new Map<string, NamedTensor>();
    for (const [k, v] of this.optimizer.state()) opt.set(k, { shape: [v.length], data: v });
    for (const [k, v] of this.carry) opt.set(CARRY_PREFIX + k, { shape: [v.length], data: v as Float32Array });
    files.set(OPTIMIZER_FILE, encodeSafetensors(opt, meta));
    const state: TrainerState = {
      version: 1,
      step: this.step,
      bestValLoss: this.best?.loss ?? null,
      bestScore: this.best?.score ?? null,
      bestStep: this.best?.step ?? null,
      evalsWithoutImprovement: this.evalsWithoutImprovement,
      data: this.task.dataState(),
      rng: this.rng.getState(),
      config: this.o.config,
      elapsedSeconds,
    };
    files.set(STATE_FILE, JSON.stringify(state, null, 2) + '\n');
    this.metrics?.sync();
    this.samples?.sync();
    try {
      writeFilesAtomically(dir, files);
    } catch (err) {
      if (err instanceof InkwellError) throw err;
      const previous = this.lastCheckpoint === null ? 'no earlier checkpoint was saved' : `the checkpoint of step ${this.lastCheckpoint} is intact`;
      throw new InkwellError(`cannot save the checkpoint of step ${this.step} in ${dir}: ${errorMessage(err)}; ${previous}`, 'free some space (or choose another --out) and resume');
    }
    this.lastCheckpoint = this.step;
    this.o.events?.onCheckpoint?.(this.step, dir);
  }

  private appendMetrics(record: Record<string, unknown>): void {
    this.metrics?.append(record);
  }

  /** Refuses to save weights (and, for a checkpoint, optimizer slots) that are not all finite: an update can overflow while its loss was finite. */
  private checkFinite(withOptimizer: boolean): void {
    const arrays = [...(this.cfg.trainable ?? Object.keys(this.task.specs)).map((n) => this.task.weights.get(n)!), ...(withOptimizer ? this.optimizer.state().values() : [])];
    for (const a of arrays) {
      for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i]!)) throw this.divergedError('the weights', this.step);
    }
  }

  private divergedError(what: string, step: number): InkwellError {
    const dir = this.o.checkpointDir ?? this.o.outDir;
    const where = !dir ? '' : this.lastCheckpoint === null ? '; nothing was saved (no checkpoint yet)' : `; the last good checkpoint is in ${dir} (step ${this.lastCheckpoint})`;
    return new InkwellError(`training diverged: ${what} became NaN/inf at step ${step}${where}`, 'lower the learning rate or enable --grad-clip');
  }
}

function languageModelTask(o: Pick<TrainerOptions, 'bundle' | 'train' | 'val'>, c: ResolvedConfig): LanguageModelTask {
  return new LanguageModelTask(o.bundle, o.train, o.val, { batchSize: c.batchSize, contextLength: c.contextLength, sampling: c.sampling, seed: c.seed, evalBatches: c.evalBatches, trainable: c.trainable });
}

type Optional = 'threads' | 'trainable' | 'lrScale';
type ResolvedConfig = Required<Omit<TrainConfig, Optional>> & Pick<TrainConfig, Optional>;

function withDefaults(c: TrainConfig): ResolvedConfig {
  const positive = (name: string, v: number) => {
    if (!(Number.isInteger(v) && v > 0)) throw new InkwellError(`${name} must be a positive integer, got ${v}`);
  };
  positive('maxSteps', c.maxSteps);
  positive('batchSize', c.batchSize);
  positive('contextLength', c.contextLength);
  return {
    gradAccum: 1,
    gradClip: 0,
    evalInterval: 0,
    evalBatches: 20,
    patience: 0,
    checkpointInterval: c.maxSteps,
    logInterval: 10,
    sampling: 'random',
    ...c,
  };
}

/** Step and planned length of the run checkpointed in `dir`. */
export function checkpointInfo(dir: string): { step: number; maxSteps: number } {
  const s = readState(dir);
  return { step: s.step, maxSteps: s.config.maxSteps };
}

function readState(dir: string): TrainerState {
  const file = path.join(dir, STATE_FILE);
  let text: string;
  try {
    // The committed state, even while a writer is mid-commit (readers never recover).
    text = readCommitted(dir, STATE_FILE).toString('utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new InkwellError(`no checkpoint to resume in ${dir} (missing ${STATE_FILE})`);
    throw new InkwellError(`cannot read ${file}: ${errorMessage(err)}`);
  }
  let s: TrainerState;
  try {
    s = JSON.parse(text) as TrainerState;
  } catch (err) {
    throw new InkwellError(`${file} is not valid JSON: ${errorMessage(err)}`);
  }
  checkTrainerState(s, file);
  return s;
}
