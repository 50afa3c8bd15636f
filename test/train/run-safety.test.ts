/** Runs are never silently replaced, a diverged model is never saved, and metrics.jsonl survives torn lines and resumes. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Gpt } from '../../src/models/gpt.js';
import { initWeights } from '../../src/nn/params.js';
import { truncateMetrics } from '../../src/train/metrics-log.js';
import { checkOutsideFrom } from '../../src/train/run-dir.js';
import { Trainer, type TrainConfig } from '../../src/train/trainer.js';
import { runCli } from '../helpers/run-cli.js';
import { syntheticText, tinyCorpus, tmpDir } from '../helpers/corpus.js';

const corpus = tinyCorpus(200);
const bundle = () => {
  const model = new Gpt({ vocabSize: corpus.tokenizer.vocabSize, nPositions: 16, nEmbd: 16, nLayer: 1, nHead: 2, bias: true, dropout: 0, layerNormEps: 1e-5 });
  return { model, weights: initWeights(model.specs, 5), tokenizer: corpus.tokenizer };
};
const base: TrainConfig = { batchSize: 4, contextLength: 16, maxSteps: 4, optimizer: { name: 'adamw' }, schedule: { lr: 1e-3 }, logInterval: 1, evalBatches: 2, seed: 3, threads: 1 };

test('a diverged run saves nothing from the bad step: no best/ with NaN weights, no checkpoint, and says so', async () => {
  const out = tmpDir();
  const config: TrainConfig = { ...base, optimizer: { name: 'sgd' }, schedule: { lr: 1e38 }, evalInterval: 1, checkpointInterval: 1 };
  const t = new Trainer({ bundle: bundle(), train: corpus.train, val: corpus.val, config, outDir: out });
  await assert.rejects(t.run(), (e: Error) => /^training diverged: the (validation loss|weights|loss or gradients) became NaN\/inf at step 1; nothing was saved \(no checkpoint yet\)$/.test(e.message));
  await t.release();
  assert.ok(!fs.existsSync(path.join(out, 'best')), 'no best model');
  assert.ok(!fs.existsSync(path.join(out, 'trainer_state.json')), 'no checkpoint');
});

test('metrics.jsonl: a torn last line is skipped with a warning, the rewrite is a new file (atomic), and resume continues it', async () => {
  const out = tmpDir();
  const t = new Trainer({ bundle: bundle(), train: corpus.train, config: { ...base, checkpointInterval: 4 }, outDir: out });
  await t.run();
  await t.release();
  const file = path.join(out, 'metrics.jsonl');
  const good = fs.readFileSync(file, 'utf8');
  fs.appendFileSync(file, '{"step":5,"loss":3.1');
  const warnings: string[] = [];
  const inode = fs.statSync(file).ino;
  truncateMetrics(file, 4, (m) => warnings.push(m));
  assert.equal(fs.readFileSync(file, 'utf8'), good);
  assert.match(warnings.join('\n'), /metrics\.jsonl: skipping a torn last line/);
  assert.notEqual(fs.statSync(file).ino, inode, 'replaced by rename, not rewritten in place');

  fs.appendFileSync(file, '{"step":5,"loss":3.1');
  const resumed = Trainer.resume(out, { train: corpus.train }, undefined, { maxSteps: 6 });
  await resumed.run();
  await resumed.release();
  assert.deepEqual(fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l).step), [1, 2, 3, 4, 5, 6]);
});

test('train --out on an existing run refuses naming --resume and --force; --force replaces it whole', async () => {
  const dir = tmpDir();
  const text = path.join(dir, 'corpus.txt');
  fs.writeFileSync(text, syntheticText(200, 4));
  const spec = path.join(dir, 'spec.json');
  fs.writeFileSync(spec, JSON.stringify({ model: { nLayer: 1, nEmbd: 16, nHead: 2 }, train: { batchSize: 2, evalBatches: 1, checkpointInterval: 2, evalInterval: 2, logInterval: 1 } }));
  const out = path.join(dir, 'run');
  const args = ['train', '--preset', 'char-gpt', '--config', spec, '--corpus', text, '--out', out, '--context', '8', '--threads', '1'];
  assert.equal((await runCli([...args, '--steps', '4'])).code, 0);
  const again = await runCli([...args, '--steps', '2']);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /--out .*run already holds a run/);
  assert.match(again.stderr, /--resume .*--force/);
  assert.equal(JSON.parse(fs.readFileSync(path.join(out, 'trainer_state.json'), 'utf8')).step, 4, 'the run is untouched');
  const forced = await runCli([...args, '--steps', '2', '--force']);
  assert.equal(forced.code, 0, forced.stderr);
  const steps = fs.readFileSync(path.join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((m) => 'loss' in m).map((m) => m.step);
  assert.deepEqual(steps, [1, 2], 'only the new run\'s curve');
  assert.equal(JSON.parse(fs.readFileSync(path.join(out, 'trainer_state.json'), 'utf8')).step, 2);
  assert.deepEqual(fs.readdirSync(out).filter((f) => f.startsWith('.')), []);

  const ft = await runCli(['finetune', '--from', path.join(out, 'best'), '--out', out, '--corpus', text, '--steps', '1']);
  assert.equal(ft.code, 1);
  assert.match(ft.stderr, /--from .*best is inside --out .*run/);
  assert.ok(fs.existsSync(path.join(out, 'data', 'meta.json')), 'the original token cache stays');
});

test('--out equal to, inside or around --from is refused', () => {
  const dir = tmpDir();
  fs.mkdirSync(path.join(dir, 'run', 'best'), { recursive: true });
  assert.throws(() => checkOutsideFrom(path.join(dir, 'run'), path.join(dir, 'run')), /--out .* is the same directory as --from/);
  assert.throws(() => checkOutsideFrom(path.join(dir, 'run', 'best', 'ft'), path.join(dir, 'run', 'best')), /--out .* is inside --from/);
  assert.throws(() => checkOutsideFrom(path.join(dir, 'run'), path.join(dir, 'run', 'best')), /--from .* is inside --out/);
  checkOutsideFrom(path.join(dir, 'ft'), path.join(dir, 'run', 'best'));
  checkOutsideFrom(path.join(dir, 'run-ft'), path.join(dir, 'run'));
});
