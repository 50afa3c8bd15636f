/**
 * Continuous batching (iteration-level scheduling, as in Orca and vLLM) over
 * a SlotDecoder: every iteration first gives free slots to waiting sequences
 * (each reads its prompt and samples its first token), then runs one decode
 * step for every sequence in a slot. A sequence that finishes, is cancelled
 * or whose client went away frees its slot before the next step, and the
 * next waiting sequence takes it.
 *
 * Each sequence is a SequenceGeneration (its own sampler stream, stop strings
 * and detokenizer) and slides its context window exactly as generate.ts does,
 * so it produces the text `inkwell generate` would for it alone.
 */
import type { SlotDecoder } from '../generate/slot-decoder.js';
import { SequenceGeneration, type SequenceSettings, type FinishReason } from '../generate/sequence.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import { errorMessage } from '../utils/errors.js';
import { tokenLogprobs, type TokenLogprob } from './logprobs.js';

/** Why a sequence ended without finishing by itself. */
export type AbortReason = 'cancelled' | 'timeout' | 'shutdown' | 'error';

export interface TokenEvent {
  /** Undefined for the eos token, which ends the sequence and has no text. */
  token: number | undefined;
  /** Text this token made printable. */
  text: string;
  logprob?: TokenLogprob;
}

export type SequenceEnd = { finishReason: FinishReason } | { aborted: AbortReason; message: string };

export interface SequenceRequest {
  /** Prompt token ids (at least one). */
  ids: readonly number[];
  settings: SequenceSettings;
  /** Report each token's log-probability and this many most likely alternatives (undefined: none). */
  logprobs?: number;
  onToken(e: TokenEvent): void;
  onEnd(end: SequenceEnd, seq: SequenceGeneration): void;
}

export class QueueFullError extends Error {}

/** A sequence handed to the scheduler; `cancel` ends it (at the next step if it is decoding). */
export class ScheduledSequence {
  slot = -1;
  readonly seq: SequenceGeneration;
  /** What the slot holds, before any slide: prompt, then generated tokens. */
  readonly history: number[];
  ended = false;
  abort?: { reason: AbortReason; message: string };

  constructor(readonly request: SequenceRequest, tokenizer: Tokenizer, maxLength: number) {
    this.seq = new SequenceGeneration(tokenizer, request.ids, maxLength, request.settings);
    this.history = [...this.seq.prompt];
  }
}

export class Scheduler {
  private readonly queue: ScheduledSequence[] = [];
  /** By slot; undefined where free. */
  private readonly running: (ScheduledSequence | undefined)[];
  private loop: Promise<void> | undefined;
  private readonly idleWaiters: Array<() => void> = [];

  constructor(
    private readonly decoder: SlotDecoder,
    private readonly tokenizer: Tokenizer,
    private readonly maxQueue: number,
  ) {
    this.running = Array.from({ length: decoder.slots }, () => undefined);
  }

  /** Sequences holding a slot. */
  get active(): number {
    return this.running.filter((s) => s !== undefined).length;
  }

  /** Sequences waiting for a slot. */
  get queued(): number {
    return this.queue.length;
  }

  get slots(): number {
    return this.decoder.slots;
  }

  /** Sequences the scheduler takes at most at once (every slot busy and a full queue). */
  get capacity(): number {
    return this.decoder.slots + this.maxQueue;
  }

  /**
   * Adds sequences, all or none: throws QueueFullError when they would not fit
   * beside what is waiting (free slots count as room).
   */
  submit(requests: readonly SequenceRequest[]): ScheduledSequence[] {
    const free = this.decoder.slots - this.active;
    if (this.queue.length + requests.length > this.maxQueue + free) {
      throw new QueueFullError(`the queue is full (${this.queue.length} sequences waiting, at most ${this.maxQueue})`);
    }
    const added = requests.map((r) => new ScheduledSequence(r, this.tokenizer, this.decoder.maxLength));
    this.queue.push(...added);
    this.loop ??= this.run().finally(() => {
      this.loop = undefined;
      for (const w of this.idleWaiters.splice(0)) w();
    });
    return added;
  }

  /** Ends a sequence: a waiting one at once, a decoding one before the next step (which frees its slot). */
  cancel(s: ScheduledSequence, reason: AbortReason, message: string): void {
    if (s.ended || s.abort) return;
    s.abort = { reason, message };
    const at = this.queue.indexOf(s);
    if (at >= 0) {
      this.queue.splice(at, 1);
      this.end(s);
    }
  }

  /** Cancels everything waiting or decoding. */
  cancelAll(reason: AbortReason, message: string): void {
    for (const s of [...this.queue, ...this.running]) if (s) this.cancel(s, reason, message);
  }

  /** Resolves once nothing is waiting or decoding. */
  idle(): Promise<void> {
    return this.loop ? new Promise((resolve) => this.idleWaiters.push(resolve)) : Promise.resolve();
  }

  private async run(): Promise<void> {
    while (this.queue.length > 0 || this.active > 0) {
      try {
        await this.iterate();
      } catch (err) {
        // A failed run (a bug, not bad input: prompts were checked) ends the sequences in it, not the server.
        for (const s of this.running) if (s) s.abort ??= { reason: 'error', message: `decoding failed: ${errorMessage(err)}` };
        this.reap();
      }
      // Let the HTTP side run (new requests, writes, disconnects) between steps.
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  private async iterate(): Promise<void> {
    this.reap();
    // Admit: newcomers take free slots and read their prompts (those of one length in one run), then sample their first token.
    const admitted = new Map<number, ScheduledSequence[]>();
    for (let slot = 0; slot < this.running.length && this.queue.length > 0; slot++) {
      if (this.running[slot]) continue;
      const s = this.queue.shift()!;
      s.slot = slot;
      this.running[slot] = s;
      this.decoder.clear(slot);
      admitted.set(s.history.length, [...(admitted.get(s.history.length) ?? []), s]);
    }
    for (const group of admitted.values()) {
      const logits = await this.decoder.feed(group.map((s) => ({ slot: s.slot, tokens: s.history })));
      group.forEach((s, k) => this.sample(s, logits, k));
    }
    this.reap();
    const rows: ScheduledSequence[] = [];
    for (const s of this.running) {
      if (!s) continue;
      if (this.decoder.length(s.slot) + 1 <= this.decoder.maxLength) {
        rows.push(s);
        continue;
      }
      // Slide (as generate.ts): restart the slot from the last maxLength/2 tokens, the one to feed now included.
      const keep = Math.max(1, Math.floor(this.decoder.maxLength / 2));
      this.decoder.clear(s.slot);
      s.seq.slides++;
      this.sample(s, await this.decoder.feed([{ slot: s.slot, tokens: s.history.slice(-keep) }]), 0);
    }
    if (rows.length === 0) return;
    const logits = await this.decoder.feed(rows.map((s) => ({ slot: s.slot, tokens: [s.history[s.history.length - 1]!] })));
    rows.forEach((s, k) => this.sample(s, logits, k));
    this.reap();
  }

  /** Samples sequence `s`'s next token from row `row` of `logits`. */
  private sample(s: ScheduledSequence, logits: Float32Array, row: number): void {
    if (s.abort || s.ended) return;
    const V = this.decoder.vocabSize;
    const x = logits.subarray(row * V, (row + 1) * V);
    const { token, text } = s.seq.next(x);
    if (token !== undefined) s.history.push(token);
    const top = s.request.logprobs;
    s.request.onToken({ token, text, logprob: top !== undefined && token !== undefined ? tokenLogprobs(x, token, top) : undefined });
    if (s.seq.done) this.end(s);
  }

  /** Frees the slots of finished and cancelled sequences. */
  private reap(): void {
    for (const s of this.running) if (s && (s.abort || s.seq.done)) this.end(s);
  }

  private end(s: ScheduledSequence): void {
    if (s.ended) return;
    s.ended = true;
    if (s.slot >= 0 && this.running[s.slot] === s) {
      this.running[s.slot] = undefined;
      this.decoder.clear(s.slot);
    }
    s.request.onEnd(s.abort ? { aborted: s.abort.reason, message: s.abort.message } : { finishReason: s.seq.finishReason! }, s.seq);
  }
}
