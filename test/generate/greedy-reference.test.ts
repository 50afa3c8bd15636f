/** Greedy generation from the same weights matches PyTorch token for token (test/fixtures/torch-*.json). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Gpt, type GptConfig } from '../../src/models/gpt.js';
import { RnnLm, type RnnConfig } from '../../src/models/rnn.js';
import type { LanguageModel } from '../../src/models/lm.js';
import { createDecoder } from '../../src/generate/decoders.js';
import { generateText } from '../../src/generate/generate.js';
import { trainWordLevel } from '../../src/tokenizers/word-level.js';
import { loadFixture } from '../helpers/fixtures.js';

for (const name of ['gpt', 'lstm', 'gru']) {
  test(`${name}: greedy decoding reproduces PyTorch's tokens`, async () => {
    const fx = loadFixture(`torch-${name}.json`);
    const model: LanguageModel = name === 'gpt' ? new Gpt(fx.config as unknown as GptConfig) : new RnnLm(fx.config as unknown as RnnConfig);
    const weights = new Map(Object.entries(fx.weights).map(([k, t]) => [k, Float32Array.from(t.data)]));
    // A character per id, so ids survive the text round trip of generateText.
    const tokenizer = trainWordLevel(['abcdefghijk'], 'char', { specialTokens: [] });
    const decoder = await createDecoder({ model, weights, tokenizer }, 1);
    const result = await generateText({ decoder, tokenizer }, fx.greedy.prompt, { greedy: true, maxNewTokens: fx.greedy.tokens.length });
    await decoder.release();
    assert.ok(Math.min(...fx.greedy.margins) > 1e-4, 'the fixture has no float32 near-ties');
    assert.deepEqual(result.tokens, fx.greedy.tokens);
  });
}
