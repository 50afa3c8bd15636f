/**
 * Count-based baselines that put a neural model's loss in context: an add-one
 * unigram model and an interpolated Kneser–Ney n-gram model (Chen & Goodman
 * 1998, §3.5), both trained on token ids.
 *
 * N-grams are stored as numbers (base-vocabSize digits) in sorted
 * Float64Arrays found by binary search: counting is one typed-array sort, and
 * memory stays at 8–16 bytes per distinct n-gram however large the corpus.
 */
import { InkwellError } from '../utils/errors.js';

export interface TokenLanguageModel {
  readonly name: string;
  /** Tokens of context the model looks at (order − 1). */
  readonly contextSize: number;
  /** Natural log of P(token | context), where `context` holds the tokens just before it (only the last contextSize matter). */
  logProb(context: ArrayLike<number>, token: number): number;
}

/** Total negative log-likelihood (nats) of tokens[from…], each given the tokens before it. */
export function totalNll(model: TokenLanguageModel, tokens: ArrayLike<number>, from = 1): number {
  let nats = 0;
  const ctx: number[] = [];
  for (let i = Math.max(0, from - model.contextSize); i < tokens.length; i++) {
    if (i >= from) nats -= model.logProb(ctx, tokens[i]!);
    ctx.push(tokens[i]!);
    if (ctx.length > model.contextSize) ctx.shift();
  }
  return nats;
}

/** P(w) = (count(w) + 1) / (N + V): every id of the vocabulary keeps some probability. */
export class UnigramModel implements TokenLanguageModel {
  readonly name = 'unigram (add-one)';
  readonly contextSize = 0;
  private readonly counts: Float64Array;
  private readonly total: number;

  constructor(tokens: ArrayLike<number>, readonly vocabSize: number) {
    this.counts = new Float64Array(vocabSize);
    for (let i = 0; i < tokens.length; i++) this.counts[tokens[i]!]!++;
    this.total = tokens.length + vocabSize;
  }

  logProb(_context: ArrayLike<number>, token: number): number {
    return Math.log((this.counts[token]! + 1) / this.total);
  }
}

/** Distinct k-grams with their counts, and per (k−1)-gram context the sum of those counts and the number of distinct continuations. */
interface OrderTable {
  keys: Float64Array;
  counts: Float64Array;
  contextKeys: Float64Array;
  contextTotals: Float64Array;
  contextTypes: Float64Array;
  discount: number;
}

export interface KneserNeyOptions {
  /** N-gram order (default 3). */
  order?: number;
  /** Absolute discount for every order; default: Ney's estimate n1/(n1 + 2·n2) per order. */
  discount?: number;
}

/**
 * Interpolated Kneser–Ney. The highest order uses raw counts; each lower
 * order uses continuation counts N1+(• w) — how many distinct tokens precede
 * it — and the unigram level interpolates with the uniform distribution, so
 * unseen tokens get probability too:
 *
 *   P_k(w | h) = max(c(h w) − D_k, 0) / c(h •) + D_k · N1+(h •) / c(h •) · P_{k−1}(w | h')
 *
 * where h' drops the oldest token of h; a context never seen backs off to
 * P_{k−1} entirely. Each level sums to 1 over the vocabulary.
 */
export class KneserNeyModel implements TokenLanguageModel {
  readonly name: string;
  readonly order: number;
  readonly contextSize: number;
  /** tables[k − 1] holds the k-grams. */
  private readonly tables: OrderTable[] = [];

  constructor(tokens: ArrayLike<number>, readonly vocabSize: number, o: KneserNeyOptions = {}) {
    this.order = o.order ?? 3;
    this.contextSize = this.order - 1;
    this.name = `Kneser–Ney ${this.order}-gram`;
    if (!(Number.isInteger(this.order) && this.order >= 1)) throw new InkwellError(`n-gram order must be an integer ≥ 1, got ${this.order}`);
    if (o.discount !== undefined && !(o.discount > 0 && o.discount < 1)) throw new InkwellError(`the Kneser–Ney discount must be in (0, 1), got ${o.discount}`);
    if (vocabSize ** this.order > Number.MAX_SAFE_INTEGER) {
      throw new InkwellError(`a ${this.order}-gram model over ${vocabSize} token ids cannot key its n-grams exactly`, 'use a lower order');
    }
    if (tokens.length < this.order) throw new InkwellError(`the training text has ${tokens.length} tokens, fewer than the n-gram order ${this.order}`);
    let [keys, counts] = countKeys(ngramKeys(tokens, this.order, vocabSize));
    const tables: OrderTable[] = [];
    for (let k = this.order; k >= 1; k--) {
      tables[k - 1] = withContexts(keys, counts, vocabSize, o.discount);
      if (k > 1) {
        // Each distinct k-gram adds one to the continuation count of its (k−1)-gram suffix.
        const mod = vocabSize ** (k - 1);
        [keys, counts] = countKeys(keys.map((key) => key % mod));
      }
    }
    this.tables = tables;
  }

  logProb(context: ArrayLike<number>, token: number): number {
    const h = Math.min(context.length, this.order - 1);
    return Math.log(this.prob(context, context.length - h, h, token));
  }

  /** P_{h+1}(token | context[start … start+h)). */
  private prob(context: ArrayLike<number>, start: number, h: number, token: number): number {
    if (h < 0) return 1 / this.vocabSize;
    const t = this.tables[h]!;
    let ctxKey = 0;
    for (let i = start; i < start + h; i++) ctxKey = ctxKey * this.vocabSize + context[i]!;
    const lower = () => this.prob(context, start + 1, h - 1, token);
    const c = find(t.contextKeys, ctxKey);
    if (c < 0) return lower();
    const total = t.contextTotals[c]!;
    const at = find(t.keys, ctxKey * this.vocabSize + token);
    const count = at < 0 ? 0 : t.counts[at]!;
    return Math.max(count - t.discount, 0) / total + ((t.discount * t.contextTypes[c]!) / total) * lower();
  }
}

function ngramKeys(tokens: ArrayLike<number>, n: number, V: number): Float64Array {
  const out = new Float64Array(tokens.length - n + 1);
  const mod = V ** (n - 1);
  let key = 0;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (!(t >= 0 && t < V)) throw new InkwellError(`token id ${t} is outside the vocabulary of ${V}`);
    key = (key % mod) * V + t;
    if (i >= n - 1) out[i - n + 1] = key;
  }
  return out;
}

/** Sorts `keys` and collapses runs: distinct keys and how often each occurs. */
function countKeys(keys: Float64Array): [Float64Array, Float64Array] {
  keys.sort();
  const uniq = new Float64Array(keys.length);
  const counts = new Float64Array(keys.length);
  let n = 0;
  for (let i = 0; i < keys.length; i++) {
    if (n > 0 && uniq[n - 1] === keys[i]) counts[n - 1]!++;
    else {
      uniq[n] = keys[i]!;
      counts[n++] = 1;
    }
  }
  return [uniq.slice(0, n), counts.slice(0, n)];
}

/** Groups sorted k-gram keys by their context (key / V) and estimates the discount. */
function withContexts(keys: Float64Array, counts: Float64Array, V: number, discount: number | undefined): OrderTable {
  const contextKeys: number[] = [];
  const contextTotals: number[] = [];
  const contextTypes: number[] = [];
  let n1 = 0;
  let n2 = 0;
  for (let i = 0; i < keys.length; i++) {
    const ctx = Math.floor(keys[i]! / V);
    const c = counts[i]!;
    if (c === 1) n1++;
    if (c === 2) n2++;
    const last = contextKeys.length - 1;
    if (last >= 0 && contextKeys[last] === ctx) {
      contextTotals[last] += c;
      contextTypes[last]!++;
    } else {
      contextKeys.push(ctx);
      contextTotals.push(c);
      contextTypes.push(1);
    }
  }
  // Ney et al. (1994): D = n1 / (n1 + 2·n2); fall back to the customary 0.75 when the counts cannot estimate it.
  const estimated = n1 > 0 && n2 > 0 ? n1 / (n1 + 2 * n2) : 0.75;
  return {
    keys,
    counts,
    contextKeys: Float64Array.from(contextKeys),
    contextTotals: Float64Array.from(contextTotals),
    contextTypes: Float64Array.from(contextTypes),
    discount: discount ?? estimated,
  };
}

/** Index of `key` in the sorted array, or −1. */
function find(sorted: Float64Array, key: number): number {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = sorted[mid]!;
    if (v === key) return mid;
    if (v < key) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}
