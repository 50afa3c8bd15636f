/** `inkwell train`: a preset and/or JSON run spec, overridden by flags; or --resume a run. */
import path from 'node:path';
import type { Command } from 'commander';
import { InkwellError } from '../utils/errors.js';
import { loadTokenizer } from '../tokenizers/io.js';
import { PRESETS, type RunSpec } from '../train/presets.js';
import { newRun, resumeRun } from '../train/pipeline.js';
import { resolveSpec, type SpecOverrides } from '../train/run-spec.js';
import { checkpointInfo, type SampleOptions, type TrainResult } from '../train/trainer.js';
import { countParams } from '../nn/params.js';
import { saveModel } from '../io/model-dir.js';
import { lockRun } from '../io/run-lock.js';
import { torchrunCommand, trainOnTorch, writeTorchRun, type LaunchOptions } from '../scale/torch-run.js';
import { corpusSourcesFromFlags, type CorpusFlags } from './corpus-option.js';
import { intOption, LIMITS, numberOption, threadsOption } from './options.js';
import { trainProgress } from './train-progress.js';
import { addUiOptions, TrainUi, uiSite, type UiFlags } from './train-ui.js';

interface TrainFlags extends CorpusFlags, SpecOverrides, UiFlags {
  sampleTokens?: number;
  samplePrompt?: string;
  preset?: string;
  config?: string;
  out?: string;
  resume?: string;
  tokenizer?: string;
  printSpec?: boolean;
  engine: string;
  torchDir?: string;
  nprocPerNode?: number;
  nnodes?: string;
  nodeRank?: number;
  rdzvEndpoint?: string;
  rdzvId?: string;
  masterAddr?: string;
  masterPort?: number;
  launch: boolean;
  force?: boolean;
  rebuildCache?: boolean;
}

export function register(program: Command): void {
  addUiOptions(program.command('train'))
    .description('train a language model on a corpus (or resume a run)')
    .option('--preset <name>', `a recipe: ${Object.keys(PRESETS).join(', ')}`)
    .option('--config <file>', 'a JSON run spec (tokenizer, model, train); fields override the preset')
    .option('--corpus <paths...>', 'files, directories, globs or .zip archives (default: $INKWELL_CORPUS, ../shared/data/gutenberg, the downloaded books, else the bundled ones)')
    .option('--cache <dir>', 'cache directory used when --corpus is absent')
    .option('--no-clean', 'keep the text as it is: Project Gutenberg boilerplate, CR line endings, no NFC')
    .option('--out <dir>', 'run directory: checkpoints, best model, metrics.jsonl')
    .option('--resume <dir>', 'continue the run in this directory from its last checkpoint')
    .option('--force', 'replace the run already in --out (its checkpoint, best model, metrics and token cache)')
    .option('--tokenizer <path>', 'use this tokenizer.json instead of training one')
    .option('--steps <n>', 'optimizer steps in total', intOption(1))
    .option('--batch-size <n>', 'sequences per batch', intOption(1, LIMITS.batch))
    .option('--context <n>', 'tokens per sequence', intOption(1, LIMITS.context))
    .option('--lr <x>', 'peak learning rate, in [0, 10]', numberOption(0, 10))
    .option('--seed <n>', 'seed for init, data order and dropout', intOption(0))
    .option('--threads <n>', 'ONNX Runtime threads (default: all cores)', threadsOption)
    .option('--eval-interval <n>', 'evaluate every n steps', intOption(0))
    .option('--sample-tokens <n>', `after each evaluation, write a sample of n tokens to samples.jsonl (0: none; default ${UI_SAMPLE_TOKENS} with --ui, else 0)`, intOption(0, LIMITS.newTokens))
    .option('--sample-prompt <text>', 'the text samples continue (default: the opening of the validation data)')
    .option('--rebuild-cache', "with --resume: encode the run's corpus files again into its token cache (needed when they changed)")
    .option('--print-spec', 'print the resolved run spec as JSON and exit')
    .option('--engine <name>', 'inkwell, or torch: train the run with PyTorch under torchrun (DDP), checkpoints in the same format', 'inkwell')
    .option('--torch-dir <dir>', 'torch engine: where the PyTorch training folder goes (default: <run>/torch)')
    .option('--nproc-per-node <n>', 'torch engine: processes on this machine (one per GPU)', intOption(1, 1024))
    .option('--nnodes <n>', 'torch engine: machines, N or MIN:MAX')
    .option('--node-rank <n>', "torch engine: this machine's rank", intOption(0, 1 << 20))
    .option('--rdzv-endpoint <host:port>', 'torch engine: c10d rendezvous store shared by all machines')
    .option('--rdzv-id <id>', 'torch engine: a job id all machines share')
    .option('--master-addr <host>', "torch engine: static rendezvous, the rank-0 machine's address")
    .option('--master-port <port>', 'torch engine: static rendezvous port', intOption(1, 65535))
    .option('--no-launch', 'torch engine: only write the PyTorch folder and print the torchrun command for it (e.g. for a cluster)')
    .action(async (flags: TrainFlags) => {
      if (flags.engine !== 'inkwell' && flags.engine !== 'torch') throw new InkwellError(`--engine must be inkwell or torch, got '${flags.engine}'`);
      if (flags.engine === 'torch' && flags.ui) throw new InkwellError('--ui needs --engine inkwell');
      if (flags.engine === 'torch') return trainTorchEngine(flags);
      const site = uiSite(flags);
      let ui: TrainUi | undefined;
      let trained = false;
      const torchOnly = (['torchDir', 'nprocPerNode', 'nnodes', 'nodeRank', 'rdzvEndpoint', 'rdzvId', 'masterAddr', 'masterPort'] as const).find((k) => flags[k] !== undefined);
      if (torchOnly || !flags.launch) throw new InkwellError(`--${(torchOnly ?? 'noLaunch').replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())} needs --engine torch`);
      const samples = sampleOptions(flags);
      const started = performance.now();
      let result: TrainResult;
      let outDir: string;
      if (flags.resume) {
        outDir = flags.resume;
        const saved = resumable(outDir, flags.steps);
        // One writer for the whole command: from recovery to the last checkpoint.
        const lock = lockRun(outDir);
        const progress = trainProgress(flags.steps ?? saved.maxSteps, saved.step);
        let trainer;
        try {
          ({ trainer } = resumeRun(outDir, progress, flags.steps ? { maxSteps: flags.steps } : {}, { rebuildCache: flags.rebuildCache ?? false, lock, samples }));
        } catch (err) {
          progress.stop();
          lock.release();
          throw err;
        }
        console.error(`resuming ${outDir} at step ${saved.step}`);
        if (site) ui = await TrainUi.start(flags, site, outDir);
        try {
          result = await trainer.run();
          trained = true;
        } finally {
          progress.stop();
          await trainer.release();
          lock.release();
          await ui?.trainingEnded(trained);
        }
      } else {
        const spec = newRunSpec(flags);
        if (!spec) return;
        outDir = flags.out!;
        const docs = corpusSourcesFromFlags(flags);
        const lock = lockRun(outDir);
        const progress = trainProgress(spec.train.maxSteps, 0);
        let made;
        try {
          made = newRun(spec, docs, outDir, {
            tokenizer: flags.tokenizer ? loadTokenizer(flags.tokenizer) : undefined,
            events: progress,
            onStage: (s) => console.error(s),
            force: flags.force,
            lock,
            clean: flags.clean ?? true,
            samples,
          });
        } catch (err) {
          progress.stop();
          lock.release();
          throw err;
        }
        const { trainer, bundle, data } = made;
        console.error(
          `${spec.model.type} with ${countParams(bundle.model.specs).toLocaleString('en-US')} parameters, vocabulary ${bundle.tokenizer.vocabSize}; ` +
            `${data.train.length.toLocaleString('en-US')} training tokens, ${(data.val?.length ?? 0).toLocaleString('en-US')} validation tokens`,
        );
        if (site) ui = await TrainUi.start(flags, site, outDir);
        try {
          result = await trainer.run();
          trained = true;
        } finally {
          progress.stop();
          await trainer.release();
          lock.release();
          await ui?.trainingEnded(trained);
        }
      }
      const val = result.bestValLoss === null ? '' : `, best val loss ${result.bestValLoss.toFixed(4)} at step ${result.bestStep}`;
      console.log(
        `trained ${result.steps} steps in ${((performance.now() - started) / 1000).toFixed(1)}s: train loss ${result.finalTrainLoss.toFixed(4)}${val}` +
          `${result.stoppedEarly ? ' (stopped early)' : ''}\nsaved to ${outDir}${result.bestValLoss === null ? '' : ` (best model in ${outDir}/best)`}`,
      );
      await ui?.held();
    });
}

/** --engine torch: the run directory is prepared (new run) or checked (resume) here, then trained by PyTorch. */
async function trainTorchEngine(flags: TrainFlags): Promise<void> {
  const launch: LaunchOptions = {
    nprocPerNode: flags.nprocPerNode,
    nnodes: flags.nnodes,
    nodeRank: flags.nodeRank,
    rdzvEndpoint: flags.rdzvEndpoint,
    rdzvId: flags.rdzvId,
    masterAddr: flags.masterAddr,
    masterPort: flags.masterPort,
  };
  const overrides: Record<string, number> = {};
  const spec = flags.resume ? undefined : newRunSpec(flags);
  if (!flags.resume && !spec) return;
  const outDir = flags.resume ?? flags.out!;
  const saved = flags.resume ? resumable(outDir, flags.steps) : undefined;
  // The PyTorch trainer, a child of this process, writes the run while this process holds its lock.
  const lock = lockRun(outDir);
  try {
    if (saved) {
      if (flags.steps) overrides.maxSteps = flags.steps;
      if (flags.threads) overrides.threads = flags.threads;
      console.error(`resuming ${outDir} at step ${saved.step} with PyTorch`);
    } else {
      const { bundle } = newRun(spec!, corpusSourcesFromFlags(flags), outDir, {
        tokenizer: flags.tokenizer ? loadTokenizer(flags.tokenizer) : undefined,
        onStage: (s) => console.error(s),
        force: flags.force,
        lock,
        clean: flags.clean ?? true,
      });
      // The initial weights, which the PyTorch trainer starts from.
      saveModel(outDir, bundle);
    }
    if (!flags.launch) {
      const folder = writeTorchRun(outDir, flags.torchDir ?? path.join(outDir, 'torch'), { overrides });
      console.log(`wrote ${folder.dir}; on each machine run:\n${torchrunCommand(folder, launch)}`);
      return;
    }
    const folder = await trainOnTorch(outDir, { torchDir: flags.torchDir, overrides, launch });
    console.log(`trained with PyTorch (${folder.spec}); saved to ${outDir}`);
  } finally {
    lock.release();
  }
}

/** Tokens per evaluation sample when --ui shows them and --sample-tokens is not given. */
const UI_SAMPLE_TOKENS = 160;

/** What --sample-tokens, --sample-prompt and --ui ask for: undefined when no samples. */
function sampleOptions(flags: TrainFlags): SampleOptions | undefined {
  const tokens = flags.sampleTokens ?? (flags.ui ? UI_SAMPLE_TOKENS : 0);
  if (tokens === 0) {
    if (flags.samplePrompt !== undefined) throw new InkwellError('--sample-prompt needs samples: add --sample-tokens N (or --ui)');
    return undefined;
  }
  if (flags.samplePrompt === '') throw new InkwellError('--sample-prompt is empty', 'give a few words to continue, or leave the flag out');
  return { maxNewTokens: tokens, prompt: flags.samplePrompt };
}

/** The checkpoint in `dir`, refused when `steps` would not train it further. */
function resumable(dir: string, steps: number | undefined): { step: number; maxSteps: number } {
  const saved = checkpointInfo(dir);
  if ((steps ?? saved.maxSteps) <= saved.step) throw new InkwellError(`${dir} is already at step ${saved.step} of ${saved.maxSteps}`, 'pass a larger --steps to train further');
  return saved;
}

/** A new run's spec from the flags; undefined when --print-spec printed it instead. */
function newRunSpec(flags: TrainFlags): RunSpec | undefined {
  const spec = resolveSpec({ preset: flags.preset, config: flags.config, overrides: flags });
  if (flags.printSpec) {
    console.log(JSON.stringify(spec, null, 2));
    return undefined;
  }
  if (!flags.out) throw new InkwellError('--out is required', 'name a run directory, e.g. --out runs/shakespeare');
  return spec;
}
