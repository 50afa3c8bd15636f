/** Iteration-level scheduling on a scripted slot decoder: who is fed in which step, and when a slot is freed. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SlotDecoder, SlotFeed } from '../../src/generate/slot-decoder.js';
import { resolveSampling } from '../../src/generate/sampling.js';
import { trainWordLevel } from '../../src/tokenizers/word-level.js';
import { Scheduler, QueueFullError, type SequenceEnd, type SequenceRequest } from '../../src/serve/scheduler.js';

const tokenizer = trainWordLevel(['abcdefghij'], 'char', { specialTokens: [] });
const V = tokenizer.vocabSize;

/** Greedy continues every token t with t + 1 (mod V); records each run's rows as `slot:tokens` and lets the test pause runs. */
class ScriptedSlots implements SlotDecoder {
  readonly vocabSize = V;
  readonly maxLength = Infinity;
  readonly runs: string[][] = [];
  private readonly lengths: number[];
  constructor(readonly slots: number) {
    this.lengths = Array<number>(slots).fill(0);
  }
  length(slot: number): number {
    return this.lengths[slot]!;
  }
  clear(slot: number): void {
    this.lengths[slot] = 0;
  }
  async feed(rows: readonly SlotFeed[]): Promise<Float32Array> {
    this.runs.push(rows.map((r) => `${r.slot}:${r.tokens.length}`));
    await new Promise((r) => setTimeout(r, 1));
    const out = new Float32Array(rows.length * V);
    rows.forEach((r, k) => {
      this.lengths[r.slot]! += r.tokens.length;
      out[k * V + ((r.tokens[r.tokens.length - 1]! + 1) % V)] = 1;
    });
    return out;
  }
  async release(): Promise<void> {}
}

function request(prompt: string, maxNewTokens: number, onEnd: (end: SequenceEnd, text: string) => void = () => {}): SequenceRequest {
  return {
    ids: tokenizer.encode(prompt),
    settings: { sampling: resolveSampling({ greedy: true }), seed: 0, stream: 0, stops: [], maxNewTokens },
    onToken: () => {},
    onEnd: (end, seq) => onEnd(end, seq.text),
  };
}

test('a request joins the running batch at the next step, and a finished one frees its slot for the queue at once', async () => {
  const dec = new ScriptedSlots(2);
  const s = new Scheduler(dec, tokenizer, 4);
  const texts: string[] = [];
  s.submit([request('abc', 6, (_, t) => texts.push(`A ${t}`))]);
  while (dec.runs.length < 3) await new Promise((r) => setTimeout(r, 1));
  // A is decoding; B (prompt of 2) and C (queued: both slots busy) arrive.
  s.submit([request('ef', 2, (_, t) => texts.push(`B ${t}`)), request('a', 2, (_, t) => texts.push(`C ${t}`))]);
  assert.equal(s.queued, 2);
  await s.idle();
  assert.deepEqual(texts.sort(), ['A defghi', 'B gh', 'C bc']);
  const runs = dec.runs.map((r) => r.join(' '));
  const bPrompt = runs.indexOf('1:2');
  assert.ok(bPrompt > 0, 'B read its prompt into the free slot 1');
  assert.equal(runs[bPrompt + 1], '0:1 1:1', 'and decoded beside A in the very next step');
  assert.equal(runs[bPrompt + 2], '1:1', 'B ended with its second token; C reads its prompt into slot 1 before A steps again');
  assert.equal(runs[bPrompt + 3], '0:1 1:1', 'then C decodes beside A');
  assert.equal(s.active, 0);
});

test('cancel frees a decoding slot before the next step; a queued one ends at once; submit is all-or-none', async () => {
  const dec = new ScriptedSlots(1);
  const s = new Scheduler(dec, tokenizer, 1);
  const ends: SequenceEnd[] = [];
  const [a] = s.submit([request('a', 1000, (e) => ends.push(e))]);
  const [b] = s.submit([request('b', 3, (e) => ends.push(e))]);
  assert.throws(() => s.submit([request('c', 3)]), QueueFullError);
  s.cancel(b!, 'cancelled', 'gone');
  assert.deepEqual(ends, [{ aborted: 'cancelled', message: 'gone' }]);
  while (dec.runs.length < 5) await new Promise((r) => setTimeout(r, 1));
  s.cancel(a!, 'timeout', 'late');
  const runsAtCancel = dec.runs.length;
  await s.idle();
  assert.ok(dec.runs.length <= runsAtCancel + 1, 'at most the step already running finishes');
  assert.deepEqual(ends[1], { aborted: 'timeout', message: 'late' });
  assert.equal(s.active, 0);
  s.submit([request('c', 2)]);
  await s.idle();
});
