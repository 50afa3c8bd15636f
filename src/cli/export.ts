/** `inkwell export`: a saved model as a transformers.js, ONNX, GGUF or Hugging Face folder. */
import type { Command } from 'commander';
import { EXPORT_FORMATS, exportModel, type ExportFormat } from '../export/index.js';
import { InkwellError } from '../utils/errors.js';

interface ExportFlags {
  model: string;
  format: string;
  out: string;
  dtype?: string;
  fp16?: boolean;
  force?: boolean;
  license?: string;
  dataset: string[];
  eval?: string;
}

export function register(program: Command): void {
  program
    .command('export')
    .description('export a model for transformers.js, onnxruntime-web/-node, llama.cpp (GGUF) or the Hugging Face Hub')
    .requiredOption('--model <dir>', 'model directory (a run directory, its best/ or any saved model)')
    .requiredOption('--format <format>', EXPORT_FORMATS.join(' | '))
    .requiredOption('--out <dir>', 'folder to create (must not exist or be empty, unless --force)')
    .option('--dtype <list>', 'comma-separated weight types: transformers.js fp32,q8,q4 (default fp32); gguf f32,f16,q8_0 (default f16)')
    .option('--fp16', 'transformers.js: also write onnx/model_fp16.onnx (float16 weights)')
    .option('--force', 'replace a non-empty --out folder')
    .option('--license <id>', 'hf: license in the model card (a Hub license id, default other)')
    .option('--dataset <id>', 'hf: dataset the model was trained on, for the model card (repeatable)', (v: string, all: string[]) => [...all, v], [])
    .option('--eval <file>', 'hf: an inkwell eval --json report for the model card (default: eval.json beside the model)')
    .action(async (flags: ExportFlags) => {
      if (!(EXPORT_FORMATS as readonly string[]).includes(flags.format)) throw new InkwellError(`--format must be one of ${EXPORT_FORMATS.join(', ')}, got '${flags.format}'`);
      const dtypes = flags.dtype?.split(',').map((d) => d.trim());
      if (dtypes?.some((d) => d === '')) throw new InkwellError(`--dtype '${flags.dtype}' has an empty entry`);
      if (flags.license !== undefined && !/^[\w.+-]+$/.test(flags.license)) throw new InkwellError(`--license '${flags.license}' is not a license id (e.g. mit, apache-2.0, cc-by-4.0)`);
      const result = await exportModel(flags.model, {
        format: flags.format as ExportFormat,
        out: flags.out,
        force: flags.force,
        dtypes,
        fp16: flags.fp16,
        license: flags.license,
        datasets: flags.dataset,
        evalReport: flags.eval,
      });
      for (const f of result.files) process.stdout.write(`${f.name}\t${f.bytes}\n`);
      process.stderr.write(`exported ${flags.model} as ${flags.format} to ${result.out}\n`);
    });
}
