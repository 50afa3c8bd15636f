/**
 * Loss curves of training runs, read from each run's `metrics.jsonl` (the
 * trainer appends `{step, loss, lr, …}` per logged step and `{step, val_loss,
 * best_val_loss}` per evaluation), drawn as one chart: per run a solid
 * training curve and a dashed validation curve of the same colour.
 */
import fs from 'node:fs';
import path from 'node:path';
import { InkwellError } from '../utils/errors.js';
import { lineChart, PALETTE, type ChartOptions, type Series } from './plot.js';

export interface RunCurves {
  name: string;
  train: Array<[number, number]>;
  val: Array<[number, number]>;
}

export function readRunCurves(runDir: string, name = path.basename(path.resolve(runDir))): RunCurves {
  if (!fs.existsSync(runDir) || !fs.statSync(runDir).isDirectory()) throw new InkwellError(`run directory ${runDir} does not exist`);
  const file = path.join(runDir, 'metrics.jsonl');
  if (!fs.existsSync(file)) throw new InkwellError(`${file} does not exist`, 'is this a training run directory (inkwell train --out DIR)?');
  const curves: RunCurves = { name, train: [], val: [] };
  fs.readFileSync(file, 'utf8').split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let r: Record<string, unknown>;
    try {
      r = JSON.parse(line) as Record<string, unknown>;
    } catch {
      throw new InkwellError(`${file}:${i + 1} is not valid JSON`);
    }
    if (typeof r.step !== 'number') throw new InkwellError(`${file}:${i + 1} has no numeric "step"`);
    if (typeof r.loss === 'number') curves.train.push([r.step, r.loss]);
    if (typeof r.val_loss === 'number') curves.val.push([r.step, r.val_loss]);
  });
  // A resumed run may log a step twice; keep the last record of each.
  curves.train = lastPerStep(curves.train);
  curves.val = lastPerStep(curves.val);
  return curves;
}

function lastPerStep(points: Array<[number, number]>): Array<[number, number]> {
  return [...new Map(points.map((p) => [p[0], p])).values()].sort((a, b) => a[0] - b[0]);
}

/** Exponential moving average with weight `alpha` on the past (0 = none), as TensorBoard's smoothing. */
export function smooth(points: ReadonlyArray<[number, number]>, alpha: number): Array<[number, number]> {
  let avg: number | undefined;
  return points.map(([x, y]) => {
    avg = avg === undefined ? y : alpha * avg + (1 - alpha) * y;
    return [x, avg];
  });
}

export interface CurvesChartOptions extends ChartOptions {
  /** Smoothing of the (noisy) training curves, in [0, 1). */
  smoothing?: number;
}

export function runCurvesChart(runs: readonly RunCurves[], o: CurvesChartOptions = {}): string {
  const series: Series[] = [];
  runs.forEach((r, i) => {
    const color = PALETTE[i % PALETTE.length]!;
    const label = (what: string) => (runs.length > 1 ? `${r.name} ${what}` : what);
    if (r.train.length) series.push({ name: label('train'), points: smooth(r.train, o.smoothing ?? 0), color });
    if (r.val.length) series.push({ name: label('validation'), points: r.val, color, dashed: true });
  });
  return lineChart(series, { title: runs.length === 1 ? `${runs[0]!.name}: loss` : 'loss', xLabel: 'step', yLabel: 'loss (nats/token)', ...o });
}
