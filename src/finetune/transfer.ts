/**
 * The transfer-learning experiment: pretrain on most of a corpus, fine-tune on
 * a held-out document, and train the same architecture from scratch on that
 * document alone for the same number of steps, on the same validation split;
 * both learning curves go into one chart and a short report.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Document } from '../corpus/corpus.js';
import { openTokenCacheSplit } from '../dataset/token-cache.js';
import { svgToPng } from '../eval/png.js';
import { readRunCurves, runCurvesChart } from '../eval/run-curves.js';
import { loadModel } from '../io/model-dir.js';
import { initWeights } from '../nn/params.js';
import { newRun } from '../train/pipeline.js';
import type { RunSpec } from '../train/presets.js';
import { Trainer, type TrainConfig, type TrainerEvents, type TrainResult } from '../train/trainer.js';
import { InkwellError } from '../utils/errors.js';
import { makeDirs, writeFileAtomic, writeJsonAtomic } from '../utils/fs.js';
import { finetune, type FinetuneReport } from './finetune.js';
import { checkOutsideFrom, claimRunDir, DATA_DIR, runSign } from '../train/run-dir.js';
import { lockRun } from '../io/run-lock.js';

export interface TransferOptions {
  docs: readonly Document[];
  /** The held-out document's name (e.g. shakespeare-hamlet.txt). */
  holdout: string;
  outDir: string;
  spec: RunSpec;
  /** Reuse this pretraining run (its best/ and data/) instead of pretraining. */
  pretrained?: string;
  /** Replace the experiment already in outDir (the stages this run writes: pretrain/ unless `pretrained`, finetune/, scratch/); else it is refused. */
  force?: boolean;
  /** Fine-tuning and from-scratch steps (equal, for a fair comparison). */
  steps: number;
  finetuneLr: number;
  evalInterval: number;
  threads?: number;
  events?: (stage: string) => TrainerEvents;
  onStage?: (stage: string) => void;
}

export interface TransferReport {
  holdout: string;
  pretrain: { dir: string; bestValLoss: number | null; steps: number | null };
  finetuned: { dir: string; bestValLoss: number | null; curve: Array<[number, number]>; forgetting: FinetuneReport['originalDomain'] };
  scratch: { dir: string; bestValLoss: number | null; curve: Array<[number, number]> };
  plots: string[];
}

export async function transfer(o: TransferOptions): Promise<TransferReport> {
  const stage = o.onStage ?? (() => {});
  const held = o.docs.filter((d) => d.name === o.holdout || path.basename(d.source) === o.holdout);
  if (held.length === 0) throw new InkwellError(`--holdout ${o.holdout} is not in the corpus`, `documents: ${o.docs.map((d) => d.name).join(', ')}`);
  const rest = o.docs.filter((d) => !held.includes(d));
  makeDirs(o.outDir);
  const [finetuneDir, scratchDir] = [path.join(o.outDir, 'finetune'), path.join(o.outDir, 'scratch')];
  claimStages(o, [...(o.pretrained ? [] : [path.join(o.outDir, 'pretrain')]), finetuneDir, scratchDir]);

  let pretrainDir = o.pretrained;
  let pretrainResult: TrainResult | null = null;
  if (!pretrainDir) {
    if (rest.length === 0) throw new InkwellError('nothing is left to pretrain on once the held-out document is removed');
    pretrainDir = path.join(o.outDir, 'pretrain');
    stage(`1/3 pretraining on ${rest.length} document(s) in ${pretrainDir}`);
    const { trainer } = newRun(o.spec, rest, pretrainDir, { events: o.events?.('pretrain'), onStage: stage, force: o.force });
    try {
      pretrainResult = await trainer.run();
    } finally {
      await trainer.release();
    }
  }
  const best = path.join(pretrainDir, 'best');
  const from = fs.existsSync(best) ? best : pretrainDir;
  const base = loadModel(from);

  const t = o.spec.train;
  const config: TrainConfig = {
    batchSize: t.batchSize,
    contextLength: t.contextLength,
    maxSteps: o.steps,
    optimizer: t.optimizer,
    schedule: { lr: o.finetuneLr, warmupSteps: Math.min(50, Math.floor(o.steps / 10)), decay: 'cosine', decaySteps: o.steps, minLr: o.finetuneLr / 10 },
    gradClip: t.gradClip,
    evalInterval: o.evalInterval,
    evalBatches: t.evalBatches,
    // Both runs go the full distance so the curves compare step for step; the best model is still kept.
    patience: 0,
    checkpointInterval: o.steps,
    logInterval: 10,
    seed: t.seed,
    threads: o.threads,
  };
  stage(`2/3 fine-tuning ${from} on ${o.holdout} for ${o.steps} steps`);
  const ft = await finetune({ from, docs: held, outDir: finetuneDir, train: config, valFraction: 0.1, events: o.events?.('finetune'), onStage: stage, force: o.force });

  // From scratch: same architecture, tokenizer, data split and steps, with the pretraining recipe's learning rate (what suits random weights).
  stage(`3/3 training the same model from scratch on ${o.holdout} for ${o.steps} steps`);
  const dataDir = path.join(finetuneDir, DATA_DIR);
  const model = base.model;
  let scratchResult: TrainResult;
  const lock = lockRun(scratchDir);
  try {
    // A run left there would have its metrics appended to: its curve and this one's mixed in the report.
    claimRunDir(scratchDir, o.force ?? false, false);
    const scratch = new Trainer({
      bundle: { model, weights: initWeights(model.specs, t.seed), tokenizer: base.tokenizer },
      train: openTokenCacheSplit(dataDir, 'train', base.tokenizer),
      val: openTokenCacheSplit(dataDir, 'val', base.tokenizer),
      config: { ...config, schedule: { ...config.schedule, lr: t.schedule.lr, minLr: t.schedule.lr / 10 } },
      outDir: scratchDir,
      events: o.events?.('scratch'),
      lock,
    });
    try {
      scratchResult = await scratch.run();
    } finally {
      await scratch.release();
    }
  } finally {
    lock.release();
  }

  const curves = [readRunCurves(finetuneDir, 'pretrained + fine-tuned'), readRunCurves(scratchDir, 'from scratch')];
  const svg = runCurvesChart(curves, { title: `${o.holdout}: fine-tuned vs from scratch`, smoothing: 0.6 });
  const plots = [path.join(o.outDir, 'transfer.svg'), path.join(o.outDir, 'transfer.png')];
  writeFileAtomic(plots[0]!, svg);
  writeFileAtomic(plots[1]!, await svgToPng(svg));
  const report: TransferReport = {
    holdout: o.holdout,
    pretrain: { dir: pretrainDir, bestValLoss: pretrainResult?.bestValLoss ?? null, steps: pretrainResult?.steps ?? null },
    finetuned: { dir: finetuneDir, bestValLoss: ft.result.bestValLoss, curve: curves[0]!.val, forgetting: ft.originalDomain },
    scratch: { dir: scratchDir, bestValLoss: scratchResult.bestValLoss, curve: curves[1]!.val },
    plots,
  };
  writeJsonAtomic(path.join(o.outDir, 'transfer_report.json'), report);
  writeFileAtomic(path.join(o.outDir, 'transfer_report.md'), reportMarkdown(report));
  return report;
}

export function reportMarkdown(r: TransferReport): string {
  const f = (x: number | null | undefined) => (x === null || x === undefined ? '–' : x.toFixed(4));
  const scratchAt = new Map(r.scratch.curve);
  return [
    `# Transfer: ${r.holdout}`,
    '',
    `Pretrained in \`${r.pretrain.dir}\`${r.pretrain.bestValLoss === null ? ' (reused)' : `: best validation loss ${f(r.pretrain.bestValLoss)} after ${r.pretrain.steps} steps`}.`,
    '',
    `Best validation loss on ${r.holdout}: **${f(r.finetuned.bestValLoss)}** pretrained + fine-tuned, **${f(r.scratch.bestValLoss)}** from scratch.`,
    r.finetuned.forgetting ? `Forgetting: the original corpus's validation loss went ${f(r.finetuned.forgetting.before)} → ${f(r.finetuned.forgetting.after)}.` : '',
    '',
    '| step | fine-tuned val loss | from-scratch val loss |',
    '|---|---|---|',
    ...r.finetuned.curve.map(([s, v]) => `| ${s} | ${f(v)} | ${f(scratchAt.get(s))} |`),
    '',
    `![curves](${path.basename(r.plots[1]!)})`,
    '',
  ].join('\n');
}

/**
 * Before any stage runs: an experiment already in --out is refused unless `force` (else a rerun would pretrain
 * for minutes and only then be refused), and with `force` a --pretrained run inside a stage it replaces is refused.
 */
function claimStages(o: TransferOptions, stages: readonly string[]): void {
  if (o.pretrained) for (const dir of stages) checkOutsideFrom(dir, o.pretrained);
  if (o.force) return;
  for (const dir of stages) {
    const sign = runSign(dir);
    if (!sign) continue;
    const keep = o.pretrained ? '' : `, --pretrained ${path.join(o.outDir, 'pretrain')} --force to keep its pretraining and redo the rest`;
    throw new InkwellError(`--out ${o.outDir} already holds a transfer experiment (${path.join(dir, sign)})`, `pass --force to replace it${keep}, or choose another --out`);
  }
}
