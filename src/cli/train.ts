/** `inkwell train`: a preset and/or JSON run spec, overridden by flags; or --resume a run. */
import type { Command } from 'commander';
import { InkwellError } from '../utils/errors.js';
import { loadTokenizer } from '../tokenizers/io.js';
import { PRESETS } from '../train/presets.js';
import { newRun, resumeRun } from '../train/pipeline.js';
import { resolveSpec, type SpecOverrides } from '../train/run-spec.js';
import { checkpointInfo, type TrainResult } from '../train/trainer.js';
import { countParams } from '../nn/params.js';
import { corpusFromFlags, type CorpusFlags } from './corpus-option.js';
import { intOption } from './options.js';
import { trainProgress } from './train-progress.js';

interface TrainFlags extends CorpusFlags, SpecOverrides {
  preset?: string;
  config?: string;
  out?: string;
  resume?: string;
  tokenizer?: string;
  printSpec?: boolean;
}

export function register(program: Command): void {
  program
    .command('train')
    .description('train a language model on a corpus (or resume a run)')
    .option('--preset <name>', `a recipe: ${Object.keys(PRESETS).join(', ')}`)
    .option('--config <file>', 'a JSON run spec (tokenizer, model, train); fields override the preset')
    .option('--corpus <paths...>', 'files, directories, globs or .zip archives (default: downloaded books)')
    .option('--cache <dir>', 'cache directory used when --corpus is absent')
    .option('--no-clean', 'keep Project Gutenberg boilerplate')
    .option('--out <dir>', 'run directory: checkpoints, best model, metrics.jsonl')
    .option('--resume <dir>', 'continue the run in this directory from its last checkpoint')
    .option('--tokenizer <path>', 'use this tokenizer.json instead of training one')
    .option('--steps <n>', 'optimizer steps in total', intOption(1))
    .option('--batch-size <n>', 'sequences per batch', intOption(1))
    .option('--context <n>', 'tokens per sequence', intOption(1))
    .option('--lr <x>', 'peak learning rate', parseFloat)
    .option('--seed <n>', 'seed for init, data order and dropout', intOption(0))
    .option('--threads <n>', 'ONNX Runtime threads (default: all cores)', intOption(1))
    .option('--eval-interval <n>', 'evaluate every n steps', intOption(0))
    .option('--print-spec', 'print the resolved run spec as JSON and exit')
    .action(async (flags: TrainFlags) => {
      const started = performance.now();
      let result: TrainResult;
      let outDir: string;
      if (flags.resume) {
        outDir = flags.resume;
        const saved = checkpointInfo(outDir);
        const target = flags.steps ?? saved.maxSteps;
        if (target <= saved.step) {
          throw new InkwellError(`${outDir} is already at step ${saved.step} of ${saved.maxSteps}`, 'pass a larger --steps to train further');
        }
        const progress = trainProgress(flags.steps ?? saved.maxSteps, saved.step);
        const { trainer } = resumeRun(outDir, progress, flags.steps ? { maxSteps: flags.steps } : {});
        console.error(`resuming ${outDir} at step ${saved.step}`);
        try {
          result = await trainer.run();
        } finally {
          progress.stop();
          await trainer.release();
        }
      } else {
        const spec = resolveSpec({ preset: flags.preset, config: flags.config, overrides: flags });
        if (flags.printSpec) {
          console.log(JSON.stringify(spec, null, 2));
          return;
        }
        if (!flags.out) throw new InkwellError('--out is required', 'name a run directory, e.g. --out runs/shakespeare');
        outDir = flags.out;
        const docs = corpusFromFlags(flags);
        const progress = trainProgress(spec.train.maxSteps, 0);
        const { trainer, bundle, data } = newRun(spec, docs, outDir, {
          tokenizer: flags.tokenizer ? loadTokenizer(flags.tokenizer) : undefined,
          events: progress,
          onStage: (s) => console.error(s),
        });
        console.error(
          `${spec.model.type} with ${countParams(bundle.model.specs).toLocaleString('en-US')} parameters, vocabulary ${bundle.tokenizer.vocabSize}; ` +
            `${data.train.length.toLocaleString('en-US')} training tokens, ${(data.val?.length ?? 0).toLocaleString('en-US')} validation tokens`,
        );
        try {
          result = await trainer.run();
        } finally {
          progress.stop();
          await trainer.release();
        }
      }
      const val = result.bestValLoss === null ? '' : `, best val loss ${result.bestValLoss.toFixed(4)} at step ${result.bestStep}`;
      console.log(
        `trained ${result.steps} steps in ${((performance.now() - started) / 1000).toFixed(1)}s: train loss ${result.finalTrainLoss.toFixed(4)}${val}` +
          `${result.stoppedEarly ? ' (stopped early)' : ''}\nsaved to ${outDir}${result.bestValLoss === null ? '' : ` (best model in ${outDir}/best)`}`,
      );
    });
}
