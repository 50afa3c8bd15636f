/**
 * `exportModel(dir, { format, out })`: a saved inkwell model leaves in the
 * formats other runtimes load — transformers.js, plain ONNX (onnxruntime-web
 * / -node), GGUF (llama.cpp) and a Hugging Face folder with a model card.
 * Every file is built in memory first and the folder appears whole (out-dir.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { loadModel } from '../io/model-dir.js';
import { InkwellError } from '../utils/errors.js';
import { GGUF_DTYPES, ggufFiles } from './gguf.js';
import { hfFiles } from './hf.js';
import { onnxFolderFiles } from './onnx-folder.js';
import { checkOutDir, writeExportDir, type ExportFiles } from './out-dir.js';
import { TRANSFORMERS_JS_DTYPES, transformersJsFiles } from './transformers-js.js';
import { torchRunFiles } from '../scale/torch-run.js';

export const EXPORT_FORMATS = ['transformers.js', 'onnx', 'gguf', 'hf', 'torch-run'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface ExportOptions {
  format: ExportFormat;
  /** The folder to create; refused when it exists and is not empty, unless `force`. */
  out: string;
  force?: boolean;
  /** transformers.js: `fp32`, `q8`, `q4` (default fp32); gguf: `f32`, `f16`, `q8_0` (default f16), one file each. */
  dtypes?: readonly string[];
  /** transformers.js: also write `model_fp16.onnx` (float16 weights). */
  fp16?: boolean;
  /** hf: the model card's license (a Hub license id; default 'other'). */
  license?: string;
  /** hf: Hub dataset ids (or names) the model was trained on. */
  datasets?: readonly string[];
  /** hf: an `inkwell eval --json` report for the card (default: eval.json beside the model, if any). */
  evalReport?: string;
}

export interface ExportResult {
  out: string;
  /** Each written file (relative path) and its size in bytes. */
  files: Array<{ name: string; bytes: number }>;
}

export async function exportModel(dir: string, o: ExportOptions): Promise<ExportResult> {
  if (!(EXPORT_FORMATS as readonly string[]).includes(o.format)) throw new InkwellError(`--format must be one of ${EXPORT_FORMATS.join(', ')}, got '${String(o.format)}'`);
  if (path.resolve(o.out) === path.resolve(dir)) throw new InkwellError(`--out ${o.out} is the model directory itself`);
  // Options of another format would be ignored: refuse them rather than export something else than asked.
  if (o.fp16 && o.format !== 'transformers.js') throw new InkwellError('--fp16 applies to --format transformers.js only (gguf takes --dtype f16)');
  const hfOnly = Object.entries({ '--license': o.license, '--dataset': o.datasets?.length ? o.datasets : undefined, '--eval': o.evalReport }).filter(([, v]) => v !== undefined);
  if (hfOnly.length && o.format !== 'hf') throw new InkwellError(`${hfOnly.map(([k]) => k).join(', ')} appl${hfOnly.length > 1 ? 'y' : 'ies'} to --format hf only (the model card)`);
  // Fail before the work, not after it.
  checkOutDir(o.out, o.force ?? false);
  if (o.format === 'torch-run') {
    // The PyTorch training folder of a run (see src/scale): it reads the run directory itself, so no model is loaded here.
    pickDtypes(o.dtypes, ['fp32'] as const, ['fp32']);
    return written(o.out, torchRunFiles(dir, o.out).files, o.force ?? false);
  }
  const bundle = loadModel(dir, { keepWeights: true });
  const name = modelName(dir);
  let files: ExportFiles;
  switch (o.format) {
    case 'transformers.js':
      files = transformersJsFiles(bundle, { dtypes: pickDtypes(o.dtypes, TRANSFORMERS_JS_DTYPES, ['fp32']), fp16: o.fp16 ?? false });
      break;
    case 'onnx':
      pickDtypes(o.dtypes, ['fp32'] as const, ['fp32']);
      files = onnxFolderFiles(bundle);
      break;
    case 'gguf':
      files = ggufFiles(bundle, pickDtypes(o.dtypes, GGUF_DTYPES, ['f16']), name);
      break;
    case 'hf':
      pickDtypes(o.dtypes, ['fp32'] as const, ['fp32']);
      files = await hfFiles(dir, name, bundle, { license: o.license ?? 'other', datasets: o.datasets ?? [], evalReport: o.evalReport });
      break;
  }
  return written(o.out, files, o.force ?? false);
}

function written(out: string, files: ExportFiles, force: boolean): ExportResult {
  writeExportDir(out, files, force);
  return { out, files: [...files.keys()].sort().map((name) => ({ name, bytes: fs.statSync(path.join(out, name)).size })) };
}

/** A run's best/ model is named after its run. */
function modelName(dir: string): string {
  const abs = path.resolve(dir);
  return path.basename(abs) === 'best' ? path.basename(path.dirname(abs)) : path.basename(abs);
}

function pickDtypes<T extends string>(given: readonly string[] | undefined, allowed: readonly T[], fallback: readonly T[]): T[] {
  if (!given || given.length === 0) return [...fallback];
  for (const d of given) if (!(allowed as readonly string[]).includes(d)) throw new InkwellError(`--dtype ${d} is not available for this format (choose from ${allowed.join(', ')})`);
  return [...new Set(given)] as T[];
}
