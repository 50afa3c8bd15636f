/** inkwell's GPT against PyTorch (torch_ref.py's GPT at toy size, test/fixtures/torch-gpt.json). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Gpt, type GptConfig } from '../../src/models/gpt.js';
import { assertClose } from '../helpers/check.js';
import { loadFixture, runFixture } from '../helpers/fixtures.js';

test('GPT logits and loss match PyTorch on Hugging Face GPT-2 names and Conv1D layouts', async () => {
  const fx = loadFixture('torch-gpt.json');
  const model = new Gpt(fx.config as unknown as GptConfig);
  assert.deepEqual(Object.keys(fx.weights).sort(), Object.keys(model.specs).sort(), 'the tied lm_head has no tensor of its own');
  const out = await runFixture(model, fx);
  assertClose(out.logits!, fx.logits.data, 'logits');
  assertClose(out.loss!, [fx.loss], 'loss');
});
