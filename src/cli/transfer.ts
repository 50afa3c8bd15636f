/** `inkwell transfer`: pretrain on a corpus minus one document, fine-tune on it, compare with training from scratch. */
import type { Command } from 'commander';
import { transfer } from '../finetune/transfer.js';
import { preset, PRESETS } from '../train/presets.js';
import { corpusFromFlags, type CorpusFlags } from './corpus-option.js';
import { intOption, numberOption, threadsOption } from './options.js';
import { trainProgress } from './train-progress.js';

interface TransferFlags extends CorpusFlags {
  holdout: string;
  out: string;
  preset?: string;
  pretrainSteps?: number;
  pretrained?: string;
  force?: boolean;
  steps: number;
  lr: number;
  evalInterval: number;
  threads?: number;
}

export function register(program: Command): void {
  program
    .command('transfer')
    .description('transfer experiment: pretrain on all but one document, fine-tune on it, and compare with training from scratch')
    .option('--corpus <paths...>', 'files, directories, globs or .zip archives (default: $INKWELL_CORPUS, ../shared/data/gutenberg, the downloaded books, else the bundled ones)')
    .option('--no-clean', 'keep the text as it is: Project Gutenberg boilerplate, CR line endings, no NFC')
    .requiredOption('--holdout <name>', 'the held-out document, e.g. shakespeare-hamlet.txt')
    .requiredOption('--out <dir>', 'experiment directory: pretrain/, finetune/, scratch/, transfer.png, transfer_report.md')
    .option('--preset <name>', `pretraining recipe (default transfer-gpt): ${Object.keys(PRESETS).join(', ')}`)
    .option('--pretrain-steps <n>', 'pretraining steps', intOption(1))
    .option('--pretrained <dir>', 'reuse this pretraining run (its best/ and data/) instead of stage 1')
    .option('--force', 'replace the experiment already in --out (its pretrain/ unless --pretrained, finetune/ and scratch/)')
    .option('--steps <n>', 'fine-tuning steps, and the same number from scratch', intOption(1), 300)
    .option('--lr <x>', 'fine-tuning learning rate (from scratch uses the recipe’s), in (0, 10]', numberOption(0, 10, true), 5e-4)
    .option('--eval-interval <n>', 'evaluate both runs every n steps', intOption(1), 25)
    .option('--threads <n>', 'ONNX Runtime threads (default: all cores)', threadsOption)
    .action(async (f: TransferFlags) => {
      const spec = preset(f.preset ?? 'transfer-gpt');
      if (f.pretrainSteps) {
        spec.train.maxSteps = f.pretrainSteps;
        spec.train.schedule.decaySteps = f.pretrainSteps;
        spec.train.checkpointInterval = Math.min(spec.train.checkpointInterval ?? f.pretrainSteps, f.pretrainSteps);
      }
      if (f.threads) spec.train.threads = f.threads;
      let progress: ReturnType<typeof trainProgress> | undefined;
      const report = await transfer({
        docs: corpusFromFlags(f),
        holdout: f.holdout,
        outDir: f.out,
        spec,
        pretrained: f.pretrained,
        force: f.force,
        steps: f.steps,
        finetuneLr: f.lr,
        evalInterval: f.evalInterval,
        threads: f.threads,
        events: (stage) => {
          progress?.stop();
          return (progress = trainProgress(stage === 'pretrain' ? spec.train.maxSteps : f.steps, 0));
        },
        onStage: (s) => console.error(s),
      });
      progress?.stop();
      const v = (x: number | null) => (x === null ? '–' : x.toFixed(4));
      console.log(`${report.holdout}: best validation loss ${v(report.finetuned.bestValLoss)} pretrained + fine-tuned vs ${v(report.scratch.bestValLoss)} from scratch\nreport: ${f.out}/transfer_report.md, curves: ${report.plots.join(', ')}`);
    });
}
