/**
 * `--format hf`: a folder to upload to the Hugging Face Hub — the model files
 * alone (no optimizer or trainer state, no token cache), a model card and,
 * when the run logged losses, their curve as a PNG.
 */
import { svgToPng } from '../eval/png.js';
import { runCurvesChart } from '../eval/run-curves.js';
import { modelFiles, type ModelBundle } from '../io/model-dir.js';
import { modelCard } from './model-card.js';
import type { ExportFiles } from './out-dir.js';
import { readEvalReport, readTrainingRecord } from './run-record.js';

export interface HfOptions {
  license: string;
  datasets: readonly string[];
  /** An `inkwell eval --json` report (default: eval.json beside the model, if any). */
  evalReport?: string;
}

export const LOSS_CURVE = 'loss_curve.png';

export async function hfFiles(dir: string, name: string, bundle: ModelBundle, o: HfOptions): Promise<ExportFiles> {
  const files: ExportFiles = modelFiles(bundle);
  const training = readTrainingRecord(dir);
  const evaluation = readEvalReport(dir, o.evalReport);
  if (training) files.set(LOSS_CURVE, await svgToPng(runCurvesChart([training.curves], { title: 'Loss', smoothing: 0.6 })));
  files.set('README.md', modelCard(bundle, { name, license: o.license, datasets: o.datasets, training, evaluation, lossCurve: training ? LOSS_CURVE : undefined }));
  return files;
}
