/** Run policy in the library: spec resolution (preset → --config → overrides), one set of special-token defaults, and TextModel built from a preset. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { TextModel } from '../../src/api/text-model.js';
import { Gpt } from '../../src/models/gpt.js';
import { DEFAULT_SPECIAL_TOKENS, resolveSpec, trainTokenizer } from '../../src/train/run-spec.js';
import { PRESETS } from '../../src/train/presets.js';
import { syntheticText, tmpDir } from '../helpers/corpus.js';

test('a spec is the preset, then the --config file, then single overrides', () => {
  const file = path.join(tmpDir(), 'spec.json');
  fs.writeFileSync(file, JSON.stringify({ model: { nLayer: 2 }, train: { batchSize: 4 } }));
  const spec = resolveSpec({ preset: 'char-gpt', config: file, overrides: { steps: 100, context: 128, lr: 2e-3, batchSize: 6 } });
  assert.equal(spec.model.type === 'gpt' && spec.model.nLayer, 2, 'the file overrides the preset');
  assert.equal(spec.train.batchSize, 6, 'a flag overrides the file');
  assert.equal(spec.train.maxSteps, 100);
  assert.equal(spec.train.schedule.decaySteps, 100, "the preset's decay stretches with the run");
  assert.equal(spec.model.type === 'gpt' && spec.model.nPositions, 128, 'a longer context widens the GPT');
  assert.ok(Math.abs(spec.train.schedule.minLr! - 2e-4) < 1e-12, 'the final-to-peak ratio is kept');
  assert.throws(() => resolveSpec({}), /give --preset or --config/);
  assert.throws(() => resolveSpec({ preset: 'nope' }), /unknown preset 'nope'/);
});

test('every tokenizer type gets its one set of default special tokens, whoever trains it', () => {
  const texts = [syntheticText(40, 1)];
  assert.deepEqual([...trainTokenizer(texts, { type: 'char' }).specialTokens.keys()], DEFAULT_SPECIAL_TOKENS.char);
  assert.deepEqual([...trainTokenizer(texts, { type: 'word', vocabSize: 50 }).specialTokens.keys()], DEFAULT_SPECIAL_TOKENS.word);
  assert.deepEqual([...trainTokenizer(texts, { type: 'bpe', vocabSize: 300 }, { minFrequency: 1 }).specialTokens.keys()], DEFAULT_SPECIAL_TOKENS.bpe);
  assert.deepEqual([...trainTokenizer(texts, { type: 'char' }, { specialTokens: ['<eos>'] }).specialTokens.keys()], ['<eos>', '<unk>'], '<unk> is added when missing: any text encodes');
});

test('TextModel.fromSpec builds what `inkwell train --preset` builds', () => {
  const text = syntheticText(40, 2);
  const m = TextModel.fromSpec('char-gpt', [text]);
  assert.ok(m.model instanceof Gpt);
  assert.equal(m.model.config.nEmbd, 128);
  assert.equal(m.tokenizer.vocabSize, new Set(text).size + 1, "a char vocabulary: the text's characters and <unk>");
});

test("every preset resolves, and a cosine schedule ends at the preset's last step (a run that stops mid-decay never reaches its low rate)", () => {
  for (const name of Object.keys(PRESETS)) {
    const spec = resolveSpec({ preset: name });
    const { schedule, maxSteps } = spec.train;
    if (schedule.decay === 'cosine') assert.equal(schedule.decaySteps, maxSteps, `${name}: decaySteps`);
    if (spec.model.type === 'gpt') assert.ok(spec.model.nPositions >= spec.train.contextLength, `${name}: nPositions covers the context`);
  }
});
