/**
 * IncrementalDecoder implementations: GPT with a KV cache (one session with
 * symbolic batch, new-token and past lengths) and recurrent models stepping
 * one token at a time with their carried state.
 */
import type { ModelBundle } from '../io/model-dir.js';
import { Gpt } from '../models/gpt.js';
import { buildForwardGraph } from '../models/lm.js';
import { CompiledGraph, type CompileOptions, type Feeds, type InputSpec, type TypedArray } from '../runtime/session.js';
import { shapeSize, staticShape } from '../graph/tensor.js';
import { InkwellError } from '../utils/errors.js';
import type { QuantizeMode } from '../graph/quantize.js';
import type { IncrementalDecoder } from './decoder.js';

export interface DecoderOptions {
  /** ONNX Runtime threads (default: all cores). */
  threads?: number;
  /** Decode with int8 (`q8`) or int4 (`q4`) weight matrices: several times faster at batch 1, logits no longer bit-exact (see graph/quantize.ts). */
  quantize?: QuantizeMode;
}

export async function createDecoder(bundle: ModelBundle, batch: number, opts: DecoderOptions = {}): Promise<IncrementalDecoder> {
  if (!(Number.isInteger(batch) && batch > 0)) throw new InkwellError(`batch must be a positive integer, got ${batch}`);
  return bundle.model instanceof Gpt ? GptDecoder.create(bundle.model, bundle, batch, opts) : RecurrentDecoder.create(bundle, batch, opts);
}

/**
 * Weights are baked in: fixed while decoding, and pre-packed by ORT once instead of on every token.
 * A saved model's unread float32 weights are read by ORT from the file itself (quantizing needs them in memory).
 */
function fixedWeights(bundle: ModelBundle, opts: DecoderOptions): Pick<CompileOptions, 'bake' | 'bakeExternal'> {
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

/**
 * GPT with a key/value cache that grows by appending: the decode graph takes the
 * cache heads-merged and returns only the new tokens' rows (Gpt.buildDecodeGraph's
 * 'append' layout), so no output grows with the past.
 */
class GptDecoder implements IncrementalDecoder {
  readonly vocabSize: number;
  readonly maxLength: number;
  length = 0;
  /** Rows a sequence's cache holds now; doubled as needed up to maxLength. */
  private capacity = 0;
  /** Per layer, keys then values: [batch, capacity, n_embd], rows [0, length) filled. */
  private cache: Float32Array[] = [];

  private constructor(
    private readonly model: Gpt,
    readonly batch: number,
    private readonly session: CompiledGraph,
  ) {
    this.vocabSize = model.config.vocabSize;
    this.maxLength = model.config.nPositions;
  }

  static async create(model: Gpt, bundle: ModelBundle, batch: number, opts: DecoderOptions): Promise<GptDecoder> {
    const { graph, outputs } = model.buildDecodeGraph({ cache: 'append' });
    const session = await CompiledGraph.compile(graph, outputs, { threads: opts.threads, quantize: opts.quantize, ...fixedWeights(bundle, opts) });
    return new GptDecoder(model, batch, session);
  }

  reset(): void {
    this.length = 0;
  }

  async feed(tokens: Int32Array): Promise<Float32Array> {
    const { nLayer, nEmbd: C } = this.model.config;
    const [B, V, P] = [this.batch, this.vocabSize, this.length];
    const T = checkTokens(tokens, B, V);
    if (P + T > this.maxLength) throw new InkwellError(`feed: ${P + T} tokens exceed the model's context of ${this.maxLength}`);
    const positions = new BigInt64Array(B * T);
    for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) positions[b * T + t] = BigInt(P + t);
    const feeds: Record<string, Feeds[string]> = {
      input_ids: { data: BigInt64Array.from(tokens, (t) => BigInt(t)), dims: [B, T] },
      attention_mask: { data: new BigInt64Array(B * (P + T)).fill(1n), dims: [B, P + T] },
      position_ids: { data: positions, dims: [B, T] },
    };
    const kinds = ['key', 'value'] as const;
    for (let i = 0; i < nLayer; i++) {
      kinds.forEach((kind, j) => (feeds[`cache.${i}.${kind}`] = { data: this.pastRows(this.cache[2 * i + j], P), dims: [B, P, C] }));
    }
    const out = await this.session.run(feeds);
    this.reserve(P + T);
    for (let i = 0; i < nLayer; i++) kinds.forEach((kind, j) => this.append(this.cache[2 * i + j]!, out[`new.${i}.${kind}`] as Float32Array, P, T));
    this.length = P + T;
    return lastPosition(out.logits as Float32Array, B, T, V);
  }

  /** Rows [0, P) of every sequence as one [batch, P, n_embd] array: a view of the cache at batch 1. */
  private pastRows(cache: Float32Array | undefined, P: number): Float32Array {
    const [B, C] = [this.batch, this.model.config.nEmbd];
    if (!cache || P === 0) return new Float32Array(0);
    if (B === 1) return cache.subarray(0, P * C);
    const N = this.capacity;
    const rows = new Float32Array(B * P * C);
    for (let b = 0; b < B; b++) rows.set(cache.subarray(b * N * C, (b * N + P) * C), b * P * C);
    return rows;
  }

  /** Writes the new rows [batch, T, n_embd] of one cache after its first P rows. */
  private append(cache: Float32Array, rows: Float32Array, P: number, T: number): void {
    const [B, N, C] = [this.batch, this.capacity, this.model.config.nEmbd];
    for (let b = 0; b < B; b++) cache.set(rows.subarray(b * T * C, (b + 1) * T * C), (b * N + P) * C);
  }

  /** Grows every cache (keeping its first `length` rows) to hold `rows` rows per sequence. */
  private reserve(rows: number): void {
    if (rows <= this.capacity) return;
    const [B, C, old] = [this.batch, this.model.config.nEmbd, this.capacity];
    const N = Math.min(this.maxLength, Math.max(rows, 2 * old, 16));
    this.cache = Array.from({ length: 2 * this.model.config.nLayer }, (_, i) => {
      const grown = new Float32Array(B * N * C);
      const prev = this.cache[i];
      if (prev) for (let b = 0; b < B; b++) grown.set(prev.subarray(b * old * C, (b * old + this.length) * C), b * N * C);
      return grown;
    });
    this.capacity = N;
  }

  release(): Promise<void> {
    return this.session.release();
  }
}

/** LSTM/GRU: a one-token step graph whose state outputs feed the next step. */
class RecurrentDecoder implements IncrementalDecoder {
  readonly maxLength = Infinity;
  length = 0;
  private state = new Map<string, TypedArray>();
  /** The carried-state inputs (`state.h`, `state.c`), each fed back from its `.out` output. */
  private readonly stateInputs: readonly InputSpec[];

  private constructor(
    readonly batch: number,
    readonly vocabSize: number,
    private readonly session: CompiledGraph,
  ) {
    this.stateInputs = session.inputs.filter((i) => i.name.startsWith('state.'));
  }

  static async create(bundle: ModelBundle, batch: number, opts: DecoderOptions): Promise<RecurrentDecoder> {
    const { graph, outputs } = buildForwardGraph(bundle.model, batch, 1);
    const session = await CompiledGraph.compile(graph, outputs, { threads: opts.threads, quantize: opts.quantize, ...fixedWeights(bundle, opts) });
    return new RecurrentDecoder(batch, bundle.model.vocabSize, session);
  }

  reset(): void {
    this.length = 0;
    this.state.clear();
  }

  async feed(tokens: Int32Array): Promise<Float32Array> {
    const [B, V] = [this.batch, this.vocabSize];
    const T = checkTokens(tokens, B, V);
    let logits: Float32Array | undefined;
    for (let t = 0; t < T; t++) {
      const ids = new BigInt64Array(B);
      for (let b = 0; b < B; b++) ids[b] = BigInt(tokens[b * T + t]!);
      const feeds: Record<string, TypedArray> = { ids };
      for (const s of this.stateInputs) feeds[s.name] = this.state.get(s.name) ?? new Float32Array(shapeSize(staticShape(s.name, s.shape)));
      const out = await this.session.run(feeds);
      for (const s of this.stateInputs) this.state.set(s.name, out[`${s.name}.out`]!);
      logits = out.logits as Float32Array;
    }
    this.length += T;
    return logits!;
  }

  release(): Promise<void> {
    return this.session.release();
  }
}
