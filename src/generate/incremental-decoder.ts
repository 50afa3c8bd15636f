/**
 * Incremental decoding, the contract between models and generation: feed the
 * prompt, then one token per sequence at a time, and get the next-token logits
 * of the last position. GPT implements it with a KV cache, LSTM/GRU with their
 * carried state; sampling and streaming (generate/) only see this interface.
 */
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
  /** Greedy decoding inside the runtime, several tokens per call, when the decoder offers it (see GreedyChunks). */
  readonly greedy?: GreedyChunks;
  /** Frees the compiled sessions. */
  release(): Promise<void>;
}

/**
 * Greedy steps taken inside ONNX Runtime, `steps` per call: a small model's token costs far more in
 * per-call overhead than in arithmetic. Generation uses it only where the argmax of the raw logits is
 * the sampler's choice (greedy, no penalties: see argmaxIsChoice) and every sequence has read its prompt.
 */
export interface GreedyChunks {
  readonly steps: number;
  /**
   * Feeds `tokens` (one per sequence), then `steps` times takes each sequence's argmax, feeding it
   * back but the last: returns the argmaxes [batch, steps] row-major, and `length` grows by `steps`.
   */
  run(tokens: Int32Array): Promise<Int32Array>;
}
