/**
 * Training inside a browser tab (and, for the benchmark, in Node): one
 * compiled train-step graph (loss and every gradient, run by onnxruntime-web
 * or onnxruntime-node), gradient clipping and the optimizer update in
 * JavaScript, as src/train/trainer.ts does, with the whole state kept in
 * memory and snapshotted as plain data (for IndexedDB) instead of files.
 */
import { WindowBatcher, type BatcherState } from '../../../src/dataset/batches.js';
import { tokenSourceFromIds } from '../../../src/dataset/memory-source.js';
import { bundleFromFiles, modelFiles, type ModelBundle } from '../../../src/io/model-files.js';
import { decodeSafetensors, encodeSafetensors, type NamedTensor } from '../../../src/io/safetensors-codec.js';
import { buildTrainGraph, GRAD_PREFIX, stateNames } from '../../../src/models/lm.js';
import { initWeights } from '../../../src/nn/params.js';
import type { TypedArray } from '../../../src/runtime/session.js';
import { CompiledStep } from '../../../src/runtime/step.js';
import { trainWordLevel } from '../../../src/tokenizers/word-level.js';
import { clipGradNorm, createOptimizer, type Optimizer } from '../../../src/train/optimizers.js';
import { learningRate } from '../../../src/train/schedule.js';
import { InkwellError } from '../../../src/utils/errors.js';
import { Rng } from '../../../src/utils/rng.js';
import { createRecipeModel, recipe, type Recipe } from './recipes.js';

export interface StepResult {
  step: number;
  loss: number;
  lr: number;
  gradNorm: number;
  /** Wall time of this step: graph run, clipping and update. */
  ms: number;
}

/** Everything needed to continue a run exactly: structured-clonable, so IndexedDB and postMessage take it as it is. */
export interface TrainSnapshot {
  readonly version: 1;
  readonly recipe: string;
  readonly text: string;
  readonly seed: number;
  readonly step: number;
  /** [step, loss] of every step so far (the curve to redraw). */
  readonly losses: ReadonlyArray<readonly [number, number]>;
  /** The saved model's files (config.json, model.safetensors, tokenizer.json, …). */
  readonly files: ReadonlyMap<string, Uint8Array | string>;
  /** Optimizer slots and carried recurrent state, as safetensors. */
  readonly optimizer: Uint8Array;
  readonly data: BatcherState;
  readonly rng: readonly number[];
}

const CARRY_PREFIX = 'carry.';
const TRAIN_KEY = 'train';

export class StepTrainer {
  private step = 0;
  private readonly losses: [number, number][] = [];
  private readonly carry = new Map<string, TypedArray>();

  private constructor(
    readonly recipeName: string,
    private readonly r: Recipe,
    readonly text: string,
    private readonly seed: number,
    readonly bundle: ModelBundle,
    private readonly batcher: WindowBatcher,
    private readonly optimizer: Optimizer,
    private readonly rng: Rng,
    private readonly graph: CompiledStep,
  ) {}

  /** A new model of `recipeName` over the characters of `text`. */
  static async create(recipeName: string, text: string, opts: { seed?: number; threads?: number } = {}): Promise<StepTrainer> {
    const r = recipe(recipeName);
    const seed = opts.seed ?? 1;
    const tokenizer = trainWordLevel([text], 'char', { specialTokens: [] });
    const model = createRecipeModel(r.model, tokenizer.vocabSize);
    return StepTrainer.open(recipeName, r, text, seed, { model, weights: initWeights(model.specs, seed), tokenizer }, opts.threads);
  }

  /** Continues the run a snapshot holds, at its step, with its optimizer state, data position and RNG. */
  static async restore(s: TrainSnapshot, opts: { threads?: number } = {}): Promise<StepTrainer> {
    if (s.version !== 1) throw new InkwellError(`saved training state has version ${String(s.version)}; this page reads version 1`, 'start a new model');
    const t = await StepTrainer.open(s.recipe, recipe(s.recipe), s.text, s.seed, bundleFromFiles(s.files, 'the saved model'), opts.threads);
    const slots = new Map<string, Float32Array>();
    for (const [k, v] of decodeSafetensors(s.optimizer, 'the saved optimizer state').tensors) (k.startsWith(CARRY_PREFIX) ? t.carry : slots).set(k.replace(CARRY_PREFIX, ''), v.data);
    t.optimizer.loadState(slots, s.step);
    t.batcher.restore(s.data);
    t.rng.setState(s.rng);
    t.step = s.step;
    t.losses.push(...s.losses.map(([a, b]) => [a, b] as [number, number]));
    return t;
  }

  private static async open(name: string, r: Recipe, text: string, seed: number, bundle: ModelBundle, threads: number | undefined): Promise<StepTrainer> {
    const ids = bundle.tokenizer.encode(text);
    const minChars = r.batchSize * (r.contextLength + 1) + 1;
    if (ids.length < minChars) throw new InkwellError(`the text has ${ids.length} characters; this model needs at least ${minChars}`, 'paste a longer text');
    const batcher = new WindowBatcher(tokenSourceFromIds(ids), { batchSize: r.batchSize, contextLength: r.contextLength, mode: r.sampling, seed });
    // The one compiled step every workflow runs: weights, carried state and the batch in.
    const compiled = new CompiledStep({ weights: bundle.weights, state: stateNames(bundle.model), threads });
    await compiled.prepare(TRAIN_KEY, () => buildTrainGraph(bundle.model, r.batchSize, r.contextLength));
    return new StepTrainer(name, r, text, seed, bundle, batcher, createOptimizer(r.optimizer, bundle.model.specs), new Rng(`${seed}:dropout`), compiled);
  }

  get currentStep(): number {
    return this.step;
  }

  get lossHistory(): ReadonlyArray<readonly [number, number]> {
    return this.losses;
  }

  /** One optimizer step on the next batch. */
  async next(): Promise<StepResult> {
    const t0 = performance.now();
    const { model, weights } = this.bundle;
    const lr = learningRate(this.r.schedule, this.step);
    const batch = this.batcher.next();
    if (batch.newEpoch) this.carry.clear();
    const out = await this.graph.run(TRAIN_KEY, () => buildTrainGraph(model, this.r.batchSize, this.r.contextLength), { ids: batch.x, targets: batch.y }, { carry: this.carry, random: () => this.rng.float(), checkFinite: ['loss'] });
    const grads = new Map(Object.keys(model.specs).map((n) => [n, out[GRAD_PREFIX + n] as Float32Array]));
    const gradNorm = clipGradNorm(grads, this.r.gradClip);
    if (!Number.isFinite(gradNorm)) throw new InkwellError(`training diverged at step ${this.step + 1}: the gradients are not finite`, 'start over with another seed');
    this.optimizer.step(weights, grads, lr);
    this.step++;
    const loss = (out.loss as Float32Array)[0]!;
    this.losses.push([this.step, loss]);
    return { step: this.step, loss, lr, gradNorm, ms: performance.now() - t0 };
  }

  snapshot(): TrainSnapshot {
    const opt = new Map<string, NamedTensor>();
    for (const [k, v] of this.optimizer.state()) opt.set(k, { shape: [v.length], data: v });
    for (const [k, v] of this.carry) opt.set(CARRY_PREFIX + k, { shape: [v.length], data: v as Float32Array });
    return {
      version: 1,
      recipe: this.recipeName,
      text: this.text,
      seed: this.seed,
      step: this.step,
      losses: this.losses.map(([a, b]) => [a, b] as const),
      files: modelFiles(this.bundle, { step: String(this.step) }),
      optimizer: encodeSafetensors(opt),
      data: this.batcher.state(),
      rng: this.rng.getState(),
    };
  }

  async release(): Promise<void> {
    await this.graph.release();
  }
}
