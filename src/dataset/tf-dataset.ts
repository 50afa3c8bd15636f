import { Rng } from '../utils/rng.js';

/**
 * The tutorial's tf.data flow for in-memory data:
 *
 *   Dataset.fromTensorSlices(ids)        // one element per token id
 *     .batch(seqLength + 1, true)        // chunks of seqLength + 1
 *     .map(splitInputTarget)             // [input, target]
 *     .shuffle(10_000, seed)
 *     .batch(64, true)
 *
 * Datasets are lazy and re-iterable; shuffle follows tf.data's buffer
 * semantics and, like tf.data, reshuffles on every iteration — seeded, so
 * iteration k of a given pipeline always yields the same order.
 */
export class Dataset<T> implements Iterable<T> {
  private constructor(private readonly source: () => Iterator<T>) {}

  static fromTensorSlices<T>(items: ArrayLike<T> | Iterable<T>): Dataset<T> {
    const list = Symbol.iterator in Object(items) ? [...(items as Iterable<T>)] : Array.from(items as ArrayLike<T>);
    return new Dataset(() => list[Symbol.iterator]());
  }

  [Symbol.iterator](): Iterator<T> {
    return this.source();
  }

  map<U>(fn: (item: T) => U): Dataset<U> {
    const self = this;
    return new Dataset(function* () {
      for (const item of self) yield fn(item);
    });
  }

  /** Groups consecutive elements into arrays of `size`; drops a short last group when asked. */
  batch(size: number, dropRemainder = false): Dataset<T[]> {
    if (!(Number.isInteger(size) && size > 0)) throw new RangeError(`batch size must be a positive integer, got ${size}`);
    const self = this;
    return new Dataset(function* () {
      let group: T[] = [];
      for (const item of self) {
        group.push(item);
        if (group.length === size) { yield group; group = []; }
      }
      if (group.length > 0 && !dropRemainder) yield group;
    });
  }

  /**
   * Buffered shuffle: keeps `bufferSize` elements and emits a random one as
   * each new element arrives (a buffer at least as large as the data gives a
   * uniform shuffle).
   */
  shuffle(bufferSize: number, seed = 0): Dataset<T> {
    if (!(Number.isInteger(bufferSize) && bufferSize > 0)) throw new RangeError(`shuffle buffer must be a positive integer, got ${bufferSize}`);
    const self = this;
    let iteration = 0;
    return new Dataset(function* () {
      const rng = new Rng(`${seed}:${iteration++}`);
      const buffer: T[] = [];
      for (const item of self) {
        if (buffer.length < bufferSize) { buffer.push(item); continue; }
        const i = rng.int(bufferSize);
        yield buffer[i]!;
        buffer[i] = item;
      }
      rng.shuffle(buffer);
      yield* buffer;
    });
  }

  take(count: number): Dataset<T> {
    const self = this;
    return new Dataset(function* () {
      if (count <= 0) return;
      let n = 0;
      for (const item of self) {
        yield item;
        if (++n >= count) return;
      }
    });
  }

  toArray(): T[] {
    return [...this];
  }
}

/** The tutorial's split_input_target: a chunk of n + 1 ids → (first n, last n). */
export function splitInputTarget<T>(chunk: readonly T[]): [T[], T[]] {
  return [chunk.slice(0, -1), chunk.slice(1)];
}
