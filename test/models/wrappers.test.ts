/**
 * Wrapped models (LoRA adapters, a classifier's language model) decode with
 * their base's key/value cache and evaluate like their base: against the
 * merged weights run as a plain GPT, token for token and in perplexity.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { Gpt } from '../../src/models/gpt.js';
import { LoraModel } from '../../src/models/lora.js';
import { SequenceClassifier } from '../../src/models/classifier.js';
import type { LanguageModel } from '../../src/models/lm.js';
import { initWeights, type Weights } from '../../src/nn/params.js';
import { pickSpecs } from '../../src/models/scopes.js';
import { loadModel, saveModel, type ModelBundle } from '../../src/io/model-dir.js';
import { createDecoder } from '../../src/generate/decoders.js';
import { generateBatch } from '../../src/generate/generate.js';
import { evaluatePerplexity } from '../../src/eval/perplexity.js';
import { trainWordLevel } from '../../src/tokenizers/word-level.js';
import { Rng } from '../../src/utils/rng.js';
import { assertClose } from '../helpers/check.js';
import { tmpDir } from '../helpers/corpus.js';

const tokenizer = trainWordLevel(['abcdefghijklmnopq'], 'char', { specialTokens: [] });
const base = new Gpt({ vocabSize: tokenizer.vocabSize, nPositions: 16, nEmbd: 16, nLayer: 2, nHead: 2, bias: true, dropout: 0, layerNormEps: 1e-5 });
const LORA = { r: 4, alpha: 8, targetModules: ['c_attn', 'c_proj', 'c_fc'] };

/** Base weights plus adapters with a random (non-zero) B, so the adapters change the model. */
function adapted(model: LoraModel, seed: number): Weights {
  const w: Weights = new Map([...initWeights(base.specs, seed), ...initWeights(pickSpecs(model.specs, model.adapterNames), seed + 1)]);
  const rng = new Rng(seed);
  for (const n of model.adapterNames) if (n.includes('lora_B')) w.set(n, Float32Array.from(w.get(n)!, () => (rng.float() - 0.5) * 0.4));
  return w;
}

const text = 'abcabdacbdabcdbaqponmlkjihgfedcbaabcabdacbd'.repeat(3);
const tokens = Int32Array.from(tokenizer.encode(text));
const prompts = [[1, 2, 3, 4, 5], [6, 2, 9, 0, 1]];

/** Greedy continuations of both prompts (batch 2, the per-head cache) and of the first alone (batch 1, the appended cache), with the logits after the first prompt. */
async function decode(b: ModelBundle): Promise<{ ids: number[][]; single: number[]; logits: Float32Array }> {
  const [two, one] = [await createDecoder(b, 2), await createDecoder(b, 1)];
  try {
    const batch = await generateBatch({ decoder: two, tokenizer }, prompts, { greedy: true, maxNewTokens: 10 });
    const logits = await one.feed(Int32Array.from(prompts[0]!));
    one.reset();
    const single = await generateBatch({ decoder: one, tokenizer }, [prompts[0]!], { greedy: true, maxNewTokens: 10 });
    return { ids: batch.map((r) => r.tokens), single: single[0]!.tokens, logits };
  } finally {
    await two.release();
    await one.release();
  }
}

async function assertLikeMerged(wrapped: ModelBundle, merged: ModelBundle, what: string): Promise<void> {
  assert.equal(wrapped.model.decoding.type, 'kv-cache', `${what} decodes with the key/value cache`);
  assert.equal(wrapped.model.contextLength, base.contextLength);
  const [a, b] = [await decode(wrapped), await decode(merged)];
  assertClose(a.logits, b.logits, `${what}: logits after a 5-token prompt`, 1e-5);
  assert.deepEqual(a.ids, b.ids, `${what}: greedy ids at batch 2`);
  assert.deepEqual(a.single, b.single, `${what}: greedy ids at batch 1`);
  assert.deepEqual(a.single, a.ids[0], `${what}: batch 1 and batch 2 agree`);
  const [pa, pb] = [await evaluatePerplexity(wrapped, tokens), await evaluatePerplexity(merged, tokens)];
  assert.equal(pa.context, 16, `${what} is scored in windows of its base's context`);
  assert.ok(Math.abs(pa.loss - pb.loss) < 1e-5, `${what}: loss ${pa.loss} vs merged ${pb.loss}`);
  assert.equal(pa.tokens, pb.tokens);
  assert.equal(pa.top1, pb.top1);
}

test('a LoRA model, saved and reloaded, decodes with the KV cache and scores the perplexity of its merged weights as a plain GPT', async () => {
  const lora = new LoraModel(base, LORA);
  const weights = adapted(lora, 3);
  const dir = path.join(tmpDir(), 'lora');
  saveModel(dir, { model: lora, weights, tokenizer });
  const loaded = loadModel(dir);
  assert.ok(loaded.model instanceof LoraModel, 'the directory reloads as a LoRA model');
  await assertLikeMerged(loaded, { model: base, weights: lora.merge(weights), tokenizer }, 'LoRA');
});

test("a LoRA classifier's language model decodes and scores like its exported (merged) base", async () => {
  const classifier = new SequenceClassifier(base, { labels: ['no', 'yes'], pooling: 'last', maxLength: 16, padTokenId: 0 }, LORA);
  const lm: LanguageModel = classifier.languageModel;
  const weights = adapted(classifier.lora!, 5);
  const exported = classifier.exportWeights(weights);
  // The language model reads its own weights; the score head is the classifier's.
  const only = (w: Weights, m: LanguageModel): Weights => new Map([...w].filter(([n]) => n in m.specs));
  await assertLikeMerged({ model: lm, weights: only(weights, lm), tokenizer }, { model: base, weights: only(exported, base), tokenizer }, 'classifier');
});
