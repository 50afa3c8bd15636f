/**
 * Incremental decoding, the contract between models and generation: feed the
 * prompt, then one token per sequence at a time, and get the next-token logits
 * of the last position. GPT implements it with a KV cache, LSTM/GRU with their
 * carried state; sampling and streaming (generate/) only see this interface.
 */
import type { Filters } from './sampling.js';

export interface IncrementalDecoder {
  /** Sequences decoded together. */
  readonly batch: number;
  readonly vocabSize: number;
  /** Tokens a sequence can hold in total (GPT: n_positions; RNNs: unbounded). */
  readonly maxLength: number;
  /** Tokens consumed so far by each sequence. */
  readonly length: number;
  /** Forgets everything fed so far. */
  reset(): void;
  /**
   * Appends `tokens` ([batch, T] row-major, T ≥ 1, the same T for every sequence)
   * and returns the logits after the last of them, [batch, vocabSize].
   */
  feed(tokens: Int32Array): Promise<Float32Array>;
  /** Tokens chosen inside the runtime, several per call, when the decoder offers it (see ChoiceChunks). */
  readonly chunks?: ChoiceChunks;
  /** Frees the compiled sessions. */
  release(): Promise<void>;
}

/**
 * Steps taken inside ONNX Runtime, `steps` per call, each choosing its token there (the argmax, or a
 * draw from the filtered softmax: graph/ops/sample.ts): a small model's token costs far more in
 * per-call overhead than in arithmetic. Generation uses it only where the sampler's choice depends on
 * the raw logits and one uniform draw alone (no penalty: see inGraphChoice) and every sequence has
 * read its prompt.
 */
export interface ChoiceChunks {
  readonly steps: number;
  /**
   * Feeds `tokens` (one per sequence), then `steps` times chooses each sequence's next token with
   * `choice` and feeds it back, but the last: returns the tokens [batch, steps] row-major, and `length`
   * grows by `steps`. Sampling takes `draws` [batch, steps] (sequence b's step k uses draw
   * b·steps + k: one 32-bit value of its Rng, as TokenSampler.draws gives them). A token of -1: every
   * logit was -infinity or NaN (the steps after it are not meaningful).
   */
  run(tokens: Int32Array, choice: Filters, draws?: Uint32Array): Promise<Int32Array>;
  /** Whether the graph for `choice` is compiled already (the first run compiles it: tens of milliseconds). */
  ready(choice: Filters): boolean;
}
