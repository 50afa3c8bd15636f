import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bleu, distinctN, lcsLength, rougeL, words } from '../../src/eval/text-metrics.js';
import { KneserNeyModel, totalNll, UnigramModel } from '../../src/eval/ngram-lm.js';
import { longestSharedRun } from '../../src/eval/memorisation.js';
import { Rng } from '../../src/utils/rng.js';

const close = (actual: number, expected: number, eps = 1e-9) => assert.ok(Math.abs(actual - expected) < eps, `${actual} ≠ ${expected}`);

test('words splits words, numbers and punctuation, keeping apostrophes inside words', () => {
  assert.deepEqual(words("Emma didn't mind it, in 1816--naïvely."), ['Emma', "didn't", 'mind', 'it', ',', 'in', '1816', '-', '-', 'naïvely', '.']);
  assert.deepEqual(words('  '), []);
});

test('BLEU-4 with NLTK method1 smoothing, by hand', () => {
  const hypothesis = words('the cat sat on the mat');
  const reference = words('the cat is on the mat');
  // Clipped precisions 5/6, 3/5, 1/4 and 0/3 → 0.1/3; equal lengths, so no brevity penalty.
  close(bleu([{ hypothesis, reference }]), Math.pow((5 / 6) * (3 / 5) * (1 / 4) * (0.1 / 3), 1 / 4));
  close(bleu([{ hypothesis: reference, reference }]), 1);
  assert.equal(bleu([{ hypothesis: ['x'], reference }]), 0, 'no unigram match');
  assert.equal(bleu([{ hypothesis: [], reference }]), 0);
  // Brevity penalty exp(1 − r/c) with c = 3, r = 6; p1 = 1, p2 = 2/2, p3 = 1/1, p4: no 4-grams → total 1, smoothed 0.1.
  close(bleu([{ hypothesis: words('the cat is'), reference }]), Math.exp(1 - 6 / 3) * Math.pow(0.1, 1 / 4));
  // Corpus level: counts are pooled before taking precisions.
  const pooled = bleu([{ hypothesis, reference }, { hypothesis: reference, reference }]);
  close(pooled, Math.pow((11 / 12) * (8 / 10) * (5 / 8) * (3 / 6), 1 / 4));
});

test('ROUGE-L F1 and LCS, by hand', () => {
  assert.equal(lcsLength(['a', 'b', 'c', 'b', 'd', 'a', 'b'], ['b', 'd', 'c', 'a', 'b', 'a']), 4);
  const r = rougeL(words('the cat sat on the mat'), words('the cat is on the mat'));
  close(r.precision, 5 / 6);
  close(r.recall, 5 / 6);
  close(r.f, 5 / 6);
  const short = rougeL(['the', 'mat'], words('the cat is on the mat'));
  close(short.precision, 1);
  close(short.recall, 2 / 6);
  close(short.f, (2 * 1 * (1 / 3)) / (1 + 1 / 3));
  assert.equal(rougeL([], ['a']).f, 0);
});

test('distinct-n pools n-grams over texts without crossing them', () => {
  const texts = [['a', 'b', 'a', 'b'], ['a', 'c']];
  close(distinctN(texts, 1), 3 / 6);
  close(distinctN(texts, 2), 3 / 4);
  close(distinctN(texts, 3), 2 / 2);
  assert.equal(distinctN([['a']], 2), 0);
});

test('add-one unigram, by hand', () => {
  const m = new UnigramModel([0, 1, 2, 1], 4);
  close(m.logProb([], 1), Math.log(3 / 8));
  close(m.logProb([0, 0], 3), Math.log(1 / 8), 1e-12);
  close(totalNll(m, [1, 0], 0), -Math.log(3 / 8) - Math.log(2 / 8));
});

test('interpolated Kneser–Ney, by hand', () => {
  // Corpus a b a b c (ids 0 1 0 1 2), bigram model, discount 0.5.
  const m = new KneserNeyModel([0, 1, 0, 1, 2], 3, { order: 2, discount: 0.5 });
  // Continuation counts: a, b, c each follow one distinct token → P1 = 0.5/3 + 0.5·3/3·1/3 = 1/3.
  close(Math.exp(m.logProb([], 0)), 1 / 3);
  // Context a: c(a •) = 2, one continuation type.
  close(Math.exp(m.logProb([0], 1)), (2 - 0.5) / 2 + ((0.5 * 1) / 2) * (1 / 3));
  close(Math.exp(m.logProb([0], 0)), ((0.5 * 1) / 2) * (1 / 3));
  // Context b: c(b •) = 2, two types.
  close(Math.exp(m.logProb([1], 0)), (1 - 0.5) / 2 + ((0.5 * 2) / 2) * (1 / 3));
  // Unseen context c backs off to the unigram level.
  close(Math.exp(m.logProb([2], 2)), 1 / 3);
  // Skewed continuation counts: corpus a b c b → N1+(• b) = 2, N1+(• c) = 1, N1+(• a) = 0, N1+(• •) = 3.
  const k = new KneserNeyModel([0, 1, 2, 1], 3, { order: 2, discount: 0.5 });
  close(Math.exp(k.logProb([], 1)), 11 / 18);
  close(Math.exp(k.logProb([], 2)), 5 / 18);
  close(Math.exp(k.logProb([], 0)), 2 / 18);
});

test('Kneser–Ney distributions sum to one and beat the unigram on structured text', () => {
  const rng = new Rng(3);
  const V = 6;
  // A noisy cycle 0 → 1 → 2 → … so that context predicts the next token.
  const tokens = Array.from({ length: 3000 }, (_, i) => (rng.float() < 0.8 ? i % V : rng.int(V)));
  const kn = new KneserNeyModel(tokens, V + 2, { order: 3 });
  for (const ctx of [[], [0], [0, 1], [5, 5], [7, 7]]) {
    let sum = 0;
    for (let w = 0; w < V + 2; w++) sum += Math.exp(kn.logProb(ctx, w));
    close(sum, 1, 1e-9);
  }
  const held = Array.from({ length: 500 }, (_, i) => (rng.float() < 0.8 ? i % V : rng.int(V)));
  const uni = new UnigramModel(tokens, V + 2);
  assert.ok(totalNll(kn, held) < 0.6 * totalNll(uni, held));
  assert.throws(() => new KneserNeyModel([1, 2], 50257, { order: 4 }), /cannot key/);
});

test('longest shared run between generated tokens and a corpus', () => {
  const corpus = [5, 1, 2, 3, 9, 1, 2, 3, 4, 7, 7];
  assert.deepEqual(longestSharedRun([0, 2, 3, 4, 0], corpus), { length: 3, corpusStart: 6 });
  assert.deepEqual(longestSharedRun([8, 8], corpus), { length: 0, corpusStart: 0 });
  assert.equal(longestSharedRun([7, 7, 7], corpus).length, 2);
  // Cross-check against brute force on random data.
  const rng = new Rng(9);
  for (let trial = 0; trial < 20; trial++) {
    const a = Array.from({ length: 30 }, () => rng.int(3));
    const b = Array.from({ length: 200 }, () => rng.int(3));
    let best = 0;
    for (let i = 0; i < a.length; i++) for (let j = 0; j < b.length; j++) {
      let n = 0;
      while (i + n < a.length && j + n < b.length && a[i + n] === b[j + n]) n++;
      best = Math.max(best, n);
    }
    assert.equal(longestSharedRun(a, b).length, best);
  }
});
