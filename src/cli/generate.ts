/** `inkwell generate`: stream text from a saved model, once, as JSON, or in an interactive loop. */
import readline from 'node:readline';
import type { Command } from 'commander';
import { loadModel } from '../io/model-dir.js';
import { createDecoder } from '../generate/decoders.js';
import { generateEvents, type GenerateOptions, type GenerationModel, type GenerationResult } from '../generate/generate.js';
import { generationDefaults } from '../generate/generation-config.js';
import type { SamplingOptions } from '../generate/sampling.js';
import { InkwellError } from '../utils/errors.js';
import { QUANTIZE_MODES, type QuantizeMode } from '../graph/quantize.js';
import { intOption, LIMITS, numberOption, threadsOption } from './options.js';

/** The sampling flags are SamplingOptions' fields under the same names. */
interface GenerateFlags extends SamplingOptions {
  model: string;
  prompt?: string;
  interactive?: boolean;
  maxNewTokens?: number;
  stop: string[];
  seed?: number;
  numSamples: number;
  greedy?: boolean;
  json?: boolean;
  threads?: number;
  quantize?: string;
}

export function register(program: Command): void {
  program
    .command('generate')
    .description('generate text from a trained model, streaming tokens as they come')
    .requiredOption('--model <dir>', 'model directory (a run directory, its best/ or any saved model)')
    .option('--prompt <text>', 'text to continue ("" starts from the bos token, if the tokenizer has one)')
    .option('--interactive', 'read prompts from stdin, one per line, until EOF')
    .option('--max-new-tokens <n>', `tokens to generate at most, up to ${LIMITS.newTokens} (default: generation_config.json, else 100)`, intOption(1, LIMITS.newTokens))
    .option('--temperature <t>', 'sampling temperature; 0 = greedy', numberOption(0))
    .option('--top-k <k>', 'sample from the k most likely tokens (0 = off)', intOption(0, LIMITS.vocab))
    .option('--top-p <p>', 'nucleus sampling: the most likely tokens holding probability p', numberOption(0, 1, true))
    .option('--repetition-penalty <x>', 'Hugging Face/CTRL penalty on tokens already in the text (1 = off)', numberOption(0, Infinity, true))
    .option('--frequency-penalty <x>', 'OpenAI penalty per earlier occurrence in the output, in [-2, 2]', numberOption(-2, 2))
    .option('--presence-penalty <x>', 'OpenAI penalty for any token already in the output, in [-2, 2]', numberOption(-2, 2))
    .option('--stop <text>', 'stop when the output contains this (repeatable)', (v: string, all: string[]) => [...all, v], [])
    .option('--seed <n>', 'seed that makes sampling reproducible (default: random, reported with --json)', intOption(0))
    .option('--num-samples <n>', `continuations to generate together for each prompt, up to ${LIMITS.samples}`, intOption(1, LIMITS.samples), 1)
    .option('--greedy', 'always take the most likely token')
    .option('--json', 'print one JSON object per sample (prompt, completion, tokens, timing) instead of text')
    .option('--threads <n>', 'ONNX Runtime threads (default: all cores)', threadsOption)
    .option('--quantize <mode>', `decode with ${QUANTIZE_MODES.join(' or ')} weight matrices (GPT; an LSTM's gates int8 in both): faster, slightly different text (default: float32)`)
    .action(async (flags: GenerateFlags) => {
      if (flags.prompt === undefined && !flags.interactive) throw new InkwellError('give --prompt TEXT or --interactive');
      if (flags.stop.some((s) => s === '')) throw new InkwellError('--stop must not be empty');
      if (flags.quantize !== undefined && !QUANTIZE_MODES.includes(flags.quantize as QuantizeMode)) {
        throw new InkwellError(`--quantize must be one of ${QUANTIZE_MODES.join(', ')}, got '${flags.quantize}'`);
      }
      // Quantizing reads the weights: from the manifest check's own read (otherwise ORT reads the file itself).
      const bundle = loadModel(flags.model, { keepWeights: flags.quantize !== undefined });
      if (flags.prompt === '' && bundle.tokenizer.special.bos === undefined) {
        throw new InkwellError('--prompt is empty and this model has no bos token to start from', 'give a prompt of at least one character');
      }
      const options = { ...generationDefaults(flags.model), ...samplingFlags(flags) };
      const decoder = await createDecoder(bundle, flags.numSamples, { threads: flags.threads, quantize: flags.quantize as QuantizeMode | undefined });
      const m: GenerationModel = { decoder, tokenizer: bundle.tokenizer };
      try {
        if (flags.prompt !== undefined) await run(m, flags.prompt, options, flags);
        if (flags.interactive) await interactive(m, options, flags);
      } finally {
        await decoder.release();
      }
    });
}

function samplingFlags(f: GenerateFlags): GenerateOptions {
  const o: GenerateOptions = { stop: f.stop };
  if (f.greedy) o.greedy = true;
  const pick = { maxNewTokens: f.maxNewTokens, temperature: f.temperature, topK: f.topK, topP: f.topP, repetitionPenalty: f.repetitionPenalty, frequencyPenalty: f.frequencyPenalty, presencePenalty: f.presencePenalty, seed: f.seed };
  for (const [k, v] of Object.entries(pick)) if (v !== undefined) (o as Record<string, unknown>)[k] = v;
  return o;
}

/** One prompt: a single sample streams to stdout as it is generated; several print in order when done. */
async function run(m: GenerationModel, prompt: string, options: GenerateOptions, flags: GenerateFlags): Promise<void> {
  const prompts = Array<string>(flags.numSamples).fill(prompt);
  const stream = !flags.json && flags.numSamples === 1;
  if (stream) process.stdout.write(prompt);
  const results: GenerationResult[] = [];
  for await (const e of generateEvents(m, prompts, options)) {
    if (e.type === 'text' && stream) process.stdout.write(e.text);
    if (e.type === 'done') results[e.sequence] = e.result;
  }
  results.forEach((r, i) => {
    if (flags.json) console.log(JSON.stringify(jsonResult(r)));
    else {
      if (!stream) process.stdout.write(`${flags.numSamples > 1 ? `--- sample ${i + 1} ---\n` : ''}${r.prompt}${r.text}`);
      process.stdout.write('\n');
      process.stderr.write(summary(r));
    }
  });
}

async function interactive(m: GenerationModel, options: GenerateOptions, flags: GenerateFlags): Promise<void> {
  const rl = readline.createInterface({ input: process.stdin, terminal: false });
  const ask = () => {
    if (process.stdin.isTTY) process.stderr.write('> ');
  };
  ask();
  for await (const line of rl) {
    try {
      if (line.trim() !== '') await run(m, line, options, flags);
    } catch (err) {
      // A bad line (e.g. a prompt longer than the model's context) does not end the session, but the exit status says it failed.
      if (!(err instanceof InkwellError)) throw err;
      process.stderr.write(`error: ${err.message}\n`);
      process.exitCode = 1;
    }
    ask();
  }
}

function jsonResult(r: GenerationResult): Record<string, unknown> {
  const { prompt, text, ...rest } = r;
  return { prompt, completion: text, ...rest };
}

function summary(r: GenerationResult): string {
  const t = r.timing;
  const notes = [
    `${r.tokens.length} tokens`,
    `first after ${t.timeToFirstTokenMs.toFixed(0)} ms`,
    `finished: ${r.finishReason}`,
    `seed ${r.seed}`,
  ];
  // A decoding rate needs two tokens: the first one's time is the prompt's.
  if (r.tokens.length > 1) notes.splice(2, 0, `${t.decodeTokensPerSecond.toFixed(1)} tokens/s`);
  if (r.droppedPromptTokens > 0) notes.push(`prompt truncated to its last ${r.promptTokens - r.droppedPromptTokens} tokens`);
  if (r.slides > 0) notes.push(`context window slid ${r.slides}×`);
  return `[${notes.join(', ')}]\n`;
}
