import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluatePerplexity, scoreTarget, textLength } from '../../src/eval/perplexity.js';
import { buildEvalGraph } from '../../src/models/lm.js';
import { CompiledGraph } from '../../src/runtime/session.js';
import { trainWordLevel } from '../../src/tokenizers/word-level.js';
import { Rng } from '../../src/utils/rng.js';
import { tinyRun } from '../helpers/tiny-run.js';

/** Random ids of plain characters: id 0 is the char tokenizer's <unk>, a special token that characters do not count. */
const randomTokens = (n: number, V: number, seed = 1) => {
  const rng = new Rng(seed);
  return Int32Array.from({ length: n }, () => 1 + rng.int(V - 1));
};

test('scoreTarget: negative log-softmax and rank, by hand', () => {
  const row = Float32Array.from([1, 3, 2]);
  const { nll, rank } = scoreTarget(row, 2);
  const lse = Math.log(Math.exp(1) + Math.exp(3) + Math.exp(2));
  assert.ok(Math.abs(nll - (lse - 2)) < 1e-6);
  assert.equal(rank, 1);
  assert.equal(scoreTarget(row, 1).rank, 0);
});

test('GPT: the total loss matches the eval graph on the same windows', async () => {
  const { bundle } = tinyRun('gpt', { nPositions: 8 });
  const V = bundle.model.vocabSize;
  const T = 8;
  const tokens = randomTokens(2 * T + 1 + 3, V);
  const r = await evaluatePerplexity(bundle, tokens, { batch: 2 });
  assert.equal(r.context, T);
  assert.equal(r.tokens, 2 * T);
  assert.equal(r.unscoredTokens, 3);
  assert.equal(r.characters, 2 * T, 'a char tokenizer: one character per token');
  assert.equal(r.perPositionLoss.length, T);
  assert.ok(r.top1 >= 0 && r.top1 <= r.top5 && r.top5 <= 1);

  const { graph, outputs } = buildEvalGraph(bundle.model, 2, T);
  const session = await CompiledGraph.compile(graph, outputs);
  const ids = Int32Array.from([...tokens.subarray(0, T), ...tokens.subarray(T, 2 * T)]);
  const targets = Int32Array.from([...tokens.subarray(1, T + 1), ...tokens.subarray(T + 1, 2 * T + 1)]);
  const loss = ((await session.run({ ...Object.fromEntries(bundle.weights), ids, targets })).loss as Float32Array)[0]!;
  await session.release();
  assert.ok(Math.abs(r.loss - loss) < 1e-5, `${r.loss} vs ${loss}`);
  assert.ok(Math.abs(r.perplexity - Math.exp(loss)) < 1e-3);
  assert.ok(Math.abs(r.bitsPerCharacter - loss / Math.LN2) < 1e-5);
});

test('GPT with a stride: windows every S tokens score each token once, after the first window only their last S', async () => {
  const { bundle } = tinyRun('gpt', { nPositions: 8 });
  const [T, S] = [8, 3];
  const tokens = randomTokens(T + 3 * S + 1 + 2, bundle.model.vocabSize, 3);
  const r = await evaluatePerplexity(bundle, tokens, { stride: S, batch: 3 });
  assert.equal(r.stride, S);
  assert.equal(r.tokens, T + 3 * S);
  assert.equal(r.unscoredTokens, 2);

  // Each window on its own: window 0 scores all its positions, window i > 0 positions T − S … T − 1.
  const { graph, outputs } = buildEvalGraph(bundle.model, 1, T, { withLogits: true });
  const session = await CompiledGraph.compile(graph, outputs);
  let nats = 0;
  for (let i = 0; i < 4; i++) {
    const [ids, targets] = [tokens.subarray(i * S, i * S + T), tokens.subarray(i * S + 1, i * S + T + 1)];
    const logits = (await session.run({ ...Object.fromEntries(bundle.weights), ids, targets })).logits as Float32Array;
    const V = bundle.model.vocabSize;
    for (let t = i === 0 ? 0 : T - S; t < T; t++) nats += scoreTarget(logits.subarray(t * V, (t + 1) * V), targets[t]!).nll;
  }
  await session.release();
  assert.ok(Math.abs(r.nats - nats) < 1e-3, `${r.nats} vs ${nats}`);

  await assert.rejects(evaluatePerplexity(bundle, tokens, { stride: 9 }), /--stride 9 must be an integer from 1 to 8 \(the context\)/);
  await assert.rejects(evaluatePerplexity(tinyRun('lstm').bundle, tokens, { context: 4, stride: 2 }), /--stride applies to GPT models/);
});

test('LSTM: state carried across windows scores a text like one long window', async () => {
  const { bundle } = tinyRun('lstm');
  const tokens = randomTokens(17, bundle.model.vocabSize, 2);
  const windows = await evaluatePerplexity(bundle, tokens, { context: 4, batch: 1 });
  const whole = await evaluatePerplexity(bundle, tokens, { context: 16, batch: 1 });
  assert.equal(windows.tokens, 16);
  assert.ok(Math.abs(windows.nats - whole.nats) < 1e-3, `${windows.nats} vs ${whole.nats}`);
  // Two lanes of two windows each also cover every token once.
  const lanes = await evaluatePerplexity(bundle, tokens, { context: 4, batch: 2 });
  assert.equal(lanes.tokens, 16);
});

test('characters leave out special tokens such as document separators', () => {
  const tok = trainWordLevel(['héllo'], 'char', { specialTokens: ['<eos>'] });
  const ids = [...tok.encode('héllo'), tok.special.eos!, ...tok.encode('hé')];
  assert.equal(textLength(tok, ids), 7);
});

test('bad inputs name the problem', async () => {
  const { bundle } = tinyRun('gpt', { nPositions: 8 });
  await assert.rejects(evaluatePerplexity(bundle, Int32Array.from([1])), /at least 2/);
  await assert.rejects(evaluatePerplexity(bundle, randomTokens(40, 5), { context: 9 }), /--context 9 exceeds the model's context of 8/);
});
