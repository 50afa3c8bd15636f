/**
 * `inkwell eval` as a library call: everything the evaluation report holds,
 * computed for one model directory — loss, perplexity and bits per character
 * on held-out text, next to count-based baselines on the same tokens, and
 * the comparison of generated continuations with the original.
 */
import path from 'node:path';
import { loadModel } from '../io/model-dir.js';
import { createDecoder } from '../generate/decoders.js';
import { carriesState } from '../models/lm.js';
import { countParams } from '../nn/params.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import { InkwellError } from '../utils/errors.js';
import { compressorBaselines, plainText, type CompressorScore } from './compressors.js';
import { compareWithOriginal, type ComparisonOptions, type ComparisonResult } from './comparison.js';
import { readSplit } from './eval-data.js';
import { findRunData } from '../train/run-dir.js';
import { KneserNeyModel, totalNll, UnigramModel, type TokenLanguageModel } from './ngram-lm.js';
import { evaluatePerplexity, type PerplexityResult } from './perplexity.js';

export interface EvaluateOptions {
  /** Text to evaluate on, encoded with the model's tokenizer once it is loaded; default: the validation split of the run's token cache. */
  text?: { source: string; encode: (tokenizer: Tokenizer) => Int32Array };
  /** A token cache directory (train.bin/val.bin/meta.json); default: DIR/data, or ../data for DIR = RUN/best. */
  dataDir?: string;
  /** Evaluate at most this many tokens from the start of the text (default 100,000). */
  maxTokens?: number;
  /** Train the baselines and check memorisation on at most this many training tokens (default 20,000,000). */
  maxTrainTokens?: number;
  /** Order of the Kneser–Ney baseline (default 3). */
  ngramOrder?: number;
  context?: number;
  /** GPT: tokens between evaluation windows (see PerplexityOptions.stride). */
  stride?: number;
  batch?: number;
  threads?: number;
  /** Settings of the comparison with the original; `false` skips it. */
  comparison?: ComparisonOptions | false;
  onStage?: (stage: string) => void;
  onProgress?: (done: number, total: number) => void;
}

export interface ScoreRow {
  name: string;
  loss: number;
  perplexity: number;
  bitsPerToken: number;
  bitsPerCharacter: number;
  top1?: number;
  top5?: number;
}

export interface EvalReport {
  model: { dir: string; type: string; parameters: number; vocabSize: number; tokenizer: string };
  /** unknownTokens: scored tokens that are the tokenizer's <unk> (text outside its vocabulary). */
  data: { source: string; evaluatedTokens: number; availableTokens: number; characters: number; trainTokens: number | null; unknownTokens: number };
  /** The model first, then the baselines, all on the same tokens. */
  scores: ScoreRow[];
  /** bzip2 and xz on the text of the same tokens (no training data: what a general-purpose compressor needs). */
  compressors: CompressorScore[];
  perplexity: PerplexityResult;
  comparison?: ComparisonResult;
  notes: string[];
  seconds: number;
}

export async function evaluateModelDir(dir: string, o: EvaluateOptions = {}): Promise<EvalReport> {
  const started = performance.now();
  const stage = o.onStage ?? (() => {});
  const bundle = loadModel(dir, { keepWeights: true });
  const { model, tokenizer } = bundle;
  const notes: string[] = [];
  const dataDir = o.dataDir ?? findRunData(dir);

  let evalTokens: Int32Array;
  let source: string;
  let available: number;
  const maxTokens = o.maxTokens ?? 100_000;
  if (o.text) {
    const all = o.text.encode(tokenizer);
    available = all.length;
    evalTokens = all.subarray(0, maxTokens);
    source = o.text.source;
  } else {
    if (!dataDir) {
      throw new InkwellError(`no text to evaluate on: ${dir} has no token cache in data/ (nor in ${path.join(dir, '..', 'data')})`, 'pass --text FILE or --corpus PATH, or --data DIR pointing at a token cache');
    }
    const val = readSplit(dataDir, 'val', tokenizer, maxTokens);
    if (val.total === 0) throw new InkwellError(`the token cache ${dataDir} has no validation split`, 'pass --text FILE or --corpus PATH');
    evalTokens = val.tokens;
    available = val.total;
    source = `validation split of ${dataDir}`;
  }
  if (o.comparison !== false) {
    // Fail before the long scoring pass, not after it.
    const need = (o.comparison?.promptTokens ?? 32) + (o.comparison?.newTokens ?? 64);
    if (need > evalTokens.length) {
      throw new InkwellError(`the evaluation text has ${evalTokens.length} tokens, too few for passages of ${need} (prompt + new tokens)`, 'lower --prompt-tokens/--new-tokens, or skip the comparison with --passages 0');
    }
  }
  if (available > evalTokens.length) notes.push(`evaluated on the first ${evalTokens.length.toLocaleString('en-US')} of ${available.toLocaleString('en-US')} tokens (--max-tokens)`);

  let train: Int32Array | undefined;
  if (dataDir) {
    const t = readSplit(dataDir, 'train', tokenizer, o.maxTrainTokens ?? 20_000_000);
    train = t.tokens;
    if (t.total > train.length) notes.push(`baselines and the memorisation check use the first ${train.length.toLocaleString('en-US')} of ${t.total.toLocaleString('en-US')} training tokens`);
  } else {
    notes.push('no training token cache found: baselines and the memorisation check are skipped (pass --data DIR)');
  }

  stage(`scoring ${evalTokens.length.toLocaleString('en-US')} tokens with the model`);
  const ppl = await evaluatePerplexity(bundle, evalTokens, { context: o.context, stride: o.stride, batch: o.batch, threads: o.threads, onProgress: o.onProgress });
  notes.push(
    carriesState(model)
      ? `windows of ${ppl.context} tokens read in order, the recurrent state carried from one window to the next`
      : ppl.stride === ppl.context
        ? `non-overlapping windows of ${ppl.context} tokens: early positions in each window see little context (see the per-position loss; --stride scores every token with more context)`
        : `windows of ${ppl.context} tokens every ${ppl.stride}: each token scored once, and after the first window with at least ${ppl.context - ppl.stride} tokens of context`,
  );
  if (ppl.unscoredTokens > 0) notes.push(`the last ${ppl.unscoredTokens} token(s) did not fill a window and were not scored`);

  const scoredIds = evalTokens.subarray(1, ppl.tokens + 1);
  const unk = tokenizer.special.unk;
  const unknownTokens = unk === undefined ? 0 : scoredIds.reduce((n, id) => n + (id === unk ? 1 : 0), 0);
  if (unknownTokens > 0) {
    notes.push(`${unknownTokens.toLocaleString('en-US')} of the ${ppl.tokens.toLocaleString('en-US')} scored tokens (${(100 * unknownTokens / ppl.tokens).toFixed(2)}%) are <unk>: text outside the vocabulary, scored as the prediction of <unk> and left out of the character count`);
  }
  stage('compressing the same text with bzip2 and xz');
  const compressed = compressorBaselines(plainText(tokenizer, scoredIds), ppl.characters);
  notes.push(...compressed.unavailable);
  if (tokenizer.kind === 'word') notes.push('compressors read the decoded text of the scored tokens: for a word tokenizer, its words joined by spaces');

  const row = (name: string, nats: number): ScoreRow => {
    const loss = nats / ppl.tokens;
    return { name, loss, perplexity: Math.exp(loss), bitsPerToken: loss / Math.LN2, bitsPerCharacter: nats / ppl.characters / Math.LN2 };
  };
  const scores: ScoreRow[] = [{ ...row('this model', ppl.nats), top1: ppl.top1, top5: ppl.top5 }];
  if (train) {
    stage(`fitting baselines on ${train.length.toLocaleString('en-US')} training tokens`);
    const scored = evalTokens.subarray(0, ppl.tokens + 1);
    const baselines: TokenLanguageModel[] = [new KneserNeyModel(train, model.vocabSize, { order: o.ngramOrder ?? 3 }), new UnigramModel(train, model.vocabSize)];
    for (const b of baselines) scores.push(row(b.name, totalNll(b, scored, 1)));
    notes.push('baselines see the whole preceding text as context (up to their order), not only the current window');
  }

  let comparison: ComparisonResult | undefined;
  if (o.comparison !== false) {
    const passages = o.comparison?.passages ?? 8;
    stage(`generating continuations of ${passages} held-out passages`);
    const decoder = await createDecoder(bundle, passages, { threads: o.threads });
    try {
      comparison = await compareWithOriginal({ decoder, tokenizer }, evalTokens, train, { ...o.comparison, passages });
    } finally {
      await decoder.release();
    }
  }

  return {
    model: { dir, type: String(model.configJson().model_type), parameters: countParams(model.specs), vocabSize: model.vocabSize, tokenizer: tokenizer.kind },
    data: { source, evaluatedTokens: ppl.tokens, availableTokens: available, characters: ppl.characters, trainTokens: train?.length ?? null, unknownTokens },
    scores,
    compressors: compressed.scores,
    perplexity: ppl,
    ...(comparison ? { comparison } : {}),
    notes,
    seconds: (performance.now() - started) / 1000,
  };
}
