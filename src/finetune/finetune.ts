/**
 * Fine-tuning a language model on a new corpus: continue from a model
 * directory with a fresh optimizer and schedule, optionally freezing the
 * embeddings or the lowest layers, with layer-wise learning rates, or training
 * LoRA adapters only. Early stopping on the new corpus's validation split
 * guards against overfitting; the report also measures the original domain's
 * validation loss before and after, i.e. how much was forgotten.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Document } from '../corpus/corpus.js';
import { openTokenCacheSplit, prepareTokenCache } from '../dataset/token-cache.js';
import type { TokenSource } from '../dataset/token-source.js';
import { loadModel, saveModel, type ModelBundle } from '../io/model-dir.js';
import { lockRun, type RunLock } from '../io/run-lock.js';
import { writeSafetensors } from '../io/safetensors.js';
import { countParams, initWeights, type Weights } from '../nn/params.js';
import { pickSpecs } from '../models/scopes.js';
import { Trainer, type TrainConfig, type TrainerEvents, type TrainResult } from '../train/trainer.js';
import { InkwellError, errorMessage } from '../utils/errors.js';
import { makeDirs, writeFileAtomic, writeJsonAtomic } from '../utils/fs.js';
import { planLayers, type LayerPlan } from './layers.js';
import { LoraModel, type LoraConfig } from '../models/lora.js';
import { checkTrainingMemory } from '../train/memory.js';
import { stateNames } from '../models/lm.js';
import { CompiledStep } from '../runtime/step.js';
import { validationLoss } from '../train/validation.js';
import { checkOutsideFrom, claimRunDir, DATA_DIR, findRunData } from '../train/run-dir.js';
import { recover } from '../io/transaction.js';
import { loadTokenizer } from '../tokenizers/io.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import { adamWCosine, type AdamWRecipe } from '../train/run-spec.js';

export interface FinetuneOptions {
  /** The pretrained model directory (a run, its best/, or an imported Hugging Face GPT-2). */
  from: string;
  docs: readonly Document[];
  outDir: string;
  train: TrainConfig;
  /** Share of the new corpus held out for validation and early stopping. */
  valFraction?: number;
  layers?: LayerPlan;
  lora?: LoraConfig;
  /** With LoRA: also save the base model with the adapters folded in, as OUT/merged. */
  merge?: boolean;
  events?: TrainerEvents;
  onStage?: (stage: string) => void;
  /** The lock on `outDir` when the caller holds it. */
  lock?: RunLock;
}

export interface DomainLoss {
  before: number;
  after: number;
}

export interface FinetuneReport {
  from: string;
  method: 'full' | 'lora';
  parameters: { total: number; trainable: number; trainablePercent: number };
  optimizerBytes: number;
  result: TrainResult;
  /** Validation loss on the new corpus, before fine-tuning and for the best fine-tuned model. */
  newDomain: DomainLoss;
  /** The same on the original run's validation split (forgetting), when its token cache was found. */
  originalDomain: DomainLoss | null;
  originalData: string | null;
  outputs: { best: string; adapter?: string; merged?: string };
}

/** The knobs of a fine-tuning run; `finetuneConfig` turns them into the trainer's settings. */
export type FinetuneRecipe = Omit<AdamWRecipe, 'beta2' | 'checkpointInterval'> & { evalBatches: number };

/** What `inkwell finetune` does unless told otherwise. */
export const FINETUNE_DEFAULTS: Omit<FinetuneRecipe, 'threads'> = {
  steps: 500,
  // Well below a pretraining rate: the model is already good, and a high rate forgets it.
  lr: 3e-4,
  warmup: 50,
  batchSize: 16,
  context: 64,
  weightDecay: 0.01,
  gradClip: 1,
  // Frequent evaluations with a short patience: fine-tuning overfits a small corpus quickly.
  evalInterval: 50,
  evalBatches: 20,
  patience: 3,
  seed: 1337,
};

/** A fresh AdamW (β2 0.99, decoupled decay), warmup then cosine to lr/10 over the run; a checkpoint at each evaluation, for --resume. */
export function finetuneConfig(r: FinetuneRecipe): TrainConfig {
  return adamWCosine({ ...r, beta2: 0.99, checkpointInterval: r.evalInterval });
}

/** loadModel, with a missing directory reported against the --from flag. */
export function loadBase(from: string): ModelBundle {
  if (!fs.existsSync(from)) throw new InkwellError(`--from ${from} does not exist`, 'pass a trained model directory (a run, its best/, or a Hugging Face GPT-2 directory)');
  return loadModel(from, { keepWeights: true });
}

export async function finetune(o: FinetuneOptions & { force?: boolean }): Promise<FinetuneReport> {
  const base = loadBase(o.from);
  checkOutsideFrom(o.outDir, o.from);
  // One writer of OUT from its token cache to its report.
  const lock = o.lock?.retain() ?? lockRun(o.outDir);
  try {
    claimRunDir(o.outDir, o.force ?? false);
    return await finetuneLocked(o, base, lock);
  } finally {
    lock.release();
  }
}

/**
 * What a fine-tuning run needs besides its checkpoint to be resumed and
 * reported: the base it started from, the before-losses measured then (the
 * base is not re-scored), and the evaluation settings. Saved as OUT/finetune_run.json.
 */
interface FinetuneRun {
  from: string;
  method: 'full' | 'lora';
  merge: boolean;
  parameters: FinetuneReport['parameters'];
  newBefore: number;
  /** null: no original-domain token cache was found beside the base. */
  origBefore: number | null;
  originalData: string | null;
  eval: { batchSize: number; contextLength: number; batches: number };
}
export const FINETUNE_RUN_FILE = 'finetune_run.json';

async function finetuneLocked(o: FinetuneOptions, base: ModelBundle, lock: RunLock): Promise<FinetuneReport> {
  const stage = o.onStage ?? (() => {});
  const cfg = o.train;
  const context = base.model.contextLength;
  if (context !== null && cfg.contextLength > context) {
    throw new InkwellError(`--context ${cfg.contextLength} exceeds the context of ${o.from} (${context})`);
  }
  makeDirs(o.outDir);
  stage(`encoding ${o.docs.length} document(s) with the tokenizer of ${o.from}`);
  const dataDir = path.join(o.outDir, DATA_DIR);
  prepareTokenCache(o.docs, base.tokenizer, dataDir, { valFraction: o.valFraction ?? 0.1, seed: cfg.seed });
  const data = openData(o.outDir, base.tokenizer, findRunData(o.from));
  if (data.val.length <= cfg.contextLength) throw new InkwellError(`the validation split of the new corpus has only ${data.val.length} tokens`, 'raise --val-fraction or add text');

  checkTrainingMemory(base.model, cfg.batchSize, cfg.contextLength);
  const bundle = o.lora ? withLora(base, o.lora, cfg.seed) : { model: base.model, weights: base.weights, tokenizer: base.tokenizer };
  const names = o.lora ? (bundle.model as LoraModel).adapterNames : Object.keys(bundle.model.specs);
  const plan = planLayers(names, base.model.numLayers, o.layers ?? {});
  const trainable = plan.trainable.length === Object.keys(bundle.model.specs).length ? undefined : plan.trainable;
  const config: TrainConfig = { ...cfg, trainable, lrScale: Object.keys(plan.lrScale).length ? plan.lrScale : undefined };

  const evalOpts = { batchSize: cfg.batchSize, contextLength: cfg.contextLength, batches: cfg.evalBatches ?? 20 };
  stage('measuring validation loss before fine-tuning');
  const [newBefore, origBefore] = await losses(bundle, [data.val, data.original], evalOpts, cfg.threads);
  const total = countParams(bundle.model.specs);
  const nTrainable = countParams(trainable ? pickSpecs(bundle.model.specs, trainable) : bundle.model.specs);
  const run: FinetuneRun = {
    from: o.from,
    method: o.lora ? 'lora' : 'full',
    merge: o.merge ?? false,
    parameters: { total, trainable: nTrainable, trainablePercent: (100 * nTrainable) / total },
    newBefore: newBefore!,
    origBefore: data.original ? origBefore! : null,
    originalData: data.originalData,
    eval: evalOpts,
  };
  writeJsonAtomic(path.join(o.outDir, FINETUNE_RUN_FILE), run);
  const trainer = new Trainer({ bundle, train: data.train, val: data.val, config, outDir: o.outDir, events: o.events, lock });
  return finish(o.outDir, run, data, trainer, stage, cfg.threads);
}

/**
 * Continues the fine-tuning run in `outDir` from its last checkpoint (same
 * weights, optimizer, step, data order and RNG), then reports as an
 * uninterrupted run would.
 */
export async function resumeFinetune(outDir: string, o: Pick<FinetuneOptions, 'events' | 'onStage'> & { threads?: number } = {}): Promise<FinetuneReport> {
  const lock = lockRun(outDir);
  try {
    // Under the lock: finish or roll back a commit the killed run left, before reading anything.
    recover(outDir);
    const run = readFinetuneRun(outDir);
    if (!fs.existsSync(path.join(outDir, 'trainer_state.json'))) {
      throw new InkwellError(`--resume ${outDir}: the run stopped before its first checkpoint`, `start it again with the same command and --force`);
    }
    const data = openData(outDir, loadTokenizer(outDir), run.originalData);
    const trainer = Trainer.resume(outDir, { train: data.train, val: data.val }, o.events, o.threads === undefined ? {} : { threads: o.threads }, lock);
    return await finish(outDir, run, data, trainer, o.onStage ?? (() => {}), o.threads);
  } finally {
    lock.release();
  }
}

interface FinetuneData {
  train: TokenSource;
  val: TokenSource;
  /** The base run's validation split, for the forgetting measurement. */
  original: TokenSource | null;
  originalData: string | null;
}

function openData(outDir: string, tokenizer: Tokenizer, originalData: string | null): FinetuneData {
  const dataDir = path.join(outDir, DATA_DIR);
  return {
    train: openTokenCacheSplit(dataDir, 'train', tokenizer),
    val: openTokenCacheSplit(dataDir, 'val', tokenizer),
    original: originalData && fs.existsSync(path.join(originalData, 'meta.json')) ? openTokenCacheSplit(originalData, 'val', tokenizer) : null,
    originalData,
  };
}

/** The trainer's validation loss on each source (NaN where there is none). */
async function losses(b: ModelBundle, sources: Array<TokenSource | null>, evalOpts: FinetuneRun['eval'], threads: number | undefined): Promise<number[]> {
  const step = new CompiledStep({ weights: b.weights, state: stateNames(b.model), threads });
  try {
    const out: number[] = [];
    for (const s of sources) out.push(s ? await validationLoss(step, b.model, s, evalOpts) : NaN);
    return out;
  } finally {
    await step.release();
  }
}

/** Trains to the end, scores the best model on both domains, writes the adapter (LoRA) and the report. */
async function finish(outDir: string, run: FinetuneRun, data: FinetuneData, trainer: Trainer, stage: (s: string) => void, threads: number | undefined): Promise<FinetuneReport> {
  let result: TrainResult;
  try {
    result = await trainer.run();
  } finally {
    await trainer.release();
  }
  const bestDir = path.join(outDir, 'best');
  const best = loadModel(bestDir, { keepWeights: true });
  stage('measuring validation loss of the best model');
  const [newAfter, origAfter] = await losses(best, [data.val, data.original], run.eval, threads);

  const outputs: FinetuneReport['outputs'] = { best: bestDir };
  if (best.model instanceof LoraModel) {
    outputs.adapter = path.join(outDir, 'adapter');
    makeDirs(outputs.adapter);
    writeSafetensors(path.join(outputs.adapter, 'adapter_model.safetensors'), best.model.adapterTensors(best.weights), { format: 'pt' });
    writeJsonAtomic(path.join(outputs.adapter, 'adapter_config.json'), best.model.adapterConfig(path.resolve(run.from)));
    if (run.merge) {
      outputs.merged = path.join(outDir, 'merged');
      saveModel(outputs.merged, { model: best.model.base, weights: best.model.merge(best.weights), tokenizer: best.tokenizer });
    }
  }
  const report: FinetuneReport = {
    from: run.from,
    method: run.method,
    parameters: run.parameters,
    optimizerBytes: trainer.optimizerBytes,
    result,
    newDomain: { before: run.newBefore, after: newAfter! },
    originalDomain: data.original && run.origBefore !== null ? { before: run.origBefore, after: origAfter! } : null,
    originalData: run.originalData,
    outputs,
  };
  for (const s of [data.train, data.val, data.original]) s?.close();
  writeJsonAtomic(path.join(outDir, 'finetune_report.json'), report);
  writeFileAtomic(path.join(outDir, 'finetune_report.md'), reportMarkdown(report));
  return report;
}

/** OUT/finetune_run.json, every field checked (a hand-edited or truncated file is named, not trusted). */
function readFinetuneRun(outDir: string): FinetuneRun {
  const file = path.join(outDir, FINETUNE_RUN_FILE);
  if (!fs.existsSync(file)) throw new InkwellError(`--resume ${outDir}: no fine-tuning run there (missing ${FINETUNE_RUN_FILE})`, 'pass the --out directory of an inkwell finetune run');
  let v: Record<string, unknown>;
  try {
    v = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new InkwellError(`cannot read ${file}: ${errorMessage(err)}`, 'the file is damaged; start the run again with --force');
  }
  const bad = (field: string): never => {
    throw new InkwellError(`${file}: field '${field}' is missing or invalid`, 'the file is damaged; start the run again with --force');
  };
  if (!v || typeof v !== 'object' || Array.isArray(v)) bad('(root)');
  const finite = (x: unknown) => typeof x === 'number' && Number.isFinite(x);
  const posInt = (x: unknown) => Number.isInteger(x) && (x as number) > 0;
  if (typeof v.from !== 'string' || v.from === '') bad('from');
  if (v.method !== 'full' && v.method !== 'lora') bad('method');
  if (typeof v.merge !== 'boolean') bad('merge');
  const p = v.parameters as Record<string, unknown> | null;
  if (!p || typeof p !== 'object' || !posInt(p.total) || !Number.isInteger(p.trainable) || !finite(p.trainablePercent)) bad('parameters');
  if (!finite(v.newBefore)) bad('newBefore');
  if (v.origBefore !== null && !finite(v.origBefore)) bad('origBefore');
  if (v.originalData !== null && typeof v.originalData !== 'string') bad('originalData');
  const e = v.eval as Record<string, unknown> | null;
  if (!e || typeof e !== 'object' || !posInt(e.batchSize) || !posInt(e.contextLength) || !posInt(e.batches)) bad('eval');
  return v as unknown as FinetuneRun;
}

/** The base weights plus freshly initialised adapters (B = 0: the model starts exactly at the base). */
function withLora(base: ModelBundle, lora: LoraConfig, seed: number): ModelBundle {
  const model = new LoraModel(base.model, lora);
  const adapters = initWeights(pickSpecs(model.specs, model.adapterNames), seed);
  const weights: Weights = new Map([...base.weights, ...adapters]);
  return { model, weights, tokenizer: base.tokenizer };
}

export function reportMarkdown(r: FinetuneReport): string {
  const f = (x: number) => (Number.isFinite(x) ? x.toFixed(4) : '–');
  const mib = (b: number) => `${(b / 2 ** 20).toFixed(2)} MiB`;
  const lines = [
    `# Fine-tuning report`,
    '',
    `From \`${r.from}\`, ${r.method === 'lora' ? 'LoRA adapters' : 'full fine-tuning'}: ${r.parameters.trainable.toLocaleString('en-US')} of ${r.parameters.total.toLocaleString('en-US')} parameters trained (${r.parameters.trainablePercent.toFixed(2)}%), optimizer state ${mib(r.optimizerBytes)}.`,
    '',
    `${r.result.steps} steps in ${r.result.seconds.toFixed(1)} s${r.result.stoppedEarly ? ' (stopped early)' : ''}; best validation loss at step ${r.result.bestStep ?? '–'}.`,
    '',
    '| validation loss | before | after (best) |',
    '|---|---|---|',
    `| new domain | ${f(r.newDomain.before)} | ${f(r.newDomain.after)} |`,
    r.originalDomain
      ? `| original domain (forgetting) | ${f(r.originalDomain.before)} | ${f(r.originalDomain.after)} |`
      : '| original domain | no token cache found next to the base model | |',
    '',
  ];
  return lines.join('\n');
}
