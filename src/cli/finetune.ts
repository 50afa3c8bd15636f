/** `inkwell finetune`: continue training a model directory on a new corpus (full, partly frozen, layer-wise lr, or LoRA). */
import type { Command } from 'commander';
import { FINETUNE_DEFAULTS as D, finetune, finetuneConfig, resumeFinetune, type FinetuneRecipe, type FinetuneReport } from '../finetune/finetune.js';
import { LORA_MODULES } from '../models/lora.js';
import { checkpointInfo } from '../train/trainer.js';
import { InkwellError } from '../utils/errors.js';
import { corpusFromFlags, type CorpusFlags } from './corpus-option.js';
import { fractionOption, intOption, LIMITS, numberOption, threadsOption } from './options.js';
import { trainProgress } from './train-progress.js';

interface FinetuneFlags extends CorpusFlags, FinetuneRecipe {
  from?: string;
  out?: string;
  resume?: string;
  force?: boolean;
  valFraction: number;
  freezeEmbeddings?: boolean;
  freezeLayers?: number;
  layerLrDecay?: number;
  lora?: boolean;
  loraR: number;
  loraAlpha: number;
  loraTargets: string;
  merge?: boolean;
}

export function register(program: Command): void {
  program
    .command('finetune')
    .description('fine-tune a trained model on a new corpus, with early stopping and a forgetting report')
    .option('--from <dir>', 'the pretrained model directory (a run, its best/, or a Hugging Face GPT-2 directory)')
    .option('--corpus <paths...>', 'the new corpus: files, directories, globs or .zip archives')
    .option('--no-clean', 'keep the text as it is: Project Gutenberg boilerplate, CR line endings, no NFC')
    .option('--out <dir>', 'run directory for the fine-tuned model, metrics, report and checkpoint')
    .option('--resume <dir>', 'continue the fine-tuning run in this directory from its last checkpoint (its own settings; --threads may change)')
    .option('--force', 'replace the run already in --out (its checkpoint, best model, metrics and token cache)')
    .option('--steps <n>', 'optimizer steps', intOption(1), D.steps)
    .option('--lr <x>', 'peak learning rate (fresh AdamW, warmup then cosine to lr/10), in (0, 10]', numberOption(0, 10, true), D.lr)
    .option('--warmup <n>', 'warmup steps', intOption(0), D.warmup)
    .option('--batch-size <n>', 'sequences per batch', intOption(1, LIMITS.batch), D.batchSize)
    .option('--context <n>', 'tokens per sequence (at most the model context)', intOption(1, LIMITS.context), D.context)
    .option('--weight-decay <x>', 'AdamW weight decay on matrices and embeddings', numberOption(0), D.weightDecay)
    .option('--grad-clip <x>', 'clip the gradient norm (0 = off)', numberOption(0), D.gradClip)
    .option('--eval-interval <n>', 'evaluate every n steps', intOption(1), D.evalInterval)
    .option('--eval-batches <n>', 'validation batches per evaluation', intOption(1), D.evalBatches)
    .option('--patience <n>', 'stop after n evaluations without improvement (0 = never)', intOption(0), D.patience)
    .option('--val-fraction <f>', 'share of the new corpus held out for validation', fractionOption, 0.1)
    .option('--freeze-embeddings', "freeze the token/position embeddings (GPT's LM head is tied to them, so it freezes too)")
    .option('--freeze-layers <k>', 'freeze the first k blocks / recurrent layers', intOption(0))
    .option('--layer-lr-decay <d>', 'discriminative learning rates: layer i of L gets lr·d^(L−1−i)', numberOption(0, 1, true))
    .option('--lora', 'train LoRA adapters only (GPT), saved in PEFT format under OUT/adapter')
    .option('--lora-r <n>', "LoRA rank (at most the model's width)", intOption(1, LIMITS.loraRank), 8)
    .option('--lora-alpha <x>', 'LoRA alpha (the update is scaled by alpha/r)', numberOption(0, 1e6, true), 16)
    .option('--lora-targets <list>', `comma-separated modules to adapt (${LORA_MODULES.join(', ')})`, LORA_MODULES.join(','))
    .option('--merge', 'with --lora: also save the model with the adapters merged in, as OUT/merged')
    .option('--seed <n>', 'seed for adapters, data order and dropout', intOption(0), D.seed)
    .option('--threads <n>', 'ONNX Runtime threads (default: all cores)', threadsOption)
    .action(async (flags: FinetuneFlags, cmd: Command) => {
      if (flags.resume) {
        // The run's settings are its own: a flag given beside --resume would be silently ignored, so it is refused.
        const given = cmd.options.map((o) => o.attributeName()).filter((k) => !['resume', 'threads'].includes(k) && cmd.getOptionValueSource(k) === 'cli');
        if (given.length) throw new InkwellError(`--resume continues a run with its own settings; --${given[0]!.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())} cannot change them`, 'drop the flag, or start a new run with --out');
        // For the progress bar only: the resume itself checks the checkpoint, under the run's lock.
        let at = { step: 0, maxSteps: 0 };
        try {
          at = checkpointInfo(flags.resume);
        } catch {
          // reported by resumeFinetune
        }
        const progress = trainProgress(at.maxSteps, at.step);
        try {
          printReport(await resumeFinetune(flags.resume, { threads: flags.threads, events: progress, onStage: (s) => console.error(s) }), flags.resume);
        } finally {
          progress.stop();
        }
        return;
      }
      for (const flag of ['from', 'out'] as const) if (!flags[flag]) throw new InkwellError(`--${flag} is required`, 'or continue a run with --resume DIR');
      if (!flags.corpus?.length) throw new InkwellError('--corpus is required', 'name the new text, e.g. --corpus ../shared/data/gutenberg/shakespeare-hamlet.txt');
      if (flags.merge && !flags.lora) throw new InkwellError('--merge needs --lora', 'full fine-tuning already saves plain weights');
      const train = finetuneConfig(flags);
      const progress = trainProgress(flags.steps, 0);
      let report;
      try {
        report = await finetune({
          from: flags.from!,
          docs: corpusFromFlags(flags),
          outDir: flags.out!,
          force: flags.force,
          train,
          valFraction: flags.valFraction,
          layers: { freezeEmbeddings: flags.freezeEmbeddings, freezeLayers: flags.freezeLayers, layerLrDecay: flags.layerLrDecay },
          lora: flags.lora ? { r: flags.loraR, alpha: flags.loraAlpha, targetModules: flags.loraTargets.split(',').map((s) => s.trim()).filter(Boolean) } : undefined,
          merge: flags.merge,
          events: progress,
          onStage: (s) => console.error(s),
        });
      } finally {
        progress.stop();
      }
      printReport(report, flags.out!);
    });
}

function printReport(report: FinetuneReport, out: string): void {
  const f = (x: number) => x.toFixed(4);
  const p = report.parameters;
  console.log(
    `${report.method} fine-tuning: ${p.trainable.toLocaleString('en-US')} of ${p.total.toLocaleString('en-US')} parameters (${p.trainablePercent.toFixed(2)}%), ` +
      `optimizer state ${(report.optimizerBytes / 2 ** 20).toFixed(2)} MiB; ${report.result.steps} steps${report.result.stoppedEarly ? ' (stopped early)' : ''}\n` +
      `new domain val loss ${f(report.newDomain.before)} → ${f(report.newDomain.after)}` +
      (report.originalDomain ? `; original domain ${f(report.originalDomain.before)} → ${f(report.originalDomain.after)}` : '; original domain: no token cache found') +
      `\nbest model in ${report.outputs.best}${report.outputs.adapter ? `, adapter in ${report.outputs.adapter}` : ''}${report.outputs.merged ? `, merged model in ${report.outputs.merged}` : ''}; report in ${out}/finetune_report.md`,
  );
}
