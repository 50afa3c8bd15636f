/**
 * "Compare with the original", the tutorial's evaluation made measurable:
 * take passages of held-out text, prompt the model with the first k tokens,
 * let it write m more, and score what it wrote against what the author wrote
 * (BLEU-4, ROUGE-L), how varied it is (distinct-n) and how much of it is
 * copied from the training text (longest shared token run). The same
 * diversity and copying numbers for the true continuations give the scale.
 */
import { generateBatch, type GenerationModel } from '../generate/generate.js';
import type { SamplingOptions } from '../generate/sampling.js';
import { InkwellError } from '../utils/errors.js';
import { Rng } from '../utils/rng.js';
import { longestSharedRun } from './memorisation.js';
import { bleu, distinctN, rougeL, words } from './text-metrics.js';

export type Decoding = 'greedy' | 'sampled';

export interface ComparisonOptions {
  /** Passages drawn from the held-out tokens (default 8); they are decoded together. */
  passages?: number;
  /** Tokens of each passage given as the prompt (default 32). */
  promptTokens?: number;
  /** Tokens generated and compared with the true continuation (default 64). */
  newTokens?: number;
  /** Seed of the passage choice and of sampling (default 0). */
  seed?: number;
  decodings?: readonly Decoding[];
  /** Settings of the 'sampled' decoding (default temperature 0.8, top-k 40, as generation_config.json). */
  sampling?: SamplingOptions;
}

export interface Memorisation {
  /** Longest run of tokens shared with the training text, over all passages. */
  longest: number;
  /** Mean over passages of each one's longest shared run. */
  mean: number;
  /** The text of the longest shared run. */
  longestText: string;
}

export interface TextStats {
  /** distinct-1, distinct-2, distinct-3 over words. */
  distinct: [number, number, number];
  /** Absent when no training text was available. */
  memorisation?: Memorisation;
}

export interface DecodingScores extends TextStats {
  decoding: Decoding;
  /** Corpus BLEU-4 against the true continuations (NLTK method1 smoothing), in [0, 1]. */
  bleu4: number;
  /** Mean ROUGE-L F1 against the true continuations. */
  rougeL: number;
  tokensPerSecond: number;
}

export interface PassageSample {
  /** Token offset of the passage in the held-out text. */
  offset: number;
  prompt: string;
  reference: string;
  generated: Partial<Record<Decoding, string>>;
}

export interface ComparisonResult {
  passages: number;
  promptTokens: number;
  newTokens: number;
  seed: number;
  decodings: DecodingScores[];
  /** The same statistics for the author's continuations. */
  reference: TextStats;
  samples: PassageSample[];
}

/**
 * `heldOut`: tokens the model was not trained on; `train`: the training
 * tokens for the memorisation check (optional). The decoder's batch must be
 * at least the number of passages.
 */
export async function compareWithOriginal(m: GenerationModel, heldOut: Int32Array, train: Int32Array | undefined, o: ComparisonOptions = {}): Promise<ComparisonResult> {
  const n = o.passages ?? 8;
  const k = o.promptTokens ?? 32;
  const len = o.newTokens ?? 64;
  const seed = o.seed ?? 0;
  const starts = choosePassages(heldOut, n, k + len, new Set(m.tokenizer.specialTokens.values()), new Rng(`${seed}:passages`));
  const prompts = starts.map((s) => Array.from(heldOut.subarray(s, s + k)));
  const references = starts.map((s) => Array.from(heldOut.subarray(s + k, s + k + len)));
  const decode = (ids: readonly number[]) => m.tokenizer.decode(ids);
  const samples: PassageSample[] = starts.map((offset, i) => ({ offset, prompt: decode(prompts[i]!), reference: decode(references[i]!), generated: {} }));
  const refWords = references.map((r) => words(decode(r)));

  const decodings: DecodingScores[] = [];
  for (const decoding of o.decodings ?? ['greedy', 'sampled']) {
    const sampling = decoding === 'greedy' ? { greedy: true } : { temperature: 0.8, topK: 40, ...o.sampling };
    const started = performance.now();
    const results = await generateBatch(m, prompts, { ...sampling, maxNewTokens: len, seed, stopAtEos: false });
    const seconds = (performance.now() - started) / 1000;
    const hypWords = results.map((r) => words(r.text));
    results.forEach((r, i) => (samples[i]!.generated[decoding] = r.text));
    decodings.push({
      decoding,
      bleu4: bleu(hypWords.map((hypothesis, i) => ({ hypothesis, reference: refWords[i]! }))),
      rougeL: mean(hypWords.map((h, i) => rougeL(h, refWords[i]!).f)),
      tokensPerSecond: results.reduce((s, r) => s + r.tokens.length, 0) / seconds,
      ...textStats(hypWords, results.map((r) => r.tokens), train, decode),
    });
  }
  return { passages: n, promptTokens: k, newTokens: len, seed, decodings, reference: textStats(refWords, references, train, decode), samples };
}

function textStats(texts: string[][], tokens: number[][], train: Int32Array | undefined, decode: (ids: readonly number[]) => string): TextStats {
  const stats: TextStats = { distinct: [distinctN(texts, 1), distinctN(texts, 2), distinctN(texts, 3)] };
  if (train && train.length > 0) {
    const runs = tokens.map((t) => longestSharedRun(t, train));
    const best = runs.reduce((a, b) => (b.length > a.length ? b : a));
    stats.memorisation = {
      longest: best.length,
      mean: mean(runs.map((r) => r.length)),
      longestText: decode(Array.from(train.subarray(best.corpusStart, best.corpusStart + best.length))),
    };
  }
  return stats;
}

/**
 * `n` passage starts, drawn uniformly from the positions where a whole
 * passage fits. Passages that cross a document boundary (a special token)
 * are drawn again, so prompt and continuation come from one text.
 */
function choosePassages(tokens: Int32Array, n: number, length: number, special: ReadonlySet<number>, rng: Rng): number[] {
  const room = tokens.length - length + 1;
  if (room < 1) throw new InkwellError(`the held-out text has ${tokens.length} tokens, too few for passages of ${length} (prompt + new tokens)`, 'lower --prompt-tokens/--new-tokens or give more text');
  const starts: number[] = [];
  for (let tries = 0; starts.length < n && tries < 100 * n; tries++) {
    const s = rng.int(room);
    if (!tokens.subarray(s, s + length).some((t) => special.has(t))) starts.push(s);
  }
  if (starts.length < n) throw new InkwellError(`could not find ${n} passages of ${length} tokens inside single documents of the held-out text`);
  return starts.sort((a, b) => a - b);
}

function mean(xs: readonly number[]): number {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0;
}
