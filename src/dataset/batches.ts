import { InkwellError } from '../utils/errors.js';
import { Rng } from '../utils/rng.js';
import type { TokenSource } from './token-source.js';

export type SamplingMode = 'random' | 'sequential';

export interface WindowBatchOptions {
  batchSize: number;
  /** Tokens per input row; each window holds contextLength + 1 tokens. */
  contextLength: number;
  /**
   * random: each epoch cuts the stream into non-overlapping windows at a
   * seeded random phase and serves them in a seeded random order.
   * sequential: the stream is cut into `batchSize` contiguous lanes; row b of
   * batch t+1 continues exactly where row b of batch t stopped, as truncated
   * BPTT for RNNs needs (carry hidden state across batches, reset it when
   * `batch.newEpoch` is true).
   */
  mode?: SamplingMode;
  seed?: number;
}

/**
 * One batch. All arrays are row-major int32: ONNX models usually want int64
 * ids, so convert with `toInt64` (or keep int32 for int32 graphs).
 */
export interface Batch {
  /** [batchSize, contextLength + 1] windows of consecutive tokens. */
  windows: Int32Array;
  /** Inputs: windows without their last token, [batchSize, contextLength]. */
  x: Int32Array;
  /** Targets: windows without their first token, [batchSize, contextLength]. */
  y: Int32Array;
  batchSize: number;
  contextLength: number;
  epoch: number;
  /** Index of this batch within its epoch. */
  step: number;
  /** True for an epoch's first batch (sequential mode: reset recurrent state). */
  newEpoch: boolean;
}

/**
 * Everything needed to resume the exact data order: the next batch is batch
 * `step` of epoch `epoch`. The per-epoch RNG is derived from (seed, epoch), so
 * no generator state beyond these numbers exists.
 */
export interface BatcherState {
  mode: SamplingMode;
  seed: number;
  epoch: number;
  step: number;
}

/** Serves [batch, ctx + 1] token windows from a TokenSource, seeded and resumable. */
export class WindowBatcher {
  readonly batchSize: number;
  readonly contextLength: number;
  readonly mode: SamplingMode;
  readonly seed: number;
  private epoch = 0;
  private step = 0;
  private order: Uint32Array | undefined;
  private phase = 0;

  constructor(private readonly source: TokenSource, options: WindowBatchOptions) {
    this.batchSize = options.batchSize;
    this.contextLength = options.contextLength;
    this.mode = options.mode ?? 'random';
    this.seed = options.seed ?? 0;
    if (!(Number.isInteger(this.batchSize) && this.batchSize > 0)) throw new InkwellError(`--batch-size must be a positive integer, got ${this.batchSize}`);
    if (!(Number.isInteger(this.contextLength) && this.contextLength > 0)) throw new InkwellError(`--context must be a positive integer, got ${this.contextLength}`);
    if (this.batchesPerEpoch < 1) {
      throw new InkwellError(
        `${source.length} tokens are too few for one batch of ${this.batchSize} × ${this.contextLength + 1}`,
        'use a larger corpus or a smaller --batch-size / --context',
      );
    }
  }

  /** Full batches per epoch (a partial last batch is dropped). In random mode this is a lower bound over epochs' phases. */
  get batchesPerEpoch(): number {
    const n = this.source.length, b = this.batchSize, c = this.contextLength;
    if (this.mode === 'sequential') return Math.floor((Math.floor(n / b) - 1) / c);
    return Math.floor(Math.floor((n - c) / c) / b);
  }

  next(): Batch {
    if (this.mode === 'random' && !this.order) this.startRandomEpoch();
    const windowLength = this.contextLength + 1;
    const windows = new Int32Array(this.batchSize * windowLength);
    for (let row = 0; row < this.batchSize; row++) {
      this.source.read(this.windowStart(row), windowLength, windows, row * windowLength);
    }
    const batch = this.assemble(windows);
    this.step++;
    if (this.step >= this.epochLength()) {
      this.epoch++;
      this.step = 0;
      this.order = undefined;
    }
    return batch;
  }

  /** Batches of the current epoch from the current position to its end. */
  *remainingInEpoch(): Generator<Batch> {
    const epoch = this.epoch;
    while (this.epoch === epoch) yield this.next();
  }

  state(): BatcherState {
    return { mode: this.mode, seed: this.seed, epoch: this.epoch, step: this.step };
  }

  restore(state: BatcherState): void {
    if (state.mode !== this.mode || state.seed !== this.seed) {
      throw new InkwellError(`data state is for mode ${state.mode} seed ${state.seed}, but this dataset uses mode ${this.mode} seed ${this.seed}`);
    }
    this.epoch = state.epoch;
    this.step = state.step;
    this.order = undefined;
    if (this.mode === 'random') this.startRandomEpoch();
    if (this.step >= this.epochLength()) throw new InkwellError(`data state step ${state.step} is past the end of epoch ${state.epoch}`);
  }

  private epochLength(): number {
    return this.mode === 'random' ? Math.floor(this.order!.length / this.batchSize) : this.batchesPerEpoch;
  }

  private windowStart(row: number): number {
    if (this.mode === 'sequential') {
      const lane = Math.floor(this.source.length / this.batchSize);
      return row * lane + this.step * this.contextLength;
    }
    return this.phase + this.order![this.step * this.batchSize + row]! * this.contextLength;
  }

  /** Seeded per-epoch phase and window order, derived from (seed, epoch) alone. */
  private startRandomEpoch(): void {
    const rng = new Rng(`${this.seed}:${this.epoch}`);
    this.phase = rng.int(this.contextLength);
    const count = Math.floor((this.source.length - this.phase - 1) / this.contextLength);
    const order = new Uint32Array(count);
    for (let i = 0; i < count; i++) order[i] = i;
    this.order = rng.shuffle(order);
  }

  private assemble(windows: Int32Array): Batch {
    const c = this.contextLength;
    const x = new Int32Array(this.batchSize * c);
    const y = new Int32Array(this.batchSize * c);
    for (let row = 0; row < this.batchSize; row++) {
      const w = windows.subarray(row * (c + 1), (row + 1) * (c + 1));
      x.set(w.subarray(0, c), row * c);
      y.set(w.subarray(1), row * c);
    }
    return { windows, x, y, batchSize: this.batchSize, contextLength: c, epoch: this.epoch, step: this.step, newEpoch: this.step === 0 };
  }
}

/** int64 copy of int32 ids, for ONNX inputs declared as int64. */
export function toInt64(ids: Int32Array): BigInt64Array {
  const out = new BigInt64Array(ids.length);
  for (let i = 0; i < ids.length; i++) out[i] = BigInt(ids[i]!);
  return out;
}
