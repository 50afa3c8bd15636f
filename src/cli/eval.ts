/** `inkwell eval`: how good a model is, in numbers a user can compare (Markdown or JSON, and a chart). */
import type { Command } from 'commander';
import { readCorpus } from '../corpus/corpus.js';
import type { Decoding } from '../eval/comparison.js';
import { encodeDocuments, readTextFile } from '../eval/eval-data.js';
import { evaluateModelDir, type EvaluateOptions } from '../eval/evaluate.js';
import { svgToPng } from '../eval/png.js';
import { reportChart, reportMarkdown } from '../eval/report.js';
import { InkwellError } from '../utils/errors.js';
import { writeFileAtomic } from '../utils/fs.js';
import { createProgress } from '../utils/progress.js';
import { intOption, LIMITS, numberOption, threadsOption } from './options.js';

interface EvalFlags {
  model: string;
  text?: string;
  corpus?: string[];
  clean: boolean;
  data?: string;
  json?: boolean;
  markdown?: string;
  plot?: string;
  maxTokens: number;
  maxTrainTokens: number;
  ngramOrder: number;
  context?: number;
  stride?: number;
  batch?: number;
  threads?: number;
  passages: number;
  promptTokens: number;
  newTokens: number;
  seed: number;
  decoding: string;
  temperature: number;
  topK: number;
  topP: number;
}

export function register(program: Command): void {
  program
    .command('eval')
    .description('loss, perplexity and bits/char on held-out text against n-gram baselines, and generated text compared with the original')
    .requiredOption('--model <dir>', 'model directory (a run directory or its best/)')
    .option('--text <file>', 'evaluate on this UTF-8 text file (default: the run\'s validation split)')
    .option('--corpus <paths...>', 'evaluate on these files, directories, globs or .zip archives')
    .option('--no-clean', 'with --corpus: keep the text as it is (boilerplate, CR line endings)')
    .option('--data <dir>', 'token cache for the baselines and the memorisation check (default: DIR/data or DIR/../data)')
    .option('--json', 'print the report as JSON instead of Markdown')
    .option('--markdown <file>', 'also write the Markdown report to this file')
    .option('--plot <file>', 'write a chart of loss by position (.svg or .png)')
    .option('--max-tokens <n>', 'evaluate at most this many tokens', intOption(2), 100_000)
    .option('--max-train-tokens <n>', 'training tokens used for baselines and memorisation', intOption(1), 20_000_000)
    .option('--ngram-order <n>', 'order of the Kneser–Ney baseline', intOption(1, 16), 3)
    .option('--context <n>', 'tokens per evaluation window (default: the model\'s context; 128 for RNNs)', intOption(1, LIMITS.context))
    .option('--stride <n>', 'GPT: start a window every n tokens and score its last n, so every token after the first window sees at least context − n tokens (default: the context)', intOption(1, LIMITS.context))
    .option('--batch <n>', 'windows per run of the eval graph', intOption(1, LIMITS.batch))
    .option('--threads <n>', 'ONNX Runtime threads (default: all cores)', threadsOption)
    .option('--passages <n>', `held-out passages to continue and compare, up to ${LIMITS.samples} (0 = skip)`, intOption(0, LIMITS.samples), 8)
    .option('--prompt-tokens <n>', 'tokens of each passage given as the prompt', intOption(1, LIMITS.context), 32)
    .option('--new-tokens <n>', 'tokens to generate and compare with the original', intOption(1, LIMITS.newTokens), 64)
    .option('--seed <n>', 'seed of the passage choice and sampling', intOption(0), 0)
    .option('--decoding <list>', 'comma-separated: greedy, sampled', 'greedy,sampled')
    .option('--temperature <t>', 'temperature of the sampled decoding', numberOption(0, Infinity, true), 0.8)
    .option('--top-k <k>', 'top-k of the sampled decoding (0 = off)', intOption(0, LIMITS.vocab), 40)
    .option('--top-p <p>', 'top-p of the sampled decoding', numberOption(0, 1, true), 1)
    .action(async (flags: EvalFlags) => {
      if (flags.text && flags.corpus) throw new InkwellError('give --text or --corpus, not both');
      if (flags.plot && !/\.(svg|png)$/i.test(flags.plot)) throw new InkwellError(`--plot ${flags.plot}: the file name must end in .svg or .png`);
      const decodings = flags.decoding.split(',').map((d) => d.trim());
      const unknown = decodings.filter((d) => d !== 'greedy' && d !== 'sampled');
      if (unknown.length || decodings.length === 0) throw new InkwellError(`--decoding: unknown '${unknown.join(', ')}'`, 'use greedy, sampled or greedy,sampled');

      const options: EvaluateOptions = {
        maxTokens: flags.maxTokens,
        maxTrainTokens: flags.maxTrainTokens,
        ngramOrder: flags.ngramOrder,
        context: flags.context,
        stride: flags.stride,
        batch: flags.batch,
        threads: flags.threads,
        comparison: flags.passages === 0 ? false : {
          passages: flags.passages,
          promptTokens: flags.promptTokens,
          newTokens: flags.newTokens,
          seed: flags.seed,
          decodings: decodings as Decoding[],
          sampling: { temperature: flags.temperature, topK: flags.topK, topP: flags.topP },
        },
        onStage: (s) => process.stderr.write(`${s}\n`),
      };
      if (flags.data) options.dataDir = flags.data;
      const { text, corpus } = flags;
      if (text) options.text = { source: text, encode: (tokenizer) => readTextFile(text, tokenizer) };
      if (corpus) options.text = { source: corpus.join(', '), encode: (tokenizer) => encodeDocuments(readCorpus(corpus, { clean: flags.clean }), tokenizer) };
      const progress = createProgress();
      options.onProgress = (done, total) => {
        if (done === 1) progress.start(total, 'scoring');
        progress.update(done);
      };
      let report;
      try {
        report = await evaluateModelDir(flags.model, options);
      } finally {
        progress.stop();
      }
      const markdown = reportMarkdown(report);
      if (flags.markdown) writeFileAtomic(flags.markdown, markdown);
      if (flags.plot) {
        const svg = reportChart(report);
        writeFileAtomic(flags.plot, /\.png$/i.test(flags.plot) ? await svgToPng(svg) : svg);
      }
      process.stdout.write(flags.json ? JSON.stringify(report, null, 2) + '\n' : markdown);
    });
}
