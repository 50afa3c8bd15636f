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
}

export function register(program: Command): void {
  program
    .command('export')
    .description('export a model for transformers.js, onnxruntime-web/-node, llama.cpp (GGUF) or the Hugging Face Hub')
    .requiredOption('--model <dir>', 'model directory (a run directory, its best/ or any saved model)')
    .requiredOption('--format <format>', EXPORT_FORMATS.join(' | '))
    .requiredOption('--out <dir>', 'folder to create (must not exist or be empty, unless --force)')
    .option('--dtype <list>', 'comma-separated weight types: transformers.js fp32,q8,q4')
    .option('--fp16', 'transformers.js: also write onnx/model_fp16.onnx (float16 weights)')
    .option('--force', 'replace a non-empty --out folder')
    .action(async (flags: ExportFlags) => {
      if (!(EXPORT_FORMATS as readonly string[]).includes(flags.format)) throw new InkwellError(`--format must be one of ${EXPORT_FORMATS.join(', ')}, got '${flags.format}'`);
      const dtypes = flags.dtype?.split(',').map((d) => d.trim());
      if (dtypes?.some((d) => d === '')) throw new InkwellError(`--dtype '${flags.dtype}' has an empty entry`);
      const result = await exportModel(flags.model, { format: flags.format as ExportFormat, out: flags.out, force: flags.force, dtypes, fp16: flags.fp16 });
      for (const f of result.files) process.stdout.write(`${f.name}\t${f.bytes}\n`);
      process.stderr.write(`exported ${flags.model} as ${flags.format} to ${result.out}\n`);
    });
}
