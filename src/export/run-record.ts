/**
 * What a training run left beside its model, for the model card: steps,
 * tokens, wall time (trainer_state.json), the loss curves (metrics.jsonl) and
 * an `inkwell eval --json` report. A run's best/ model finds them one level up,
 * as `inkwell eval` finds the run's data.
 */
import fs from 'node:fs';
import path from 'node:path';
import { readTokenCacheMeta } from '../dataset/token-cache.js';
import type { EvalReport } from '../eval/evaluate.js';
import { readRunCurves, type RunCurves } from '../eval/run-curves.js';
import { InkwellError, errorMessage } from '../utils/errors.js';

export interface TrainingRecord {
  steps: number;
  tokens: number | null;
  seconds: number | null;
  finalTrainLoss: number | null;
  finalValLoss: number | null;
  bestValLoss: number | null;
  optimizer: string | null;
  /** The run's token cache (data/meta.json): which documents, how many tokens per split. */
  corpus: { documents: string[]; trainTokens: number; valTokens: number } | null;
  curves: RunCurves;
}

/** The run directory holding metrics.jsonl for a model directory, if any. */
export function runDirOf(modelDir: string): string | undefined {
  const candidates = [modelDir, ...(path.basename(path.resolve(modelDir)) === 'best' ? [path.dirname(path.resolve(modelDir))] : [])];
  return candidates.find((d) => fs.existsSync(path.join(d, 'metrics.jsonl')));
}

export function readTrainingRecord(modelDir: string): TrainingRecord | undefined {
  const run = runDirOf(modelDir);
  if (!run) return undefined;
  const curves = readRunCurves(run, path.basename(path.resolve(modelDir)));
  if (curves.train.length + curves.val.length === 0) return undefined;
  const statePath = path.join(run, 'trainer_state.json');
  let state: Record<string, unknown> = {};
  if (fs.existsSync(statePath)) {
    try {
      state = JSON.parse(fs.readFileSync(statePath, 'utf8')) as Record<string, unknown>;
    } catch (err) {
      throw new InkwellError(`cannot read ${statePath}: ${errorMessage(err)}`);
    }
  }
  const config = (state.config ?? {}) as { batchSize?: unknown; contextLength?: unknown; gradAccum?: unknown; optimizer?: { name?: unknown }; schedule?: { lr?: unknown } };
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  const last = (pts: Array<[number, number]>) => (pts.length ? pts[pts.length - 1]![1] : null);
  const steps = num(state.step) ?? Math.max(0, ...curves.train.map((p) => p[0]), ...curves.val.map((p) => p[0]));
  const [batch, ctx] = [num(config.batchSize), num(config.contextLength)];
  return {
    steps,
    tokens: batch !== null && ctx !== null ? steps * batch * ctx * (num(config.gradAccum) ?? 1) : null,
    seconds: num(state.elapsedSeconds),
    finalTrainLoss: last(curves.train),
    finalValLoss: last(curves.val),
    bestValLoss: num(state.bestValLoss) ?? (curves.val.length ? Math.min(...curves.val.map((p) => p[1])) : null),
    corpus: corpusOf(run),
    optimizer: typeof config.optimizer?.name === 'string' ? `${config.optimizer.name}${typeof config.schedule?.lr === 'number' ? `, peak learning rate ${config.schedule.lr}` : ''}` : null,
    curves,
  };
}

function corpusOf(run: string): TrainingRecord['corpus'] {
  if (!fs.existsSync(path.join(run, 'data', 'meta.json'))) return null;
  const meta = readTokenCacheMeta(path.join(run, 'data'));
  // A document cut between the splits appears as NAME#train and NAME#val (data/split.ts).
  return { documents: [...new Set(meta.documents.map((d) => d.name.replace(/#(train|val)$/, '')))], trainTokens: meta.splits.train.tokens, valTokens: meta.splits.val.tokens };
}

/** An `inkwell eval --json` report: the given file, else `eval.json` beside the model. */
export function readEvalReport(modelDir: string, file?: string): EvalReport | undefined {
  const p = file ?? path.join(modelDir, 'eval.json');
  if (!fs.existsSync(p)) {
    if (file) throw new InkwellError(`--eval ${file} does not exist`);
    return undefined;
  }
  let r: Partial<EvalReport>;
  try {
    r = JSON.parse(fs.readFileSync(p, 'utf8')) as Partial<EvalReport>;
  } catch (err) {
    throw new InkwellError(`${p} is not valid JSON: ${errorMessage(err)}`);
  }
  const ok = Array.isArray(r.scores) && r.scores.length > 0 && r.scores.every((s) => typeof s?.name === 'string' && typeof s.loss === 'number' && typeof s.perplexity === 'number') && typeof r.data?.source === 'string';
  if (!ok) throw new InkwellError(`${p} is not an inkwell eval report (no scores with name, loss and perplexity)`, 'write one with inkwell eval --model DIR --json > eval.json');
  return r as EvalReport;
}
