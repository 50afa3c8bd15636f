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
import { InkwellError } from '../utils/errors.js';
import { makeDirs, writeFileAtomic, writeJsonAtomic } from '../utils/fs.js';
import { planLayers, type LayerPlan } from './layers.js';
import { LoraModel, type LoraConfig } from '../models/lora.js';
import { checkTrainingMemory } from '../train/memory.js';
import { stateNames } from '../models/lm.js';
import { CompiledStep } from '../runtime/step.js';
import { validationLoss } from '../train/validation.js';
import { checkOutsideFrom, DATA_DIR, findRunData } from '../train/run-dir.js';
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

/** A fresh AdamW (β2 0.99, decoupled decay), warmup then cosine to lr/10 over the run, one checkpoint at the end. */
export function finetuneConfig(r: FinetuneRecipe): TrainConfig {
  return adamWCosine({ ...r, beta2: 0.99, checkpointInterval: r.steps });
}

/** loadModel, with a missing directory reported against the --from flag. */
export function loadBase(from: string): ModelBundle {
  if (!fs.existsSync(from)) throw new InkwellError(`--from ${from} does not exist`, 'pass a trained model directory (a run, its best/, or a Hugging Face GPT-2 directory)');
  return loadModel(from);
}

export async function finetune(o: FinetuneOptions): Promise<FinetuneReport> {
  const base = loadBase(o.from);
  checkOutsideFrom(o.outDir, o.from);
  // One writer of OUT from its token cache to its report.
  const lock = o.lock?.retain() ?? lockRun(o.outDir);
  try {
    return await finetuneLocked(o, base, lock);
  } finally {
    lock.release();
  }
}

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
  const train = openTokenCacheSplit(dataDir, 'train', base.tokenizer);
  const val = openTokenCacheSplit(dataDir, 'val', base.tokenizer);
  if (val.length <= cfg.contextLength) throw new InkwellError(`the validation split of the new corpus has only ${val.length} tokens`, 'raise --val-fraction or add text');
  const originalData = findRunData(o.from);
  const original = originalData ? openTokenCacheSplit(originalData, 'val', base.tokenizer) : null;

  checkTrainingMemory(base.model, cfg.batchSize, cfg.contextLength);
  const bundle = o.lora ? withLora(base, o.lora, cfg.seed) : { model: base.model, weights: base.weights, tokenizer: base.tokenizer };
  const names = o.lora ? (bundle.model as LoraModel).adapterNames : Object.keys(bundle.model.specs);
  const plan = planLayers(names, base.model.numLayers, o.layers ?? {});
  const trainable = plan.trainable.length === Object.keys(bundle.model.specs).length ? undefined : plan.trainable;
  const config: TrainConfig = { ...cfg, trainable, lrScale: Object.keys(plan.lrScale).length ? plan.lrScale : undefined };

  const evalOpts = { batchSize: cfg.batchSize, contextLength: cfg.contextLength, batches: cfg.evalBatches ?? 20 };
  // The trainer's validation loss, on each source (NaN where there is none).
  const losses = async (b: ModelBundle, sources: Array<TokenSource | null>): Promise<number[]> => {
    const step = new CompiledStep({ weights: b.weights, state: stateNames(b.model), threads: cfg.threads });
    try {
      const out: number[] = [];
      for (const s of sources) out.push(s ? await validationLoss(step, b.model, s, evalOpts) : NaN);
      return out;
    } finally {
      await step.release();
    }
  };
  stage('measuring validation loss before fine-tuning');
  const [newBefore, origBefore] = await losses(bundle, [val, original]);

  const trainer = new Trainer({ bundle, train, val, config, outDir: o.outDir, events: o.events, lock });
  let result: TrainResult;
  try {
    result = await trainer.run();
  } finally {
    await trainer.release();
  }
  const bestDir = path.join(o.outDir, 'best');
  const best = loadModel(bestDir);
  stage('measuring validation loss of the best model');
  const [newAfter, origAfter] = await losses(best, [val, original]);

  const outputs: FinetuneReport['outputs'] = { best: bestDir };
  if (best.model instanceof LoraModel) {
    outputs.adapter = path.join(o.outDir, 'adapter');
    makeDirs(outputs.adapter);
    writeSafetensors(path.join(outputs.adapter, 'adapter_model.safetensors'), best.model.adapterTensors(best.weights), { format: 'pt' });
    writeJsonAtomic(path.join(outputs.adapter, 'adapter_config.json'), best.model.adapterConfig(path.resolve(o.from)));
    if (o.merge) {
      outputs.merged = path.join(o.outDir, 'merged');
      saveModel(outputs.merged, { model: best.model.base, weights: best.model.merge(best.weights), tokenizer: best.tokenizer });
    }
  }
  const total = countParams(bundle.model.specs);
  const nTrainable = countParams(trainable ? pickSpecs(bundle.model.specs, trainable) : bundle.model.specs);
  const report: FinetuneReport = {
    from: o.from,
    method: o.lora ? 'lora' : 'full',
    parameters: { total, trainable: nTrainable, trainablePercent: (100 * nTrainable) / total },
    optimizerBytes: trainer.optimizerBytes,
    result,
    newDomain: { before: newBefore!, after: newAfter! },
    originalDomain: original ? { before: origBefore!, after: origAfter! } : null,
    originalData,
    outputs,
  };
  for (const s of [train, val, original]) s?.close();
  writeJsonAtomic(path.join(o.outDir, 'finetune_report.json'), report);
  writeFileAtomic(path.join(o.outDir, 'finetune_report.md'), reportMarkdown(report));
  return report;
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
