/**
 * IncrementalDecoder implementations: GPT with a KV cache (one session with
 * symbolic batch, new-token and past lengths) and recurrent models stepping
 * one token at a time with their carried state.
 */
import type { ModelBundle } from '../io/model-dir.js';
import { stateNames, type Decoding, type StepChoice } from '../models/lm.js';
import { CompiledGraph, type CompileOptions, type Feed, type Feeds, type TypedArray } from '../runtime/session.js';
import { CompiledStep } from '../runtime/step.js';
import { InkwellError } from '../utils/errors.js';
import type { QuantizeMode } from '../graph/quantize.js';
import type { ChoiceChunks, IncrementalDecoder } from './incremental-decoder.js';
import type { Filters } from './sampling.js';

export interface DecoderOptions {
  /** ONNX Runtime threads (default: all cores; a recurrent decoder: one, see RecurrentDecoder). */
  threads?: number;
  /** Decode with int8 (`q8`) or int4 (`q4`) weight matrices: several times faster at batch 1, logits no longer bit-exact (see graph/quantize.ts). */
  quantize?: QuantizeMode;
}

export async function createDecoder(bundle: ModelBundle, batch: number, opts: DecoderOptions = {}): Promise<IncrementalDecoder> {
  if (!(Number.isInteger(batch) && batch > 0)) throw new InkwellError(`batch must be a positive integer, got ${batch}`);
  const decoding = bundle.model.decoding;
  return (DECODERS[decoding.type] as DecoderFactory<Decoding>)(decoding, bundle, batch, opts);
}

export type KvCacheDecoding = Extract<Decoding, { type: 'kv-cache' }>;
type RecurrentDecoding = Extract<Decoding, { type: 'recurrent' }>;
type DecoderFactory<D extends Decoding> = (decoding: D, bundle: ModelBundle, batch: number, opts: DecoderOptions) => Promise<IncrementalDecoder>;

/** The decoder for each way of decoding a model says it has (LanguageModel.decoding). */
const DECODERS: { [T in Decoding['type']]: DecoderFactory<Extract<Decoding, { type: T }>> } = {
  'kv-cache': (d, bundle, batch, opts) => KvCacheDecoder.create(d, bundle, batch, opts),
  recurrent: (d, bundle, batch, opts) => RecurrentDecoder.create(d, bundle, batch, opts),
};

/**
 * Weights are baked in: fixed while decoding, and pre-packed by ORT once instead of on every token.
 * A saved model's unread float32 weights are read by ORT from the file itself (quantizing needs them in memory).
 */
export function fixedWeights(bundle: ModelBundle, opts: DecoderOptions): Pick<CompileOptions, 'bake' | 'bakeExternal'> {
  return bundle.weightsFile && !opts.quantize ? { bakeExternal: bundle.weightsFile } : { bake: bundle.weights };
}

/** Last position's logits of [B, T, V] → [B, V]. */
function lastPosition(logits: Float32Array, batch: number, T: number, V: number): Float32Array {
  const out = new Float32Array(batch * V);
  for (let b = 0; b < batch; b++) out.set(logits.subarray((b * T + T - 1) * V, (b * T + T) * V), b * V);
  return out;
}

function checkTokens(tokens: Int32Array, batch: number, vocab: number): number {
  const T = tokens.length / batch;
  if (!Number.isInteger(T) || T < 1) throw new InkwellError(`feed: ${tokens.length} tokens do not fill a batch of ${batch}`);
  for (const t of tokens) if (t < 0 || t >= vocab) throw new InkwellError(`feed: token id ${t} is outside the vocabulary (size ${vocab})`);
  return T;
}

/** Whether a key/value-cache decoder of this batch keeps its cache per head (see KvCacheDecoder). */
const perHeadCache = (batch: number): boolean => batch > 1;

/**
 * Writes cache i's new rows of row `r` of `added` (a decode graph's `new`, [rows, 2·n_layer·T, n_embd], heads
 * merged: row r's [(2·n_layer·r + i)·T, …+T), see Gpt.buildDecodeGraph) into a per-head cache
 * [sequences, n_head, capacity, head_dim] at sequence `s`, after its first P.
 */
export function writeHeadRows(shape: KvCacheDecoding, added: Float32Array, i: number, r: number, T: number, cache: Float32Array, s: number, capacity: number, P: number): void {
  const { heads: H, width: C, layers: L } = shape;
  const D = C / H;
  for (let h = 0; h < H; h++) {
    for (let t = 0; t < T; t++) {
      const from = ((r * 2 * L + i) * T + t) * C + h * D;
      cache.set(added.subarray(from, from + D), ((s * H + h) * capacity + P + t) * D);
    }
  }
}

/** Cache capacity grows by this many tokens per sequence at a time (so it is re-laid out once per 64 tokens). */
const CACHE_STEP = 64;

/**
 * GPT with its key/value cache kept here between runs; each run fetches only the
 * new tokens' rows (`new`) and writes them in, since onnxruntime-node would copy a
 * whole returned cache into a fresh buffer on every token.
 * - batch 1: the cache is [capacity, n_embd] per layer, heads merged (the 'append'
 *   graph), fed to ORT as a zero-copy view of its first `length` rows;
 * - batch > 1: such views would not be contiguous, so the cache is per head,
 *   [batch, n_head, capacity, head_dim] (the 'heads' graph), fed whole, with the
 *   attention mask hiding the slots past `length`.
 */
class KvCacheDecoder implements IncrementalDecoder {
  readonly vocabSize: number;
  readonly maxLength: number;
  length = 0;
  /** Tokens per sequence the cache holds; rows [0, length) are filled. */
  private capacity = 0;
  /** Per layer, keys then values. */
  private cache: Float32Array[] = [];

  private constructor(
    private readonly shape: KvCacheDecoding,
    vocabSize: number,
    contextLength: number,
    readonly batch: number,
    private readonly session: CompiledGraph,
  ) {
    this.vocabSize = vocabSize;
    this.maxLength = contextLength;
  }

  static async create(decoding: KvCacheDecoding, bundle: ModelBundle, batch: number, opts: DecoderOptions): Promise<KvCacheDecoder> {
    const { model } = bundle;
    if (model.contextLength === null) throw new InkwellError(`a key/value cache needs a model with a fixed context, '${model.kind}' has none`);
    const { graph, outputs } = decoding.buildGraph({ cache: perHeadCache(batch) ? 'heads' : 'append' });
    const session = await CompiledGraph.compile(graph, outputs, { threads: opts.threads, quantize: opts.quantize, ...fixedWeights(bundle, opts) });
    return new KvCacheDecoder(decoding, model.vocabSize, model.contextLength, batch, session);
  }

  private get perHead(): boolean {
    return perHeadCache(this.batch);
  }

  reset(): void {
    this.length = 0;
  }

  async feed(tokens: Int32Array): Promise<Float32Array> {
    const { layers: nLayer, heads: H, width: C } = this.shape;
    const [B, V, P] = [this.batch, this.vocabSize, this.length];
    const T = checkTokens(tokens, B, V);
    if (P + T > this.maxLength) throw new InkwellError(`feed: ${P + T} tokens exceed the model's context of ${this.maxLength}`);
    const positions = new BigInt64Array(B * T);
    for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) positions[b * T + t] = BigInt(P + t);
    // Slots attended: the N fed from the cache (the first P filled), then the T new tokens.
    const N = this.perHead ? this.capacity : P;
    const feeds: Record<string, Feeds[string]> = {
      input_ids: { data: BigInt64Array.from(tokens, (t) => BigInt(t)), dims: [B, T] },
      position_ids: { data: positions, dims: [B, T] },
    };
    if (this.perHead) {
      const mask = new BigInt64Array(B * (N + T)).fill(1n);
      for (let b = 0; b < B; b++) mask.fill(0n, b * (N + T) + P, b * (N + T) + N);
      feeds.attention_mask = { data: mask, dims: [B, N + T] };
    } else {
      // Batch 1, every slot filled: new token t may see slots ≤ P + t (the causal part of a prompt).
      const bias = new Float32Array(T * (P + T));
      for (let t = 0; t < T; t++) bias.fill(-1e9, t * (P + T) + P + t + 1, (t + 1) * (P + T));
      feeds.attention_bias = { data: bias, dims: [1, 1, T, P + T] };
    }
    const kinds = ['key', 'value'] as const;
    for (let i = 0; i < nLayer; i++) {
      kinds.forEach((kind, j) => {
        const cache = this.cache[2 * i + j] ?? new Float32Array(0);
        feeds[this.perHead ? `past_key_values.${i}.${kind}` : `cache.${i}.${kind}`] = this.perHead
          ? { data: cache, dims: [B, H, N, C / H] }
          : { data: cache.subarray(0, P * C), dims: [1, P, C] };
      });
    }
    const out = await this.session.run(feeds, { fetch: ['logits', 'new'] });
    this.reserve(P + T);
    for (let i = 0; i < 2 * nLayer; i++) this.write(this.cache[i]!, out.new as Float32Array, i, P, T);
    this.length = P + T;
    return lastPosition(out.logits as Float32Array, B, T, V);
  }

  /**
   * Writes cache i's new rows into it after its first P: in `added` ([batch, 2·n_layer·T, n_embd], heads
   * merged, see Gpt.buildDecodeGraph) they are each sequence's rows [i·T, (i + 1)·T).
   */
  private write(cache: Float32Array, added: Float32Array, i: number, P: number, T: number): void {
    const C = this.shape.width;
    if (!this.perHead) {
      cache.set(added.subarray(i * T * C, (i + 1) * T * C), P * C);
      return;
    }
    for (let b = 0; b < this.batch; b++) writeHeadRows(this.shape, added, i, b, T, cache, b, this.capacity, P);
  }

  /** Grows every cache to hold `tokens` per sequence, keeping its first `length` rows. */
  private reserve(tokens: number): void {
    if (tokens <= this.capacity) return;
    const { heads: H, width: C, layers: nLayer } = this.shape;
    // Rows of `width` floats, each `old` long and `length` filled: one per (sequence, head), or one in all.
    const [rows, width, old] = this.perHead ? [this.batch * H, C / H, this.capacity] : [1, C, this.capacity];
    const N = Math.min(this.maxLength, Math.ceil(tokens / CACHE_STEP) * CACHE_STEP);
    this.cache = Array.from({ length: 2 * nLayer }, (_, i) => {
      const grown = new Float32Array(rows * N * width);
      const prev = this.cache[i];
      for (let r = 0; prev && r < rows; r++) grown.set(prev.subarray(r * old * width, (r * old + this.length) * width), r * N * width);
      return grown;
    });
    this.capacity = N;
  }

  release(): Promise<void> {
    return this.session.release();
  }
}

/**
 * LSTM/GRU: a prompt graph that reads any number of tokens in one run, a one-token step graph, and
 * chunks of CHUNK_STEPS steps choosing their tokens in the graph (Decoding's three), all over the
 * same carried state.
 */
class RecurrentDecoder implements IncrementalDecoder {
  readonly maxLength = Infinity;
  length = 0;
  /** The carried state (`state.h`, `state.c`), each fed back from its `.out` output; empty: zeros. */
  private readonly state = new Map<string, TypedArray>();
  readonly chunks: ChoiceChunks;
  /** The session key of the sampling chunk compiled last: one is kept, as each sampling setting bakes its own graph. */
  private sampling?: string;

  private constructor(
    readonly batch: number,
    readonly vocabSize: number,
    private readonly sessions: CompiledStep,
    private readonly decoding: RecurrentDecoding,
  ) {
    this.chunks = { steps: CHUNK_STEPS, run: (tokens, choice, draws) => this.runChunk(tokens, choice, draws), ready: (choice) => this.sessions.compiled(chunkKey(choice)) };
  }

  static async create(decoding: RecurrentDecoding, bundle: ModelBundle, batch: number, opts: DecoderOptions): Promise<RecurrentDecoder> {
    const { model } = bundle;
    // One thread unless told otherwise: the nodes are too small to split across cores. Measured on 2 quiet
    // cores over whole 200-token greedy generations: batch 1 ~9,100 tok/s on one thread against ~5,500 on
    // two, batch 8 ~24,800 against ~19,100 (a lone chunk is only ~15% faster on two; between runs the
    // second core is worth more to V8).
    const sessions = new CompiledStep({ state: stateNames(model), quantize: opts.quantize, threads: opts.threads ?? 1, ...fixedWeights(bundle, opts) });
    // Only the prompt's graph now, for the first token; the others on their first run (decoding in
    // chunks never runs the step graph, penalties never a chunk).
    await sessions.prepare(PROMPT, () => decoding.buildPromptGraph(batch));
    return new RecurrentDecoder(batch, model.vocabSize, sessions, decoding);
  }

  reset(): void {
    this.length = 0;
    this.state.clear();
  }

  async feed(tokens: Int32Array): Promise<Float32Array> {
    const T = checkTokens(tokens, this.batch, this.vocabSize);
    const ids = { data: BigInt64Array.from(tokens, (t) => BigInt(t)), dims: [this.batch, T] };
    // One token after the first: the step graph, whose fused nodes skip the prompt graph's state reshaping
    // (a first feed of one token stays on the prompt graph, compiled already).
    const [key, build] = T === 1 && this.length > 0 ? [STEP, () => this.decoding.buildStepGraph(this.batch)] : [PROMPT, () => this.decoding.buildPromptGraph(this.batch)];
    const { logits } = await this.sessions.run(key, build, { ids }, { carry: this.state, fetch: ['logits'] });
    this.length += T;
    return logits as Float32Array;
  }

  private async runChunk(tokens: Int32Array, choice: Filters, draws?: Uint32Array): Promise<Int32Array> {
    const [B, K] = [this.batch, CHUNK_STEPS];
    const step: StepChoice = choice.greedy ? 'greedy' : choice;
    const feeds: Record<string, Feed> = { ids: BigInt64Array.from(tokens, (t) => BigInt(t)) };
    const key = chunkKey(choice);
    if (!choice.greedy) {
      if (draws?.length !== B * K) throw new InkwellError(`a sampled chunk needs ${B * K} draws, got ${draws?.length ?? 0}`);
      feeds.draws = BigInt64Array.from(draws, (d) => BigInt(d));
      if (this.sampling !== key && this.sampling) await this.sessions.forget(this.sampling);
      this.sampling = key;
    }
    const { chunk } = await this.sessions.run(key, () => this.decoding.buildChoiceGraph(B, K, step), feeds, { carry: this.state, fetch: ['chunk'] });
    this.length += K;
    const chosen = new Int32Array(B * K); // [steps, B, 1] → [B, steps]
    for (let k = 0; k < K; k++) for (let b = 0; b < B; b++) chosen[b * K + k] = Number(chunk![k * B + b]!);
    return chosen;
  }

  release(): Promise<void> {
    return this.sessions.release();
  }
}

/** The recurrent decoder's sessions besides its chunks': a prompt, and one token. */
const PROMPT = 'prompt';
const STEP = 'step';
/** The session key of a chunk graph: sampling bakes its filters into the graph. */
const chunkKey = (c: Filters): string => (c.greedy ? 'chunk:greedy' : `chunk:${c.temperature}:${c.topK}:${c.topP}`);
/** Tokens per chunk: enough that per-call costs are spread thin, few enough that streaming stays smooth and a chunk run past a stop costs little. */
const CHUNK_STEPS = 16;
