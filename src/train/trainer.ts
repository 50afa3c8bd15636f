/**
 * The training loop: batches → compiled train step (loss + gradients in one ORT
 * run) → gradient accumulation, clipping and the optimizer in JS → periodic
 * evaluation, best-model keeping, early stopping and atomic checkpoints that
 * resume exactly (weights, optimizer slots, step, RNG, data position and any
 * carried recurrent state).
 */
import fs from 'node:fs';
import path from 'node:path';
import { WindowBatcher, type BatcherState, type SamplingMode } from '../data/batches.js';
import type { TokenSource } from '../data/token-source.js';
import { loadModel, modelFiles, saveModel, type ModelBundle } from '../io/model-dir.js';
import { decodeSafetensors, encodeSafetensors, type NamedTensor } from '../io/safetensors.js';
import { recover, writeFilesAtomically } from '../io/transaction.js';
import { buildTrainGraph, GRAD_PREFIX, stateNames } from '../models/lm.js';
import { NonFiniteError, type TypedArray } from '../runtime/session.js';
import { CompiledStep } from '../runtime/step.js';
import { pickSpecs, trainableView } from '../models/scopes.js';
import { InkwellError, errorMessage } from '../utils/errors.js';
import { Rng } from '../utils/rng.js';
import { clipGradNorm, createOptimizer, type Optimizer, type OptimizerConfig } from './optimizers.js';
import { learningRate, type ScheduleConfig } from './schedule.js';
import { BEST_DIR } from './run-dir.js';
import { validationLoss } from './validation.js';

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
  bestValLoss: number;
  improved: boolean;
}

export interface TrainerEvents {
  onStep?(info: StepInfo): void;
  onEval?(info: EvalInfo): void;
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
  bestValLoss: number | null;
  bestStep: number | null;
  evalsWithoutImprovement: number;
  data: BatcherState;
  rng: number[];
  config: TrainConfig;
  elapsedSeconds: number;
}

const STATE_FILE = 'trainer_state.json';
const OPTIMIZER_FILE = 'optimizer.safetensors';
const METRICS_FILE = 'metrics.jsonl';
/** Carried recurrent state is checkpointed beside the optimizer slots under this prefix. */
const CARRY_PREFIX = 'carry.';

export interface TrainerOptions {
  bundle: ModelBundle;
  train: TokenSource;
  val?: TokenSource;
  config: TrainConfig;
  /** Where checkpoints, the best model and metrics.jsonl go; nothing is written without it. */
  outDir?: string;
  events?: TrainerEvents;
}

export class Trainer {
  private readonly cfg: ResolvedConfig;
  private readonly batcher: WindowBatcher;
  private readonly optimizer: Optimizer;
  private readonly rng: Rng;
  private step = 0;
  private bestValLoss: number | null = null;
  private bestStep: number | null = null;
  private evalsWithoutImprovement = 0;
  private elapsedBefore = 0;
  private carry = new Map<string, TypedArray>();
  /** Train and eval graphs, compiled once, fed the bundle's weights (updated in place by the optimizer). */
  private readonly runner: CompiledStep;

  constructor(private readonly o: TrainerOptions) {
    this.cfg = withDefaults(o.config);
    this.batcher = new WindowBatcher(o.train, { batchSize: this.cfg.batchSize, contextLength: this.cfg.contextLength, mode: this.cfg.sampling, seed: this.cfg.seed });
    const specs = this.cfg.trainable ? pickSpecs(o.bundle.model.specs, this.cfg.trainable) : o.bundle.model.specs;
    this.optimizer = createOptimizer(this.cfg.optimizer, specs, this.cfg.lrScale);
    this.rng = new Rng(`${this.cfg.seed}:dropout`);
    this.runner = new CompiledStep({ weights: o.bundle.weights, state: stateNames(o.bundle.model), threads: this.cfg.threads });
  }

  /**
   * Continues the run saved in `outDir` exactly where its last checkpoint left
   * it: same weights, optimizer slots, step, RNG and data order. `overrides`
   * may extend the run (e.g. a larger maxSteps).
   */
  static resume(outDir: string, data: { train: TokenSource; val?: TokenSource }, events?: TrainerEvents, overrides: Partial<TrainConfig> = {}): Trainer {
    recover(outDir);
    const state = readState(outDir);
    const trainer = new Trainer({ bundle: loadModel(outDir), ...data, config: { ...state.config, ...overrides }, outDir, events });
    trainer.resumeFrom(outDir);
    return trainer;
  }

  /** Loads optimizer slots, step, RNG, data position and carried state from `outDir`. */
  private resumeFrom(outDir: string): void {
    const state = readState(outDir);
    const file = path.join(outDir, OPTIMIZER_FILE);
    const { tensors, metadata } = decodeSafetensors(fs.readFileSync(file), file);
    if (metadata.step !== String(state.step)) throw new InkwellError(`${file} is from step ${metadata.step}, but ${STATE_FILE} says ${state.step}`);
    const slots = new Map<string, Float32Array>();
    for (const [k, t] of tensors) (k.startsWith(CARRY_PREFIX) ? this.carry : slots).set(k.replace(CARRY_PREFIX, ''), t.data);
    this.optimizer.loadState(slots, state.step);
    this.batcher.restore(state.data);
    this.rng.setState(state.rng);
    this.step = state.step;
    this.bestValLoss = state.bestValLoss;
    this.bestStep = state.bestStep;
    this.evalsWithoutImprovement = state.evalsWithoutImprovement;
    this.elapsedBefore = state.elapsedSeconds;
    // Keep the metrics of the steps this checkpoint covers; later lines belong to the lost tail of the old run.
    const metrics = path.join(outDir, METRICS_FILE);
    if (fs.existsSync(metrics)) {
      const kept = fs.readFileSync(metrics, 'utf8').split('\n').filter((l) => l && (JSON.parse(l) as { step: number }).step <= state.step);
      fs.writeFileSync(metrics, kept.map((l) => l + '\n').join(''));
    }
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
    const { model: full, weights } = this.o.bundle;
    const c = this.cfg;
    const model = c.trainable ? trainableView(full, c.trainable) : full;
    const trainGraph = () => buildTrainGraph(model, c.batchSize, c.contextLength);

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
        const batch = this.batcher.next();
        if (batch.newEpoch) this.carry.clear();
        let out: Record<string, TypedArray>;
        try {
          out = await this.runner.run('train', trainGraph, { ids: batch.x, targets: batch.y }, { carry: this.carry, random: () => this.rng.float(), checkFinite: ['loss'] });
        } catch (err) {
          if (err instanceof NonFiniteError) throw this.divergedError();
          throw err;
        }
        lossSum += (out.loss as Float32Array)[0]!;
        if (!grads) {
          grads = new Map(Object.keys(model.specs).map((n) => [n, out[GRAD_PREFIX + n] as Float32Array]));
        } else {
          for (const [n, g] of grads) {
            const add = out[GRAD_PREFIX + n] as Float32Array;
            for (let i = 0; i < g.length; i++) g[i]! += add[i]!;
          }
        }
      }
      if (c.gradAccum > 1) for (const g of grads!.values()) for (let i = 0; i < g.length; i++) g[i]! /= c.gradAccum;
      const gradNorm = clipGradNorm(grads!, c.gradClip);
      if (!Number.isFinite(gradNorm)) throw this.divergedError();
      this.optimizer.step(weights, grads!, lr);
      this.step++;
      lastLoss = lossSum / c.gradAccum;
      windowTokens += c.batchSize * c.contextLength * c.gradAccum;

      const last = this.step === c.maxSteps;
      if (this.step % c.logInterval === 0 || last) {
        const now = performance.now();
        const info: StepInfo = {
          step: this.step,
          loss: lastLoss,
          lr,
          gradNorm,
          tokensPerSecond: windowTokens / ((now - windowStart) / 1000),
          elapsedSeconds: this.elapsedBefore + (now - t0) / 1000,
        };
        windowStart = now;
        windowTokens = 0;
        this.appendMetrics({ step: info.step, loss: info.loss, lr: info.lr, grad_norm: gradNorm, tokens_per_s: info.tokensPerSecond, elapsed_s: info.elapsedSeconds });
        this.o.events?.onStep?.(info);
      }
      if (this.o.val && ((c.evalInterval > 0 && this.step % c.evalInterval === 0) || last)) {
        lastVal = await this.evaluate();
        const improved = this.bestValLoss === null || lastVal < this.bestValLoss;
        if (improved) {
          this.bestValLoss = lastVal;
          this.bestStep = this.step;
          this.evalsWithoutImprovement = 0;
          if (this.o.outDir) saveModel(path.join(this.o.outDir, BEST_DIR), this.o.bundle);
        } else {
          this.evalsWithoutImprovement++;
        }
        this.appendMetrics({ step: this.step, val_loss: lastVal, best_val_loss: this.bestValLoss });
        this.o.events?.onEval?.({ step: this.step, valLoss: lastVal, bestValLoss: this.bestValLoss!, improved });
        stoppedEarly = c.patience > 0 && this.evalsWithoutImprovement >= c.patience;
      }
      if (this.o.outDir && (this.step % c.checkpointInterval === 0 || last || stoppedEarly)) {
        this.checkpoint(this.elapsedBefore + (performance.now() - t0) / 1000);
      }
    }
    return {
      steps: this.step,
      finalTrainLoss: lastLoss,
      finalValLoss: lastVal,
      bestValLoss: this.bestValLoss,
      bestStep: this.bestStep,
      stoppedEarly,
      seconds: (performance.now() - t0) / 1000,
    };
  }

  /** Mean loss over `evalBatches` validation batches; the same batches at every evaluation, so numbers compare. */
  async evaluate(): Promise<number> {
    const c = this.cfg;
    if (!this.o.val) throw new InkwellError('no validation data was given');
    return validationLoss(this.runner, this.o.bundle.model, this.o.val, { batchSize: c.batchSize, contextLength: c.contextLength, batches: c.evalBatches });
  }

  async release(): Promise<void> {
    await this.runner.release();
  }

  private checkpoint(elapsedSeconds: number): void {
    const dir = this.o.outDir!;
    const meta = { step: String(this.step) };
    const files = modelFiles(this.o.bundle, meta);
    const opt = new Map<string, NamedTensor>();
    for (const [k, v] of this.optimizer.state()) opt.set(k, { shape: [v.length], data: v });
    for (const [k, v] of this.carry) opt.set(CARRY_PREFIX + k, { shape: [v.length], data: v as Float32Array });
    files.set(OPTIMIZER_FILE, encodeSafetensors(opt, meta));
    const state: TrainerState = {
      version: 1,
      step: this.step,
      bestValLoss: this.bestValLoss,
      bestStep: this.bestStep,
      evalsWithoutImprovement: this.evalsWithoutImprovement,
      data: this.batcher.state(),
      rng: this.rng.getState(),
      config: this.o.config,
      elapsedSeconds,
    };
    files.set(STATE_FILE, JSON.stringify(state, null, 2) + '\n');
    writeFilesAtomically(dir, files);
    this.o.events?.onCheckpoint?.(this.step, dir);
  }

  private appendMetrics(record: Record<string, unknown>): void {
    if (this.o.outDir) {
      fs.mkdirSync(this.o.outDir, { recursive: true });
      fs.appendFileSync(path.join(this.o.outDir, METRICS_FILE), JSON.stringify(record) + '\n');
    }
  }

  private divergedError(): InkwellError {
    const where = this.o.outDir ? `; the last good checkpoint is in ${this.o.outDir}` : '';
    return new InkwellError(`training diverged: the loss or gradients became NaN/inf at step ${this.step + 1}${where}`, 'lower the learning rate or enable --grad-clip');
  }
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

/** Step and planned length of the run checkpointed in `outDir`. */
export function checkpointInfo(outDir: string): { step: number; maxSteps: number } {
  recover(outDir);
  const s = readState(outDir);
  return { step: s.step, maxSteps: s.config.maxSteps };
}

function readState(outDir: string): TrainerState {
  const file = path.join(outDir, STATE_FILE);
  if (!fs.existsSync(file)) throw new InkwellError(`no checkpoint to resume in ${outDir} (missing ${STATE_FILE})`);
  let s: TrainerState;
  try {
    s = JSON.parse(fs.readFileSync(file, 'utf8')) as TrainerState;
  } catch (err) {
    throw new InkwellError(`${file} is not valid JSON: ${errorMessage(err)}`);
  }
  if (s.version !== 1 || !Number.isInteger(s.step) || !s.data || !Array.isArray(s.rng) || !s.config) throw new InkwellError(`${file} is not an inkwell trainer state`);
  return s;
}
