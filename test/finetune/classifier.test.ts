/** Sequence classification: mask-aware pooling, head gradients, frozen-then-unfrozen training, save/load/predict and input errors. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { SequenceClassifier } from '../../src/models/classifier.js';
import { loadClassifier } from '../../src/finetune/classifier-io.js';
import { readTsv } from '../../src/finetune/classify-data.js';
import { classificationMetrics } from '../../src/finetune/classify-metrics.js';
import { predict, resumeClassifier, trainClassifier, type ClassifyTrainOptions } from '../../src/finetune/classify-train.js';
import { saveModel } from '../../src/io/model-dir.js';
import { readSafetensors } from '../../src/io/safetensors.js';
import { Gpt } from '../../src/models/gpt.js';
import { RnnLm } from '../../src/models/rnn.js';
import { initWeights, ParamScope } from '../../src/nn/params.js';
import { FrozenScope, pickSpecs } from '../../src/models/scopes.js';
import { Graph, F } from '../../src/graph/index.js';
import { CompiledGraph } from '../../src/runtime/session.js';
import { safetensorsNames } from './safetensors-names.js';
import { trainWordLevel } from '../../src/tokenizers/word-level.js';
import { InkwellError } from '../../src/utils/errors.js';
import { Rng } from '../../src/utils/rng.js';
import { assertClose, checkLossGradients, randomFeeds } from '../helpers/check.js';
import { tmpDir } from '../helpers/corpus.js';
import { assertCliFailures } from '../helpers/run-cli.js';

const GOOD = ['good', 'great', 'fine', 'lovely'];
const BAD = ['bad', 'awful', 'dull', 'poor'];
const FILL = ['the', 'film', 'was', 'a', 'plot', 'and', 'very'];

/** A sentiment TSV: a positive or negative word somewhere among filler words. */
function sentimentTsv(file: string, n: number, seed: number): void {
  const rng = new Rng(seed);
  const lines = ['sentence\tlabel'];
  for (let i = 0; i < n; i++) {
    const label = rng.int(2);
    const words = Array.from({ length: 2 + rng.int(5) }, () => FILL[rng.int(FILL.length)]!);
    words.splice(rng.int(words.length + 1), 0, (label ? GOOD : BAD)[rng.int(4)]!);
    lines.push(`${words.join(' ')}\t${label}`);
  }
  fs.writeFileSync(file, lines.join('\n') + '\n');
}

const tokenizer = trainWordLevel([[...GOOD, ...BAD, ...FILL].join(' ')], 'word', { specialTokens: ['<pad>'], minFrequency: 1 });
const gpt = new Gpt({ vocabSize: tokenizer.vocabSize, nPositions: 16, nEmbd: 16, nLayer: 1, nHead: 2, bias: true, dropout: 0, layerNormEps: 1e-5 });

function setup(kind: 'gpt' | 'lstm' = 'gpt') {
  const dir = tmpDir();
  const model = kind === 'gpt' ? gpt : new RnnLm({ cell: 'lstm', vocabSize: tokenizer.vocabSize, embeddingDim: 8, hiddenSize: 16, numLayers: 1, dropout: 0, tieWeights: false });
  saveModel(path.join(dir, 'base'), { model, weights: initWeights(model.specs, 1), tokenizer });
  sentimentTsv(path.join(dir, 'train.tsv'), 300, 1);
  sentimentTsv(path.join(dir, 'dev.tsv'), 64, 2);
  return dir;
}

const options = (dir: string, o: Partial<ClassifyTrainOptions> = {}): ClassifyTrainOptions => ({
  from: path.join(dir, 'base'),
  trainFile: path.join(dir, 'train.tsv'),
  evalFile: path.join(dir, 'dev.tsv'),
  outDir: path.join(dir, 'clf'),
  method: 'full',
  pooling: 'last',
  maxLength: 16,
  batchSize: 16,
  steps: 60,
  lr: 5e-3,
  warmup: 5,
  weightDecay: 0.01,
  gradClip: 1,
  evalInterval: 20,
  patience: 0,
  seed: 1,
  threads: 1,
  ...o,
});

async function classifierLogits(c: SequenceClassifier, weights: Map<string, Float32Array>, ids: number[][], L: number, pad: number): Promise<Float32Array> {
  const { graph, outputs } = c.buildGraph(ids.length, L, { train: false, withLoss: false });
  const compiled = await CompiledGraph.compile(graph, outputs, { threads: 1 });
  const inputIds = new BigInt64Array(ids.length * L).fill(BigInt(pad));
  const mask = new BigInt64Array(ids.length * L);
  ids.forEach((row, b) => row.forEach((id, t) => ((inputIds[b * L + t] = BigInt(id)), (mask[b * L + t] = 1n))));
  const out = await compiled.run({ ...Object.fromEntries(weights), input_ids: inputIds, attention_mask: mask });
  await compiled.release();
  return out.logits as Float32Array;
}

for (const pooling of ['last', 'mean'] as const) {
  test(`${pooling} pooling ignores padding: the logits do not depend on the pad id or the padded length`, async () => {
    const c = new SequenceClassifier(gpt, { labels: ['0', '1'], pooling, maxLength: 16, padTokenId: 0 });
    const w = initWeights(c.specs, 4);
    const ids = [[3, 4, 5], [6, 7, 8, 9, 10]];
    const a = await classifierLogits(c, w, ids, 8, 0);
    assertClose(await classifierLogits(c, w, ids, 16, 7), a, 'logits', 1e-5);
    assertClose(await classifierLogits(c, w, [ids[0]!], 3, 0), a.slice(0, 2), 'unpadded', 1e-5);
  });
}

test('gradients of the score head (base frozen) and of the whole classifier match finite differences', async () => {
  const tiny = new Gpt({ vocabSize: 6, nPositions: 4, nEmbd: 8, nLayer: 1, nHead: 2, bias: true, dropout: 0, layerNormEps: 1e-5 });
  for (const [pooling, headOnly] of [['last', true], ['mean', false]] as const) {
    const c = new SequenceClassifier(tiny, { labels: ['a', 'b', 'c'], pooling, maxLength: 4, padTokenId: 0 });
    const g = new Graph();
    const trainable = headOnly ? pickSpecs(c.specs, c.headNames) : c.specs;
    const own = new ParamScope(g, trainable);
    const ids = g.input('input_ids', 'int64', [2, 4]);
    const mask = g.input('attention_mask', 'int64', [2, 4]);
    const labels = g.input('labels', 'int64', [2, 1]);
    const logits = c.logits(headOnly ? new FrozenScope(own, c.specs) : own, ids, mask, false);
    const loss = F.crossEntropy(F.reshape(logits, [2, 1, 3]), labels);
    assert.deepEqual(g.params.map((p) => p.name).includes('transformer.wte.weight'), !headOnly);
    const rng = new Rng(3);
    await checkLossGradients(g, loss, randomFeeds(g, rng, { input_ids: [1, 2, 3, 0, 4, 5, 0, 0], attention_mask: [1, 1, 1, 0, 1, 1, 0, 0], labels: [2, 0] }), rng);
  }
});

test('classification metrics: accuracy, per-class F1, macro F1 and the confusion matrix', () => {
  const m = classificationMetrics([0, 0, 1, 1, 1], [0, 1, 1, 1, 0], 2);
  assert.deepEqual(m.confusion, [[1, 1], [1, 2]]);
  assert.equal(m.accuracy, 0.6);
  assert.ok(Math.abs(m.f1[1]! - 2 / 3) < 1e-12);
  assert.ok(Math.abs(m.macroF1 - (0.5 + 2 / 3) / 2) < 1e-12);
});

test('a GPT classifier learns a toy sentiment task, saves as GPT2ForSequenceClassification and predicts', async () => {
  const dir = setup();
  const r = await trainClassifier(options(dir, { freezeSteps: 10 }));
  assert.ok(r.eval.accuracy >= 0.9, `accuracy ${r.eval.accuracy}`);
  const config = JSON.parse(fs.readFileSync(path.join(dir, 'clf', 'config.json'), 'utf8'));
  assert.deepEqual(config.architectures, ['GPT2ForSequenceClassification']);
  assert.equal(config.num_labels, 2);
  assert.deepEqual(config.id2label, { 0: '0', 1: '1' });
  const names = safetensorsNames(path.join(dir, 'clf', 'model.safetensors'));
  assert.ok(names.includes('score.weight') && !names.includes('score.bias'));
  const preds = await predict(loadClassifier(path.join(dir, 'clf')), ['the film was great', 'a very dull plot']);
  assert.deepEqual(preds.map((p) => p.label), ['1', '0']);
  assert.ok(Math.abs(preds[0]!.scores['0']! + preds[0]!.scores['1']! - 1) < 1e-6);
  assert.match(fs.readFileSync(path.join(dir, 'clf', 'classify_report.md'), 'utf8'), /Confusion matrix/);
});

test('head-only steps leave the base untouched; LoRA classifiers save merged weights; LSTM bases work', async () => {
  const dir = setup();
  await trainClassifier(options(dir, { steps: 5, freezeSteps: 5, evalInterval: 5 }));
  // The run now in clf/ is not replaced by a second one unless forced.
  await assert.rejects(trainClassifier(options(dir, { steps: 5, freezeSteps: 5, evalInterval: 5 })), /already holds a run.*/);
  const base = initWeights(gpt.specs, 1);
  const saved = loadClassifier(path.join(dir, 'clf'));
  for (const [k, v] of base) assert.deepEqual(saved.weights.get(k), v, k);
  const lora = await trainClassifier(options(dir, { method: 'lora', lora: { r: 2, alpha: 4, targetModules: ['c_attn'] }, steps: 10, evalInterval: 10, outDir: path.join(dir, 'lora') }));
  assert.ok(!safetensorsNames(path.join(dir, 'lora', 'model.safetensors')).some((n) => n.includes('lora_')));
  assert.ok(lora.parameters.trainablePercent < 10);
  const lstm = setup('lstm');
  const r = await trainClassifier(options(lstm, { steps: 10, evalInterval: 10 }));
  assert.equal(r.eval.count, 64);
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(lstm, 'clf', 'config.json'), 'utf8')).architectures, ['LSTMForSequenceClassification']);
});

test('bad TSV input and unknown labels are InkwellErrors naming the file and flag', async () => {
  const dir = tmpDir();
  const f = path.join(dir, 'x.tsv');
  fs.writeFileSync(f, 'text,label\nhello,1\n');
  assert.throws(() => readTsv(f, '--train'), (e: Error) => e instanceof InkwellError && e.message.includes(`--train ${f}`) && /header/.test(e.message));
  fs.writeFileSync(f, 'sentence\tlabel\nhello\n');
  assert.throws(() => readTsv(f, '--eval'), /--eval .*x\.tsv:2: expected 2 tab-separated fields/);
  assert.throws(() => readTsv(path.join(dir, 'missing.tsv'), '--train'), /--train .*missing\.tsv: cannot read it/);
  const d = setup();
  fs.writeFileSync(path.join(d, 'dev.tsv'), 'sentence\tlabel\ngood film\tmaybe\n');
  await assert.rejects(trainClassifier(options(d)), /dev\.tsv: example 1 has label 'maybe'/);
});

test('an interrupted classifier run resumes from OUT/checkpoint and ends exactly where an uninterrupted one does', async () => {
  const dir = setup();
  const o = (out: string, extra: Partial<ClassifyTrainOptions> = {}) =>
    options(dir, { method: 'lora', lora: { r: 2, alpha: 4, targetModules: ['c_attn'] }, steps: 10, evalInterval: 5, outDir: path.join(dir, out), ...extra });
  const straight = await trainClassifier(o('straight'));
  // Crash at the second evaluation: the checkpoint of step 5 is the last one written.
  await assert.rejects(trainClassifier(o('cut', { onEval: (step) => { if (step === 10) throw new Error('killed'); } })), /killed/);
  assert.equal(JSON.parse(fs.readFileSync(path.join(dir, 'cut', 'checkpoint', 'trainer_state.json'), 'utf8')).step, 5);
  const resumed = await resumeClassifier(path.join(dir, 'cut'), { threads: 1 });
  assert.equal(resumed.steps, 10);
  assert.deepEqual(resumed.eval, straight.eval);
  assert.equal(resumed.bestStep, straight.bestStep);
  const weights = (out: string) => loadClassifier(path.join(dir, out)).weights;
  for (const [k, v] of weights('straight')) assert.deepEqual(weights('cut').get(k), v, k);
  // The last checkpoints (step 10, adapters unmerged) agree too.
  const last = (out: string) => readSafetensors(path.join(dir, out, 'checkpoint', 'model.safetensors')).tensors;
  for (const [k, t] of last('straight')) assert.deepEqual(last('cut').get(k)!.data, t.data, k);
  const steps = (out: string) => fs.readFileSync(path.join(dir, out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).step);
  assert.deepEqual(steps('cut'), steps('straight'));
  await assert.rejects(resumeClassifier(path.join(dir, 'straight', 'nothing')), /no classifier checkpoint there/);
});

test('classify train without its inputs, or with --resume of a directory without a checkpoint, fails with one clear line', async () => {
  const dir = tmpDir();
  await assertCliFailures([
    [['classify', 'train', '--train', 'x.tsv'], /--from is required/],
    [['classify', 'train', '--resume', dir], /--resume .*: no classifier checkpoint there/],
  ]);
});
