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
  /** Frees the compiled sessions. */
  release(): Promise<void>;
}
