import { test } from 'node:test';
import assert from 'node:assert/strict';
import { argmax, resolveSampling, TokenSampler, type SamplingOptions } from '../../src/generate/sampling.js';
import { InkwellError } from '../../src/utils/errors.js';
import { Rng } from '../../src/utils/rng.js';

const logitsOf = (probs: number[]) => Float32Array.from(probs, Math.log);

/** Tokens seen in `n` draws from fresh samplers (so penalties never build up). */
function support(logits: Float32Array, o: SamplingOptions, n = 2000): Map<number, number> {
  const rng = new Rng(1);
  const seen = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const t = new TokenSampler(resolveSampling(o), rng).next(logits);
    seen.set(t, (seen.get(t) ?? 0) + 1);
  }
  return seen;
}

const sortedKeys = (m: Map<number, number>) => [...m.keys()].sort((a, b) => a - b);

test('greedy and temperature 0 take the argmax', () => {
  const logits = Float32Array.from([0.1, 2.5, -1, 2.4]);
  assert.equal(argmax(logits), 1);
  assert.deepEqual(sortedKeys(support(logits, { greedy: true }, 50)), [1]);
  assert.deepEqual(sortedKeys(support(logits, { temperature: 0 }, 50)), [1]);
  assert.equal(argmax([3, 5, 5]), 1, 'first index on ties');
});

test('sampling follows softmax(logits / temperature)', () => {
  const logits = Float32Array.from([0, 1, 2]);
  for (const temperature of [1, 0.5]) {
    const n = 20000;
    const counts = support(logits, { temperature }, n);
    const z = [0, 1, 2].map((x) => Math.exp(x / temperature));
    const sum = z.reduce((a, b) => a + b);
    for (let i = 0; i < 3; i++) {
      const expected = z[i]! / sum;
      assert.ok(Math.abs((counts.get(i) ?? 0) / n - expected) < 0.015, `token ${i} at temperature ${temperature}`);
    }
  }
});

test('top-k keeps the k most likely tokens (and ties with the k-th)', () => {
  const logits = Float32Array.from([1, 4, 3, 0, 2]);
  assert.deepEqual(sortedKeys(support(logits, { topK: 2 })), [1, 2]);
  assert.deepEqual(sortedKeys(support(logits, { topK: 1 })), [1]);
  assert.deepEqual(sortedKeys(support(Float32Array.from([1, 3, 3, 0]), { topK: 1 })), [1, 2]);
  assert.deepEqual(sortedKeys(support(logits, { topK: 99 })), [0, 1, 2, 3, 4]);
});

test('top-p keeps the smallest most-likely set reaching p', () => {
  const logits = logitsOf([0.15, 0.5, 0.05, 0.3]);
  assert.deepEqual(sortedKeys(support(logits, { topP: 0.45 })), [1]);
  assert.deepEqual(sortedKeys(support(logits, { topP: 0.79 })), [1, 3]);
  assert.deepEqual(sortedKeys(support(logits, { topP: 0.81 })), [0, 1, 3]);
  assert.deepEqual(sortedKeys(support(logits, { topP: 1 })), [0, 1, 2, 3]);
  // Composes with top-k: top-2 first, then the nucleus of the renormalised pair (0.625, 0.375).
  assert.deepEqual(sortedKeys(support(logits, { topK: 2, topP: 0.6 })), [1]);
  assert.deepEqual(sortedKeys(support(logits, { topK: 2, topP: 0.7 })), [1, 3]);
});

test('repetition penalty divides positive and multiplies negative logits of tokens in the sequence', () => {
  const greedy = (logits: number[], prompt: number[], repetitionPenalty: number) =>
    new TokenSampler(resolveSampling({ greedy: true, repetitionPenalty }), new Rng(0), prompt).next(Float32Array.from(logits));
  assert.equal(greedy([2, -1, 1.5], [0], 1), 0);
  assert.equal(greedy([2, -1, 1.5], [0], 2), 2, '2 / 2 = 1 < 1.5');
  assert.equal(greedy([2, -1, 1.5], [0], 1.2), 0, '2 / 1.2 > 1.5');
  assert.equal(greedy([-1, -1.5], [0], 2), 1, '-1 · 2 = -2 < -1.5');
  assert.equal(greedy([2, 1.5], [0], 0.5), 0, 'a penalty below 1 favours repeats');
  // Generated tokens join the penalised set: 3 → 1.5 after the first pick, below 2.
  const s = new TokenSampler(resolveSampling({ greedy: true, repetitionPenalty: 2 }), new Rng(0));
  assert.deepEqual([s.next(Float32Array.from([3, 2])), s.next(Float32Array.from([3, 2]))], [0, 1]);
});

test('frequency and presence penalties count generated tokens only', () => {
  const run = (o: SamplingOptions, prompt: number[], n: number) => {
    const s = new TokenSampler(resolveSampling({ greedy: true, ...o }), new Rng(0), prompt);
    return Array.from({ length: n }, () => s.next(Float32Array.from([1, 0.9])));
  };
  // Frequency: 1 − 0.06·count drops below 0.9 after two picks.
  assert.deepEqual(run({ frequencyPenalty: 0.06 }, [], 3), [0, 0, 1]);
  // Presence: a flat 0.2 once a token has appeared; both penalised → back to 0.
  assert.deepEqual(run({ presencePenalty: 0.2 }, [], 3), [0, 1, 0]);
  // Prompt tokens are not counted.
  assert.deepEqual(run({ frequencyPenalty: 2, presencePenalty: 2 }, [0, 0, 0], 1), [0]);
  // Negative values encourage repetition.
  assert.deepEqual(run({ presencePenalty: -0.5 }, [], 3), [0, 0, 0]);
});

test('the same seed gives the same draws', () => {
  const logits = Float32Array.from({ length: 50 }, (_, i) => Math.sin(i));
  const draws = (seed: number) => {
    const s = new TokenSampler(resolveSampling({ temperature: 1.5 }), new Rng(seed));
    return Array.from({ length: 30 }, () => s.next(logits));
  };
  assert.deepEqual(draws(3), draws(3));
  assert.notDeepEqual(draws(3), draws(4));
});

test('out-of-range options are InkwellErrors naming the option', () => {
  const bad: Array<[SamplingOptions, RegExp]> = [
    [{ temperature: -1 }, /temperature/],
    [{ topK: 1.5 }, /topK/],
    [{ topP: 0 }, /topP/],
    [{ topP: 1.2 }, /topP/],
    [{ repetitionPenalty: 0 }, /repetitionPenalty/],
    [{ frequencyPenalty: 3 }, /frequencyPenalty/],
    [{ presencePenalty: Number.NaN }, /presencePenalty/],
  ];
  for (const [o, pattern] of bad) assert.throws(() => resolveSampling(o), (e: unknown) => e instanceof InkwellError && pattern.test(e.message));
});
