/** `inkwell classify train|predict`: a sequence classifier on a pretrained GPT or LSTM (e.g. SST-2 sentiment). */
import fs from 'node:fs';
import type { Command } from 'commander';
import { loadClassifier } from '../finetune/classifier-io.js';
import { predict, resumeClassifier, trainClassifier, type ClassifyMethod, type ClassifyReport, type ClassifyTrainOptions } from '../finetune/classify-train.js';
import { LORA_MODULES } from '../models/lora.js';
import { InkwellError } from '../utils/errors.js';
import { intOption, LIMITS, numberOption, threadsOption } from './options.js';

/** Flags that map one to one onto ClassifyTrainOptions keep its names and types; the rest are spelled for the command line. */
interface TrainFlags
  extends Pick<Partial<ClassifyTrainOptions>, 'from'>,
    Pick<ClassifyTrainOptions, 'method' | 'pooling' | 'maxLength' | 'batchSize' | 'steps' | 'lr' | 'warmup' | 'weightDecay' | 'gradClip' | 'evalInterval' | 'patience' | 'seed' | 'threads'> {
  train?: string;
  eval?: string;
  out?: string;
  resume?: string;
  force?: boolean;
  scratch?: boolean;
  freezeSteps: number;
  loraR: number;
  loraAlpha: number;
  loraTargets: string;
  maxExamples?: number;
}

const METHODS: ClassifyMethod[] = ['full', 'frozen', 'lora'];

export function register(program: Command): void {
  const cmd = program.command('classify').description('text classification with a pretrained model: train a head, then label text');
  cmd
    .command('train')
    .description('add a classification head to a pretrained model and fine-tune it on labelled TSV data')
    .option('--from <dir>', 'the pretrained model directory (GPT or LSTM/GRU)')
    .option('--train <file>', "training TSV with a header: 'sentence' (or 'text') and 'label' columns")
    .option('--eval <file>', 'evaluation TSV in the same format')
    .option('--out <dir>', 'where the classifier, metrics.jsonl, the report and the resumable checkpoint (OUT/checkpoint) go')
    .option('--resume <dir>', 'continue the run in this directory from its last checkpoint (with --steps: train further)')
    .option('--force', 'replace the run already in --out (its checkpoint, classifier, metrics and report)')
    .option('--method <m>', `what to train: ${METHODS.join(', ')} (frozen: the head only)`, 'full')
    .option('--scratch', "re-initialise the model's weights (same architecture and tokenizer): the no-pretraining baseline")
    .option('--pooling <p>', 'last (the last real token, as GPT-2) or mean (over real tokens)', 'last')
    .option('--max-length <n>', 'truncate texts to this many tokens', intOption(1, LIMITS.context), 64)
    .option('--batch-size <n>', 'examples per batch', intOption(1, LIMITS.batch), 32)
    .option('--steps <n>', 'optimizer steps', intOption(1), 1000)
    .option('--lr <x>', 'peak learning rate (AdamW, warmup then cosine to lr/10), in (0, 10]', numberOption(0, 10, true), 5e-4)
    .option('--warmup <n>', 'warmup steps', intOption(0), 50)
    .option('--weight-decay <x>', 'AdamW weight decay', numberOption(0), 0.01)
    .option('--grad-clip <x>', 'clip the gradient norm (0 = off)', numberOption(0), 1)
    .option('--freeze-steps <n>', 'full: train the head alone for the first n steps, then everything', intOption(0), 0)
    .option('--lora-r <n>', "LoRA rank (--method lora; at most the model's width)", intOption(1, LIMITS.loraRank), 8)
    .option('--lora-alpha <x>', 'LoRA alpha', numberOption(0, 1e6, true), 16)
    .option('--lora-targets <list>', `modules to adapt (${LORA_MODULES.join(', ')})`, LORA_MODULES.join(','))
    .option('--eval-interval <n>', 'evaluate every n steps', intOption(1), 100)
    .option('--patience <n>', 'stop after n evaluations without a better accuracy (0 = never)', intOption(0), 4)
    .option('--max-examples <n>', 'use at most n training examples', intOption(1))
    .option('--seed <n>', 'seed for the head, data order and dropout', intOption(0), 1337)
    .option('--threads <n>', 'ONNX Runtime threads (default: all cores)', threadsOption)
    .action(async (f: TrainFlags, cmd: Command) => {
      const onEval = (step: number, m: { accuracy: number; macroF1: number }, loss: number) =>
        console.error(`step ${step}: eval accuracy ${(100 * m.accuracy).toFixed(2)}%, macro F1 ${(100 * m.macroF1).toFixed(2)}%, loss ${loss.toFixed(4)}`);
      let report: ClassifyReport;
      let out: string;
      if (f.resume) {
        out = f.resume;
        // Only a --steps typed on the command line extends the run; the default would shorten it.
        const steps = cmd.getOptionValueSource('steps') === 'cli' ? f.steps : undefined;
        console.error(`resuming ${out}`);
        report = await resumeClassifier(out, { steps, threads: f.threads, onEval });
      } else {
        for (const flag of ['from', 'train', 'eval', 'out'] as const) if (!f[flag]) throw new InkwellError(`--${flag} is required`, 'or continue a run with --resume DIR');
        out = f.out!;
        report = await train(f, onEval);
      }
      const m = report.eval;
      console.log(
        `${report.method} (${report.init}): accuracy ${(100 * m.accuracy).toFixed(2)}%, macro F1 ${(100 * m.macroF1).toFixed(2)}% on ${m.count} examples; ` +
          `${report.parameters.trainable.toLocaleString('en-US')} trainable parameters (${report.parameters.trainablePercent.toFixed(2)}%), best at step ${report.bestStep} of ${report.steps}\n` +
          `confusion (rows true, columns predicted; labels ${report.labels.join(', ')}): ${JSON.stringify(m.confusion)}\nsaved to ${out}`,
      );
    });
  cmd
    .command('predict')
    .description('label text with a trained classifier')
    .requiredOption('--model <dir>', 'a classifier directory from `inkwell classify train`')
    .option('--text <text...>', 'text(s) to label')
    .option('--file <file>', 'label each non-empty line of this file')
    .option('--json', 'print one JSON object per text, with the score of every label')
    .action(async (f: { model: string; text?: string[]; file?: string; json?: boolean }) => {
      let texts = f.text ?? [];
      if (f.file) {
        if (!fs.existsSync(f.file)) throw new InkwellError(`--file ${f.file} does not exist`);
        texts = [...texts, ...fs.readFileSync(f.file, 'utf8').split('\n').filter((l) => l.trim() !== '')];
      }
      if (texts.length === 0) throw new InkwellError('give --text or --file');
      const preds = await predict(loadClassifier(f.model), texts);
      preds.forEach((p, i) => {
        if (f.json) console.log(JSON.stringify({ text: texts[i], label: p.label, scores: p.scores }));
        else console.log(`${p.label}\t${p.scores[p.label]!.toFixed(3)}\t${texts[i]}`);
      });
    });
}

function train(f: TrainFlags, onEval: ClassifyTrainOptions['onEval']): Promise<ClassifyReport> {
  if (!METHODS.includes(f.method)) throw new InkwellError(`--method must be one of ${METHODS.join(', ')}, got '${f.method}'`);
  if (f.pooling !== 'last' && f.pooling !== 'mean') throw new InkwellError(`--pooling must be 'last' or 'mean', got '${f.pooling}'`);
  return trainClassifier({
    from: f.from!,
    trainFile: f.train!,
    evalFile: f.eval!,
    outDir: f.out!,
    method: f.method,
    init: f.scratch ? 'scratch' : 'pretrained',
    pooling: f.pooling,
    maxLength: f.maxLength,
    batchSize: f.batchSize,
    steps: f.steps,
    lr: f.lr,
    warmup: f.warmup,
    weightDecay: f.weightDecay,
    gradClip: f.gradClip,
    freezeSteps: f.freezeSteps,
    lora: { r: f.loraR, alpha: f.loraAlpha, targetModules: f.loraTargets.split(',').map((s) => s.trim()).filter(Boolean) },
    evalInterval: f.evalInterval,
    patience: f.patience,
    maxTrainExamples: f.maxExamples,
    seed: f.seed,
    threads: f.threads,
    onEval,
  }, { force: f.force });
}
