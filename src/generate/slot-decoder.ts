/**
 * Decoding for sequences that come and go (the server's continuous batching):
 * a fixed number of slots, each holding one sequence's KV cache (GPT) or
 * carried state (LSTM/GRU). Any set of slots can be fed in one run, each at
 * its own length, so a new sequence reads its prompt into a free slot while
 * the others wait, and a finished one frees its slot for the next at once.
 *
 * This sits beside IncrementalDecoder (decoders.ts), which decodes a fixed
 * batch in lockstep and stays the fastest path for one sequence; both use the
 * same decode graphs and weights handling.
 */
import type { ModelBundle } from '../io/model-dir.js';
import { stateNames, type BuiltGraph, type Decoding } from '../models/lm.js';
import { CompiledGraph, type Feeds, type InputSpec } from '../runtime/session.js';
import { InkwellError } from '../utils/errors.js';
import { fixedWeights, writeHeadRows, type DecoderOptions, type KvCacheDecoding } from './decoders.js';

export interface SlotFeed {
  slot: number;
  tokens: readonly number[];
}

export interface SlotDecoder {
  /** Sequences held at once. */
  readonly slots: number;
  readonly vocabSize: number;
  /** Tokens one slot can hold (GPT: n_positions; RNNs: unbounded). */
  readonly maxLength: number;
  /** Tokens the slot holds now. */
  length(slot: number): number;
  /** Empties a slot: its next feed starts a new sequence. */
  clear(slot: number): void;
  /**
   * Appends each row's tokens to its slot (distinct slots, the same number of
   * tokens T ≥ 1 in every row) and returns the logits after each row's last
   * token, [rows.length, vocabSize] in row order.
   */
  feed(rows: readonly SlotFeed[]): Promise<Float32Array>;
  /** Frees the compiled session. */
  release(): Promise<void>;
}

export async function createSlotDecoder(bundle: ModelBundle, slots: number, opts: DecoderOptions = {}): Promise<SlotDecoder> {
  if (!(Number.isInteger(slots) && slots > 0)) throw new InkwellError(`slots must be a positive integer, got ${slots}`);
  const decoding = bundle.model.decoding;
  return decoding.type === 'kv-cache' ? KvCacheSlotDecoder.create(decoding, bundle, slots, opts) : RecurrentSlotDecoder.create(decoding, bundle, slots, opts);
}


/** Checks rows against the slots and vocabulary; returns their common token count. */
function checkRows(rows: readonly SlotFeed[], slots: number, vocab: number): number {
  if (rows.length === 0) throw new InkwellError('feed: no rows');
  const T = rows[0]!.tokens.length;
  const seen = new Set<number>();
  for (const { slot, tokens } of rows) {
    if (!(Number.isInteger(slot) && slot >= 0 && slot < slots)) throw new InkwellError(`feed: slot ${slot} is outside 0..${slots - 1}`);
    if (seen.has(slot)) throw new InkwellError(`feed: slot ${slot} is fed twice`);
    seen.add(slot);
    if (tokens.length !== T || T < 1) throw new InkwellError(`feed: every row must have the same number (≥ 1) of tokens, got ${tokens.length} and ${T}`);
    for (const t of tokens) if (!(Number.isInteger(t) && t >= 0 && t < vocab)) throw new InkwellError(`feed: token id ${t} is outside the vocabulary (size ${vocab})`);
  }
  return T;
}

/** Cache capacity per slot moves in steps of this many tokens, so it is re-laid out at most once per 64 tokens. */
const CACHE_STEP = 64;

/**
 * GPT with one per-head key/value cache per layer, [slots, n_head, capacity,
 * head_dim]: a slot's cache is contiguous, so any contiguous range of slots is
 * fed to ORT as a zero-copy view, with the attention mask hiding each slot's
 * unfilled tail (and slots in the range that are not fed this step). Only the
 * new tokens' rows are fetched and written in (see KvCacheDecoder in decoders.ts for why).
 */
class KvCacheSlotDecoder implements SlotDecoder {
  private readonly lengths: Int32Array;
  private capacity = 0;
  /** Per layer, keys then values. */
  private cache: Float32Array[] = [];

  private constructor(
    private readonly decoding: KvCacheDecoding,
    readonly vocabSize: number,
    readonly maxLength: number,
    readonly slots: number,
    private readonly session: CompiledGraph,
  ) {
    this.lengths = new Int32Array(slots);
  }

  static async create(decoding: KvCacheDecoding, bundle: ModelBundle, slots: number, opts: DecoderOptions): Promise<KvCacheSlotDecoder> {
    const { graph, outputs } = decoding.buildGraph({ cache: 'heads' });
    const session = await CompiledGraph.compile(graph, outputs, { threads: opts.threads, quantize: opts.quantize, ...fixedWeights(bundle, opts) });
    return new KvCacheSlotDecoder(decoding, bundle.model.vocabSize, bundle.model.contextLength ?? Infinity, slots, session);
  }

  length(slot: number): number {
    return this.lengths[slot]!;
  }

  clear(slot: number): void {
    this.lengths[slot] = 0;
  }

  async feed(rows: readonly SlotFeed[]): Promise<Float32Array> {
    const { layers: nLayer, heads: H, width: C } = this.decoding;
    const [V, D] = [this.vocabSize, C / H];
    const T = checkRows(rows, this.slots, V);
    for (const { slot } of rows) {
      if (this.lengths[slot]! + T > this.maxLength) throw new InkwellError(`feed: slot ${slot} would hold ${this.lengths[slot]! + T} tokens, over the model's context of ${this.maxLength}`);
    }
    // Shrink a cache grown for sequences that have since ended, so attention stays proportional to what is held.
    this.relayout(Math.max(...this.lengths));
    // Sequences starting afresh (prompts read together) have no past: fed compactly with an empty cache,
    // whichever their slots. Otherwise the contiguous slot range [lo, hi] is fed as a view of the cache.
    const fresh = rows.every((r) => this.lengths[r.slot] === 0);
    const lo = fresh ? 0 : Math.min(...rows.map((r) => r.slot));
    const hi = fresh ? rows.length - 1 : Math.max(...rows.map((r) => r.slot));
    const rowOf = new Map(rows.map(({ slot }, k) => [slot, fresh ? k : slot - lo]));
    const [R, N] = [hi - lo + 1, fresh ? 0 : this.capacity];
    const ids = new BigInt64Array(R * T);
    const positions = new BigInt64Array(R * T);
    // Past slots [0, N) are hidden except each fed slot's first `length`; the T new tokens are always visible.
    const mask = new BigInt64Array(R * (N + T));
    for (let r = 0; r < R; r++) mask.fill(1n, r * (N + T) + N, (r + 1) * (N + T));
    for (const { slot, tokens } of rows) {
      const [r, P] = [rowOf.get(slot)!, this.lengths[slot]!];
      for (let t = 0; t < T; t++) {
        ids[r * T + t] = BigInt(tokens[t]!);
        positions[r * T + t] = BigInt(P + t);
      }
      mask.fill(1n, r * (N + T), r * (N + T) + P);
    }
    const feeds: Record<string, Feeds[string]> = {
      input_ids: { data: ids, dims: [R, T] },
      attention_mask: { data: mask, dims: [R, N + T] },
      position_ids: { data: positions, dims: [R, T] },
    };
    const span = H * N * D;
    for (let i = 0; i < nLayer; i++) {
      for (const [j, kind] of (['key', 'value'] as const).entries()) {
        const cache = fresh ? new Float32Array(0) : (this.cache[2 * i + j] ?? new Float32Array(0));
        feeds[`past_key_values.${i}.${kind}`] = { data: cache.subarray(lo * span, (hi + 1) * span), dims: [R, H, N, D] };
      }
    }
    const out = await this.session.run(feeds, { fetch: ['logits', 'new'] });
    // Room for the new rows, keeping every slot's (fed or not).
    this.relayout(Math.max(...this.lengths, ...rows.map((r) => this.lengths[r.slot]! + T)));
    for (let i = 0; i < 2 * nLayer; i++) {
      for (const { slot } of rows) writeHeadRows(this.decoding, out.new as Float32Array, i, rowOf.get(slot)!, T, this.cache[i]!, slot, this.capacity, this.lengths[slot]!);
    }
    const logits = out.logits as Float32Array; // [R, T, V]
    const last = new Float32Array(rows.length * V);
    rows.forEach(({ slot }, k) => {
      this.lengths[slot]! += T;
      const r = rowOf.get(slot)!;
      last.set(logits.subarray((r * T + T - 1) * V, (r * T + T) * V), k * V);
    });
    return last;
  }

  /**
   * Re-lays the caches out for `tokens` per slot, rounded up to CACHE_STEP: grows when a slot needs more,
   * shrinks once two steps are unused. Keeps each slot's filled rows.
   */
  private relayout(tokens: number): void {
    const N = Math.min(this.maxLength, Math.ceil(tokens / CACHE_STEP) * CACHE_STEP);
    if (N <= this.capacity && N > this.capacity - 2 * CACHE_STEP) return;
    const { heads: H, width: C, layers: nLayer } = this.decoding;
    const [D, old] = [C / H, this.capacity];
    this.cache = Array.from({ length: 2 * nLayer }, (_, i) => {
      const next = new Float32Array(this.slots * H * N * D);
      const prev = this.cache[i];
      for (let s = 0; prev && s < this.slots; s++) {
        const keep = Math.min(this.lengths[s]!, N) * D;
        for (let h = 0; h < H; h++) next.set(prev.subarray((s * H + h) * old * D, (s * H + h) * old * D + keep), (s * H + h) * N * D);
      }
      return next;
    });
    this.capacity = N;
  }

  release(): Promise<void> {
    return this.session.release();
  }
}

/**
 * LSTM/GRU: the decoders' prompt and one-token step graphs with a symbolic
 * batch; each slot's state rows ([layers, hidden] per state input) are
 * gathered into the batch of the rows fed and scattered back after the run.
 */
class RecurrentSlotDecoder implements SlotDecoder {
  readonly maxLength = Infinity;
  private readonly lengths: Int32Array;
  /** Per state input, [layers, slots, hidden]. */
  private readonly state: Float32Array[];
  private readonly stateInputs: readonly InputSpec[];

  private constructor(
    readonly slots: number,
    readonly vocabSize: number,
    /** One token per row, and any number per row (a prompt): the decoders' step and prompt graphs. */
    private readonly sessions: { step: CompiledGraph; prompt: CompiledGraph },
    stateNames: readonly string[],
  ) {
    this.lengths = new Int32Array(slots);
    this.stateInputs = sessions.step.inputs.filter((i) => stateNames.includes(i.name));
    this.state = this.stateInputs.map((s) => new Float32Array(this.layers(s) * slots * this.hidden(s)));
  }

  static async create(decoding: Extract<Decoding, { type: 'recurrent' }>, bundle: ModelBundle, slots: number, opts: DecoderOptions): Promise<RecurrentSlotDecoder> {
    // The batch left symbolic so one session serves any number of rows.
    const compile = (built: BuiltGraph) => CompiledGraph.compile(built.graph, built.outputs, { threads: opts.threads, quantize: opts.quantize, ...fixedWeights(bundle, opts) });
    const [step, prompt] = await Promise.all([compile(decoding.buildStepGraph('batch')), compile(decoding.buildPromptGraph('batch'))]);
    return new RecurrentSlotDecoder(slots, bundle.model.vocabSize, { step, prompt }, stateNames(bundle.model));
  }

  private layers(s: InputSpec): number {
    return s.shape[0] as number;
  }

  private hidden(s: InputSpec): number {
    return s.shape[2] as number;
  }

  length(slot: number): number {
    return this.lengths[slot]!;
  }

  clear(slot: number): void {
    this.lengths[slot] = 0;
    this.stateInputs.forEach((s, i) => {
      const [L, Hd] = [this.layers(s), this.hidden(s)];
      for (let l = 0; l < L; l++) this.state[i]!.fill(0, (l * this.slots + slot) * Hd, (l * this.slots + slot + 1) * Hd);
    });
  }

  async feed(rows: readonly SlotFeed[]): Promise<Float32Array> {
    const T = checkRows(rows, this.slots, this.vocabSize);
    const R = rows.length;
    // Gather the rows' state: [layers, R, hidden] per input.
    const packed: Float32Array[] = this.stateInputs.map((s, i) => {
      const [L, Hd] = [this.layers(s), this.hidden(s)];
      const out = new Float32Array(L * R * Hd);
      for (let l = 0; l < L; l++) rows.forEach(({ slot }, r) => out.set(this.state[i]!.subarray((l * this.slots + slot) * Hd, (l * this.slots + slot + 1) * Hd), (l * R + r) * Hd));
      return out;
    });
    // Several tokens a row (a prompt): one run of the fused kernels over them all; one: the step graph.
    const feeds: Record<string, Feeds[string]> = { ids: { data: BigInt64Array.from(rows.flatMap((r) => r.tokens), (t) => BigInt(t)), dims: [R, T] } };
    this.stateInputs.forEach((s, i) => (feeds[s.name] = { data: packed[i]!, dims: [this.layers(s), R, this.hidden(s)] }));
    const out = await (T > 1 ? this.sessions.prompt : this.sessions.step).run(feeds);
    this.stateInputs.forEach((s, i) => (packed[i] = out[`${s.name}.out`] as Float32Array));
    this.stateInputs.forEach((s, i) => {
      const [L, Hd] = [this.layers(s), this.hidden(s)];
      for (let l = 0; l < L; l++) rows.forEach(({ slot }, r) => this.state[i]!.set(packed[i]!.subarray((l * R + r) * Hd, (l * R + r + 1) * Hd), (l * this.slots + slot) * Hd));
    });
    for (const { slot } of rows) this.lengths[slot]! += T;
    return out.logits as Float32Array;
  }

  async release(): Promise<void> {
    await Promise.all([this.sessions.step.release(), this.sessions.prompt.release()]);
  }
}
