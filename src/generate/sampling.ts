/**
 * Next-token selection from one row of logits, in the order Hugging Face's
 * `generate` applies its logits processors:
 *
 *   1. repetition penalty (CTRL, Keskar et al. 2019; HF `repetition_penalty`):
 *      for every distinct token already in the sequence — prompt and generated
 *      text alike — a positive logit is divided by the penalty and a negative
 *      one multiplied by it, so a penalty > 1 always makes repeats less likely;
 *   2. frequency and presence penalties (OpenAI): for every token generated so
 *      far (the prompt does not count), logit −= count · frequency_penalty
 *      + (count > 0) · presence_penalty;
 *   3. greedy decoding (or temperature 0) takes the argmax here;
 *   4. temperature divides the logits;
 *   5. top-k keeps the k largest logits (ties with the k-th are kept, as HF does);
 *   6. top-p (nucleus, Holtzman et al. 2019) keeps the smallest set of most
 *      likely tokens whose probability mass reaches p;
 *   7. one token is drawn from the renormalised distribution with the seeded Rng.
 */
import { InkwellError } from '../utils/errors.js';
import type { Rng } from '../utils/rng.js';

export interface SamplingOptions {
  /** Always take the most likely token (after penalties); the same as temperature 0. */
  greedy?: boolean;
  /** Divides the logits: < 1 sharpens, > 1 flattens (default 1; 0 means greedy). */
  temperature?: number;
  /** Keep only the k most likely tokens (default 0: off). */
  topK?: number;
  /** Keep the smallest set of most likely tokens with total probability ≥ p (default 1: off). */
  topP?: number;
  /** HF/CTRL repetition penalty over prompt and generated tokens (default 1: off). */
  repetitionPenalty?: number;
  /** OpenAI frequency penalty per earlier occurrence in the generated text, in [-2, 2] (default 0). */
  frequencyPenalty?: number;
  /** OpenAI presence penalty for any token already generated, in [-2, 2] (default 0). */
  presencePenalty?: number;
}

export type ResolvedSampling = Required<SamplingOptions>;

/** Fills in defaults and rejects out-of-range values with an error naming the option. */
export function resolveSampling(o: SamplingOptions = {}): ResolvedSampling {
  const r: ResolvedSampling = {
    greedy: o.greedy ?? false,
    temperature: o.temperature ?? 1,
    topK: o.topK ?? 0,
    topP: o.topP ?? 1,
    repetitionPenalty: o.repetitionPenalty ?? 1,
    frequencyPenalty: o.frequencyPenalty ?? 0,
    presencePenalty: o.presencePenalty ?? 0,
  };
  const fail = (name: string, want: string, got: number) => new InkwellError(`${name} must be ${want}, got ${got}`);
  if (!(r.temperature >= 0 && Number.isFinite(r.temperature))) throw fail('temperature', 'a finite number ≥ 0', r.temperature);
  if (!(Number.isInteger(r.topK) && r.topK >= 0)) throw fail('topK', 'an integer ≥ 0 (0 = off)', r.topK);
  if (!(r.topP > 0 && r.topP <= 1)) throw fail('topP', 'in (0, 1]', r.topP);
  if (!(r.repetitionPenalty > 0 && Number.isFinite(r.repetitionPenalty))) throw fail('repetitionPenalty', 'a finite number > 0', r.repetitionPenalty);
  if (!(r.frequencyPenalty >= -2 && r.frequencyPenalty <= 2)) throw fail('frequencyPenalty', 'in [-2, 2]', r.frequencyPenalty);
  if (!(r.presencePenalty >= -2 && r.presencePenalty <= 2)) throw fail('presencePenalty', 'in [-2, 2]', r.presencePenalty);
  if (r.temperature === 0) r.greedy = true;
  return r;
}

/** What a choice from penalised logits depends on (steps 3–7). */
export type Filters = Pick<ResolvedSampling, 'greedy' | 'temperature' | 'topK' | 'topP'>;

/**
 * The filters when this sampler's choice depends on nothing but the raw logits and one uniform draw
 * (no penalty), so that a decoder may choose inside its graph (IncrementalDecoder.chunks) and yield
 * the same tokens; undefined otherwise.
 */
export function inGraphChoice(o: ResolvedSampling): Filters | undefined {
  if (o.repetitionPenalty !== 1 || o.frequencyPenalty !== 0 || o.presencePenalty !== 0) return undefined;
  return { greedy: o.greedy, temperature: o.temperature, topK: o.topK, topP: o.topP };
}

/**
 * Steps 3–7 on (penalised) logits `x`: the argmax, or the token drawn with `uniform()` ∈ [0, 1)
 * (called once, and only when sampling); -1 when every logit is -infinity or NaN. It is also the
 * reference of the graph op `sample` (graph/ops/sample.ts), which computes the same, in float64 and
 * in the same order, inside ONNX Runtime.
 */
export function chooseToken(x: Float32Array, o: Filters, uniform: () => number): number {
  if (o.greedy) return argmax(x);
  let candidates = finiteIndices(x);
  if (candidates.length === 0) return -1;
  if (o.topK > 0 && o.topK < candidates.length) candidates = topK(x, candidates, o.topK);
  const weights = exps(x, candidates, o.temperature);
  if (o.topP < 1) return draw(...nucleus(normalised(weights), candidates, o.topP), uniform());
  return draw(weights, candidates, uniform());
}

/** Index of the largest value (the first one on ties). */
export function argmax(x: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < x.length; i++) if (x[i]! > x[best]!) best = i;
  return best;
}

/**
 * Chooses the tokens of one sequence. It remembers what the sequence holds so
 * far (for the penalties) and owns the sequence's random stream, so a sequence
 * samples the same text whatever else is decoded beside it.
 */
export class TokenSampler {
  private readonly inSequence = new Set<number>();
  private readonly generatedCounts = new Map<number, number>();
  private scratch = new Float32Array(0);

  constructor(
    private readonly o: ResolvedSampling,
    private readonly rng: Rng,
    prompt: Iterable<number> = [],
  ) {
    for (const t of prompt) this.inSequence.add(t);
  }

  /** Chooses the next token from `logits` (one row, length vocab) and records it as generated. */
  next(logits: Float32Array): number {
    const token = this.choose(logits);
    this.record(token);
    return token;
  }

  /** Records a token chosen elsewhere (in a decoder's graph, see inGraphChoice) as if chosen here. */
  record(token: number): void {
    this.inSequence.add(token);
    this.generatedCounts.set(token, (this.generatedCounts.get(token) ?? 0) + 1);
  }

  /**
   * The raw 32-bit draws of the next `count` sampled tokens, for a decoder that samples them in its
   * graph: each token consumes one, as next() does (its uniform is the draw / 2^32).
   */
  draws(count: number): Uint32Array {
    return Uint32Array.from({ length: count }, () => this.rng.nextUint32());
  }

  private choose(logits: Float32Array): number {
    const token = chooseToken(this.penalised(logits), this.o, () => this.rng.float());
    if (token < 0) throw noCandidate();
    return token;
  }

  /** A copy of `logits` with the repetition, frequency and presence penalties applied. */
  private penalised(logits: Float32Array): Float32Array {
    if (this.scratch.length !== logits.length) this.scratch = new Float32Array(logits.length);
    const x = this.scratch;
    x.set(logits);
    const rep = this.o.repetitionPenalty;
    if (rep !== 1) {
      for (const t of this.inSequence) x[t] = x[t]! > 0 ? x[t]! / rep : x[t]! * rep;
    }
    const { frequencyPenalty: freq, presencePenalty: pres } = this.o;
    if (freq !== 0 || pres !== 0) {
      for (const [t, count] of this.generatedCounts) x[t] = x[t]! - count * freq - pres;
    }
    return x;
  }
}

/** The error of a choice with no candidate (chooseToken's -1). */
export const noCandidate = (): InkwellError => new InkwellError('every next-token logit is -infinity or NaN; the model cannot continue');

/**
 * The candidate at which the running sum of `weights` first exceeds u = uniform · (their total). As
 * uniform ≤ 1 − 2^-32, u < total even after rounding, so one always does: when no earlier one has, the
 * last. (A running sum, not u minus each weight in turn, so that a graph can compute it with CumSum and
 * get the same bits.)
 */
function draw(weights: Float64Array, candidates: Int32Array, uniform: number): number {
  let total = 0;
  for (let i = 0; i < weights.length; i++) total += weights[i]!;
  const u = uniform * total;
  let acc = 0;
  for (let i = 0; i < weights.length - 1; i++) {
    acc += weights[i]!;
    if (u < acc) return candidates[i]!;
  }
  return candidates[candidates.length - 1]!;
}

function finiteIndices(x: Float32Array): Int32Array {
  const out = new Int32Array(x.length);
  let n = 0;
  for (let i = 0; i < x.length; i++) if (Number.isFinite(x[i]!) || x[i] === Infinity) out[n++] = i;
  return out.subarray(0, n);
}

/** Candidates whose logit is at least the k-th largest (so ties with it survive). */
function topK(x: Float32Array, candidates: Int32Array, k: number): Int32Array {
  const values = Float32Array.from(candidates, (i) => x[i]!).sort();
  const threshold = values[values.length - k]!;
  return candidates.filter((i) => x[i]! >= threshold);
}

/** exp((x − max) / temperature) of `candidates`, in candidate order: softmax's numerators, which sampling draws from as they are. */
function exps(x: Float32Array, candidates: Int32Array, temperature: number): Float64Array {
  let max = -Infinity;
  for (const i of candidates) if (x[i]! > max) max = x[i]!;
  const e = new Float64Array(candidates.length);
  for (let j = 0; j < candidates.length; j++) {
    // An infinite logit takes all the mass; (inf − inf) would be NaN.
    const z = max === Infinity ? (x[candidates[j]!] === Infinity ? 0 : -Infinity) : (x[candidates[j]!]! - max) / temperature;
    e[j] = Math.exp(z);
  }
  return e;
}

/** `weights` divided by their sum: probabilities. */
function normalised(weights: Float64Array): Float64Array {
  let sum = 0;
  for (let j = 0; j < weights.length; j++) sum += weights[j]!;
  return weights.map((w) => w / sum);
}

/**
 * The nucleus: most likely first, up to and including the token at which the
 * cumulative probability reaches `topP`. Only tokens with probability ≥
 * (1 − topP)/n can be in it — the rest together hold less than 1 − topP — so
 * they are dropped before the sort, which keeps large vocabularies cheap.
 */
function nucleus(probs: Float64Array, candidates: Int32Array, topP: number): [Float64Array, Int32Array] {
  const floor = (1 - topP) / probs.length;
  const order: number[] = [];
  for (let j = 0; j < probs.length; j++) if (probs[j]! >= floor) order.push(j);
  order.sort((a, b) => probs[b]! - probs[a]! || candidates[a]! - candidates[b]!);
  let mass = 0;
  let kept = 0;
  while (kept < order.length && mass < topP) mass += probs[order[kept++]!]!;
  const keep = order.slice(0, Math.max(kept, 1));
  return [Float64Array.from(keep, (j) => probs[j]!), Int32Array.from(keep, (j) => candidates[j]!)];
}
