/** The Keras-shaped library API end to end: create, compile, fit, evaluate, predict, generate, save, load. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TextModel } from '../../src/api/text-model.js';
import { trainWordLevel } from '../../src/tokenizers/word-level.js';
import { syntheticText, tmpDir } from '../helpers/corpus.js';

test('TextModel: compile → fit lowers the loss; evaluate, predict, generate; save → load predicts the same', async () => {
  const text = syntheticText(300, 3);
  const tokenizer = trainWordLevel([text], 'char', { specialTokens: [] });
  const ids = tokenizer.encode(text);
  const cut = Math.floor(ids.length * 0.9);
  const model = TextModel.create({ tokenizer, model: { type: 'rnn', cell: 'lstm', embeddingDim: 16, hiddenSize: 32, numLayers: 1, dropout: 0, tieWeights: false }, seed: 1 });
  assert.ok(model.parameterCount > 1000);
  await assert.rejects(model.fit(ids), /call compile\(\) before fit\(\)/);
  model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', learningRate: 1e-2, clipNorm: 5 });

  const before = await model.evaluate(ids.slice(cut), { context: 16, batch: 4 });
  const history = await model.fit(ids.slice(0, cut), { steps: 60, batchSize: 8, contextLength: 16, validationData: ids.slice(cut), validationFreq: 30 });
  assert.equal(history.loss.length, 60);
  assert.equal(history.valLoss.length, 2);
  const after = await model.evaluate(ids.slice(cut), { context: 16, batch: 4 });
  assert.ok(after.loss < before.loss - 0.5, `loss ${before.loss.toFixed(3)} → ${after.loss.toFixed(3)}`);
  assert.ok(after.bitsPerCharacter > 0 && Number.isFinite(after.perplexity));

  const logits = await model.predict([ids.slice(0, 10), ids.slice(10, 20)]);
  assert.equal(logits.length, 2 * 10 * tokenizer.vocabSize);
  const text1 = await model.generate('the cat', { maxNewTokens: 20, seed: 4 });
  assert.equal(text1, await model.generate('the cat', { maxNewTokens: 20, seed: 4 }));

  const dir = tmpDir();
  model.save(dir);
  const loaded = TextModel.load(dir);
  assert.deepEqual(await loaded.predict([ids.slice(0, 10), ids.slice(10, 20)]), logits);
});
