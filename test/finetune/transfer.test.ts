/** The transfer experiment end to end at toy size: pretrain without the held-out document, fine-tune on it, train from scratch, plot and report. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { readCorpus } from '../../src/corpus/corpus.js';
import { transfer } from '../../src/finetune/transfer.js';
import type { RunSpec } from '../../src/train/presets.js';
import { InkwellError } from '../../src/utils/errors.js';
import { syntheticText, tmpDir } from '../helpers/corpus.js';

const spec: RunSpec = {
  tokenizer: { type: 'char' },
  model: { type: 'gpt', nPositions: 16, nEmbd: 16, nLayer: 1, nHead: 2, bias: true, dropout: 0, layerNormEps: 1e-5 },
  valFraction: 0.2,
  train: { batchSize: 4, contextLength: 16, maxSteps: 8, optimizer: { name: 'adamw' }, schedule: { lr: 1e-2 }, evalInterval: 4, evalBatches: 2, logInterval: 2, seed: 1, threads: 1 },
};

test('transfer runs all three stages on the same held-out split and writes curves and a report', async () => {
  const corpus = tmpDir();
  fs.writeFileSync(path.join(corpus, 'a.txt'), syntheticText(150, 1));
  fs.writeFileSync(path.join(corpus, 'b.txt'), syntheticText(150, 2));
  fs.writeFileSync(path.join(corpus, 'held.txt'), syntheticText(150, 3));
  const out = tmpDir();
  const docs = readCorpus(corpus);
  const r = await transfer({ docs, holdout: 'held.txt', outDir: out, spec, steps: 6, finetuneLr: 3e-3, evalInterval: 3, threads: 1 });
  assert.equal(r.pretrain.steps, 8);
  assert.deepEqual(r.finetuned.curve.map(([s]) => s), [3, 6]);
  assert.deepEqual(r.scratch.curve.map(([s]) => s), [3, 6]);
  assert.ok(r.finetuned.forgetting, 'the pretraining run’s own validation split measures forgetting');
  for (const p of r.plots) assert.ok(fs.statSync(p).size > 0, p);
  assert.match(fs.readFileSync(path.join(out, 'transfer_report.md'), 'utf8'), /\| 6 \| [\d.]+ \| [\d.]+ \|/);

  // A rerun into the same --out is refused before any stage runs, naming --force; nothing there changes.
  const again = { docs, holdout: 'held.txt', outDir: out, spec, steps: 6, finetuneLr: 3e-3, evalInterval: 3, threads: 1 };
  const scratchMetrics = path.join(out, 'scratch', 'metrics.jsonl');
  const before = fs.readFileSync(scratchMetrics, 'utf8');
  const pretrainModel = fs.statSync(path.join(out, 'pretrain', 'model.safetensors')).mtimeMs;
  const refused = (stage: string, hint: RegExp) => (e: InkwellError) => e.message.includes(`already holds a transfer experiment (${path.join(out, stage)}`) && hint.test(e.hint ?? '');
  await assert.rejects(transfer(again), refused('pretrain', /--force to replace it, --pretrained .*pretrain --force to keep its pretraining/));
  await assert.rejects(transfer({ ...again, pretrained: path.join(out, 'pretrain') }), refused('finetune', /^pass --force to replace it, or choose another --out$/));
  assert.equal(fs.readFileSync(scratchMetrics, 'utf8'), before);
  // --force keeps the --pretrained run and replaces the rest: the curves are the new runs' alone, not appended to the old.
  const forced = await transfer({ ...again, pretrained: path.join(out, 'pretrain'), force: true });
  assert.deepEqual(forced.scratch.curve.map(([s]) => s), [3, 6]);
  assert.deepEqual(forced.finetuned.curve.map(([s]) => s), [3, 6]);
  assert.equal(fs.readFileSync(scratchMetrics, 'utf8').split('\n').filter(Boolean).length, before.split('\n').filter(Boolean).length);
  assert.equal(fs.statSync(path.join(out, 'pretrain', 'model.safetensors')).mtimeMs, pretrainModel);
  // A --pretrained run inside a stage that --force would replace is refused.
  await assert.rejects(transfer({ ...again, pretrained: path.join(out, 'finetune'), force: true }), /inside|same directory/);
  assert.ok(fs.existsSync(path.join(out, 'finetune', 'model.safetensors')));

  await assert.rejects(transfer({ docs, holdout: 'nope.txt', outDir: tmpDir(), spec, steps: 2, finetuneLr: 1e-3, evalInterval: 1 }), /--holdout nope\.txt is not in the corpus/);
});
