/**
 * Deterministic stand-ins for a model's IncrementalDecoder. Next-token logits
 * are a function of what each sequence was fed since the last reset. The fake
 * checks the contract (same T for every sequence, never past maxLength) and
 * records every feed, so tests can see how generation drives a decoder.
 */
import type { IncrementalDecoder } from '../../src/generate/incremental-decoder.js';
import { Rng } from '../../src/utils/rng.js';

export class FakeDecoder implements IncrementalDecoder {
  readonly feeds: number[] = [];
  resets = 0;
  private lanes: number[][];

  constructor(
    readonly vocabSize: number,
    readonly batch: number,
    readonly maxLength: number,
    private readonly logitsFor: (fed: readonly number[]) => Float32Array,
  ) {
    this.lanes = Array.from({ length: batch }, () => []);
  }

  get length(): number {
    return this.lanes[0]!.length;
  }

  reset(): void {
    this.lanes = this.lanes.map(() => []);
    this.resets++;
  }

  async feed(tokens: Int32Array): Promise<Float32Array> {
    const T = tokens.length / this.batch;
    if (!Number.isInteger(T) || T < 1) throw new Error(`feed of ${tokens.length} ids is not [${this.batch}, T ≥ 1]`);
    if (this.length + T > this.maxLength) throw new Error(`feeding ${T} tokens overflows maxLength ${this.maxLength} at length ${this.length}`);
    for (const id of tokens) if (!(id >= 0 && id < this.vocabSize)) throw new Error(`token ${id} outside the vocabulary`);
    this.feeds.push(T);
    const out = new Float32Array(this.batch * this.vocabSize);
    this.lanes.forEach((lane, b) => {
      lane.push(...tokens.subarray(b * T, (b + 1) * T));
      out.set(this.logitsFor(lane), b * this.vocabSize);
    });
    return out;
  }

  async release(): Promise<void> {}
}

/** Logits that depend only on the last token: a fixed random bigram table. */
export function bigramDecoder(vocabSize: number, batch: number, maxLength = Infinity, seed = 7): FakeDecoder & { greedyChain(last: number, n: number): number[] } {
  const rng = new Rng(seed);
  const table = Float32Array.from({ length: vocabSize * vocabSize }, () => 3 * (rng.float() * 2 - 1));
  const row = (t: number) => table.subarray(t * vocabSize, (t + 1) * vocabSize);
  const decoder = new FakeDecoder(vocabSize, batch, maxLength, (fed) => row(fed[fed.length - 1]!)) as FakeDecoder & { greedyChain(last: number, n: number): number[] };
  decoder.greedyChain = (last, n) => {
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      const r = row(last);
      let best = 0;
      for (let j = 1; j < r.length; j++) if (r[j]! > r[best]!) best = j;
      out.push((last = best));
    }
    return out;
  };
  return decoder;
}

/** A decoder that, after a prompt of `promptLength` tokens, emits `script` (then repeats its last token). */
export function scriptedDecoder(vocabSize: number, promptLength: number, script: readonly number[]): FakeDecoder {
  return new FakeDecoder(vocabSize, 1, Infinity, (fed) => {
    const out = new Float32Array(vocabSize);
    out[script[Math.min(fed.length - promptLength, script.length - 1)]!] = 10;
    return out;
  });
}
