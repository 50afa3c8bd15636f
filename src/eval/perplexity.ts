/**
 * A model's loss on a token sequence, in units a user can compare: nats and
 * perplexity per token, and bits per character, which does not depend on the
 * tokenizer (a char model and a BPE model of the same text compare directly).
 *
 * The text is cut into windows of T tokens scored by the compiled eval graph
 * (its logits give per-token losses and top-k accuracy). Windows are dealt to
 * B lanes as B contiguous stretches, so a recurrent model carries its state
 * from one window to the next within a lane, as it would reading the text.
 * A GPT starts every window afresh: its first positions see little context,
 * which the per-position loss shows. With a stride S < T (Hugging Face's
 * sliding-window perplexity) a GPT's windows start every S tokens and, after
 * the first, score only their last S positions, so every token is scored once,
 * and every token after the first window with at least T − S tokens before it,
 * at T/S times the compute.
 */
import type { ModelBundle } from '../io/model-dir.js';
import { buildEvalGraph, carriesState, stateNames } from '../models/lm.js';
import type { TypedArray } from '../runtime/session.js';
import { CompiledStep } from '../runtime/step.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import { InkwellError } from '../utils/errors.js';

export interface PerplexityOptions {
  /** Tokens per window (default: a GPT's n_positions; 128 for recurrent models). */
  context?: number;
  /** GPT only: tokens between window starts, 1…context (default: the context, non-overlapping windows). */
  stride?: number;
  /** Windows scored per run (default: as many as fit in ~64 MB of logits, at most 16). */
  batch?: number;
  threads?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface PerplexityResult {
  /** Tokens predicted (each given the tokens before it in its window). */
  tokens: number;
  /** Characters of those tokens' text (special tokens excluded). */
  characters: number;
  /** Total negative log-likelihood in nats. */
  nats: number;
  /** Mean nats per token (the training loss). */
  loss: number;
  perplexity: number;
  bitsPerToken: number;
  bitsPerCharacter: number;
  /** Share of tokens that were the model's most likely prediction (teacher forcing). */
  top1: number;
  /** Share of tokens among the model's five most likely predictions. */
  top5: number;
  context: number;
  stride: number;
  batch: number;
  /** Mean loss at each position of a window over all windows, scored or not (0 = first token after the window start). */
  perPositionLoss: number[];
  /** Tokens at the end too few to fill a window, left unscored. */
  unscoredTokens: number;
}

const LOGITS_BUDGET = 16 * 1024 * 1024;

export async function evaluatePerplexity(bundle: ModelBundle, tokens: Int32Array, o: PerplexityOptions = {}): Promise<PerplexityResult> {
  const { model, weights, tokenizer } = bundle;
  const V = model.vocabSize;
  if (tokens.length < 2) throw new InkwellError(`the evaluation text has ${tokens.length} token(s); at least 2 are needed to score one`);
  const maxContext = model.contextLength ?? Infinity;
  if (o.context !== undefined && o.context > maxContext) throw new InkwellError(`--context ${o.context} exceeds the model's context of ${maxContext}`);
  if (o.stride !== undefined && o.stride !== o.context && carriesState(model)) {
    throw new InkwellError('--stride applies to GPT models: a recurrent model carries its state from one window to the next instead');
  }
  const T = Math.min(o.context ?? model.contextLength ?? 128, tokens.length - 1);
  const S = o.stride ?? T;
  if (!(Number.isInteger(S) && S >= 1 && S <= T)) {
    const why = T < (o.context ?? maxContext) ? ` (the context, shortened to fit the text's ${tokens.length} tokens)` : ' (the context)';
    throw new InkwellError(`--stride ${S} must be an integer from 1 to ${T}${why}`);
  }
  const windows = 1 + Math.floor((tokens.length - 1 - T) / S);
  const B = Math.min(o.batch ?? Math.max(1, Math.min(16, Math.floor(LOGITS_BUDGET / (T * V)))), windows);
  const steps = Math.ceil(windows / B);

  const runner = new CompiledStep({ weights, state: stateNames(model), threads: o.threads });
  const graph = () => buildEvalGraph(model, B, T, { withLogits: true });
  // A lane's state runs on from one window to the next (recurrent models).
  const carry = new Map<string, TypedArray>();

  let nats = 0;
  let top1 = 0;
  let top5 = 0;
  const positionNats = new Float64Array(T);
  const x = new Int32Array(B * T);
  const y = new Int32Array(B * T);
  try {
    for (let step = 0; step < steps; step++) {
      // Lane b reads windows b·steps, b·steps + 1, …; lanes past the last window re-read window 0 and are ignored.
      const windowOf = (b: number) => b * steps + step;
      for (let b = 0; b < B; b++) {
        const w = windowOf(b) < windows ? windowOf(b) : 0;
        x.set(tokens.subarray(w * S, w * S + T), b * T);
        y.set(tokens.subarray(w * S + 1, w * S + T + 1), b * T);
      }
      const out = await runner.run('eval', graph, { ids: x, targets: y }, { carry, fetch: ['logits'] });
      const logits = out.logits as Float32Array;
      for (let b = 0; b < B; b++) {
        if (windowOf(b) >= windows) continue;
        for (let t = 0; t < T; t++) {
          const row = logits.subarray((b * T + t) * V, (b * T + t + 1) * V);
          const { nll, rank } = scoreTarget(row, y[b * T + t]!);
          positionNats[t]! += nll;
          if (windowOf(b) > 0 && t < T - S) continue; // an earlier window scored this token
          nats += nll;
          if (rank === 0) top1++;
          if (rank < 5) top5++;
        }
      }
      o.onProgress?.(step + 1, steps);
    }
  } finally {
    await runner.release();
  }

  const scored = T + (windows - 1) * S;
  const characters = textLength(tokenizer, tokens.subarray(1, scored + 1));
  const loss = nats / scored;
  return {
    tokens: scored,
    characters,
    nats,
    loss,
    perplexity: Math.exp(loss),
    bitsPerToken: loss / Math.LN2,
    bitsPerCharacter: characters > 0 ? nats / characters / Math.LN2 : NaN,
    top1: top1 / scored,
    top5: top5 / scored,
    context: T,
    stride: S,
    batch: B,
    perPositionLoss: Array.from(positionNats, (v) => v / windows),
    unscoredTokens: tokens.length - 1 - scored,
  };
}

/** −log softmax(row)[target], and how many tokens the model ranked strictly above the target. */
export function scoreTarget(row: Float32Array, target: number): { nll: number; rank: number } {
  let max = -Infinity;
  for (let i = 0; i < row.length; i++) if (row[i]! > max) max = row[i]!;
  let sum = 0;
  let rank = 0;
  const x = row[target]!;
  for (let i = 0; i < row.length; i++) {
    sum += Math.exp(row[i]! - max);
    if (row[i]! > x) rank++;
  }
  return { nll: max + Math.log(sum) - x, rank };
}

/** Characters (code points) of the text of `ids`, special tokens (document separators) left out. */
export function textLength(tokenizer: Tokenizer, ids: ArrayLike<number>): number {
  const special = new Set(tokenizer.specialTokens.values());
  const plain = Array.from(ids).filter((id) => !special.has(id));
  let n = 0;
  for (const _ of tokenizer.decode(plain)) n++;
  return n;
}
