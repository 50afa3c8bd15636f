/**
 * The per-sequence half of generation: a prompt fitted to the context, the
 * sequence's sampler (its own seeded stream), its streaming detokenizer and
 * stop filter, and when it ends. Fixed-batch generation (generate.ts) and the
 * server's scheduler (slots that come and go, serve/scheduler.ts) both step
 * sequences through this one class, so they produce the same text for the same
 * prompt, seed and settings.
 */
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import { Rng } from '../utils/rng.js';
import { noCandidate, TokenSampler, type ResolvedSampling } from './sampling.js';
import { IncrementalDetokenizer, StopSequenceFilter } from './text-stream.js';

export type FinishReason = 'length' | 'stop' | 'eos';

export interface SequenceSettings {
  sampling: ResolvedSampling;
  seed: number;
  /** Which of the seed's random streams this sequence draws from: sequence i of a batch uses stream i. */
  stream: number;
  stops: readonly string[];
  maxNewTokens: number;
  /** Token that ends the sequence (not part of its text); undefined: none. */
  eos?: number;
}

export interface SequenceStep {
  /** The sampled token, or undefined when it was eos (which is not appended). */
  token: number | undefined;
  /** Text this token made printable (may be ''). */
  text: string;
}

export class SequenceGeneration {
  /** The prompt's last `maxLength` tokens: what the decoder reads first. */
  readonly prompt: number[];
  /** Leading prompt tokens dropped to fit the context. */
  readonly dropped: number;
  readonly generated: number[] = [];
  text = '';
  /** Times the context window slid (counted by the caller, which owns the decoder). */
  slides = 0;
  firstTokenAt?: number;
  finishReason?: FinishReason;
  private readonly sampler: TokenSampler;
  private readonly detok: IncrementalDetokenizer;
  private readonly stop: StopSequenceFilter;

  constructor(
    tokenizer: Tokenizer,
    ids: readonly number[],
    maxLength: number,
    private readonly settings: SequenceSettings,
  ) {
    this.dropped = Math.max(0, ids.length - maxLength);
    this.prompt = ids.slice(this.dropped);
    this.sampler = new TokenSampler(settings.sampling, new Rng(`${settings.seed}:${settings.stream}`), ids);
    this.detok = new IncrementalDetokenizer(tokenizer, this.prompt);
    this.stop = new StopSequenceFilter(settings.stops);
  }

  get done(): boolean {
    return this.finishReason !== undefined;
  }

  /** Chooses the next token from this sequence's row of logits; sets finishReason when the sequence ends. */
  next(logits: Float32Array): SequenceStep {
    return this.append(this.sampler.next(logits));
  }

  /** The draws of the next `count` tokens, for a decoder that samples them in its graph (IncrementalDecoder.chunks). */
  draws(count: number): Uint32Array {
    return this.sampler.draws(count);
  }

  /** Takes a token the decoder chose in its graph (IncrementalDecoder.chunks; -1: no candidate), as next() would have. */
  take(token: number): SequenceStep {
    if (token < 0) throw noCandidate();
    this.sampler.record(token);
    return this.append(token);
  }

  private append(token: number): SequenceStep {
    this.firstTokenAt ??= performance.now();
    let text = '';
    const emit = (piece: string) => {
      text += piece;
      this.text += piece;
    };
    if (token === this.settings.eos) {
      this.finishReason = 'eos';
    } else {
      this.generated.push(token);
      const { emit: piece, stopped } = this.stop.push(this.detok.push(token));
      emit(piece);
      if (stopped) this.finishReason = 'stop';
      else if (this.generated.length === this.settings.maxNewTokens) this.finishReason = 'length';
    }
    if (this.finishReason !== undefined && this.finishReason !== 'stop') {
      // Release what the detokenizer and the stop filter still hold; it may complete a stop sequence.
      const { emit: rest, stopped } = this.stop.push(this.detok.flush());
      emit(rest);
      if (stopped) this.finishReason = 'stop';
      else emit(this.stop.flush());
    }
    return { token: token === this.settings.eos ? undefined : token, text };
  }
}
