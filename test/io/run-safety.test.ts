/**
 * One writer per run directory, readers that never write, commit markers that
 * cannot reach outside, and checkpoints whose files are verified as one set.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadModel, saveModel } from '../../src/io/model-dir.js';
import { lockRun, LOCK_FILE } from '../../src/io/run-lock.js';
import { readCommitted, verifyManifest } from '../../src/io/transaction.js';
import { Gpt } from '../../src/models/gpt.js';
import { initWeights } from '../../src/nn/params.js';
import { Trainer, type TrainConfig } from '../../src/train/trainer.js';
import { tinyCorpus, tmpDir } from '../helpers/corpus.js';

const corpus = tinyCorpus(200);
const gpt = () => new Gpt({ vocabSize: corpus.tokenizer.vocabSize, nPositions: 16, nEmbd: 16, nLayer: 1, nHead: 2, bias: true, dropout: 0, layerNormEps: 1e-5 });
const bundle = (seed = 1) => {
  const model = gpt();
  return { model, weights: initWeights(model.specs, seed), tokenizer: corpus.tokenizer };
};
const config: TrainConfig = {
  batchSize: 4, contextLength: 16, maxSteps: 4, optimizer: { name: 'adamw' }, schedule: { lr: 1e-3 }, checkpointInterval: 2, logInterval: 1, seed: 3, threads: 1,
};
const RUN_LOCK = fileURLToPath(new URL('../../src/io/run-lock.js', import.meta.url));

test('a second writer is refused naming the holder; a dead holder\'s lock is taken over; release removes it', async () => {
  const dir = tmpDir();
  const child = spawn(process.execPath, ['--input-type=module', '-e', `import { lockRun } from ${JSON.stringify(RUN_LOCK)}; lockRun(${JSON.stringify(dir)}); console.log('locked'); setInterval(() => {}, 1000);`], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
  assert.throws(() => lockRun(dir), new RegExp(`is in use by inkwell process ${child.pid} \\(started `));
  // A Trainer writing there is refused before it trains a step.
  await assert.rejects(new Trainer({ bundle: bundle(), train: corpus.train, config, outDir: dir }).run(), /is in use by inkwell process/);
  child.kill('SIGKILL');
  await new Promise((resolve) => child.once('close', resolve));
  assert.ok(fs.existsSync(path.join(dir, LOCK_FILE)), 'SIGKILL leaves the lock file');
  const lock = lockRun(dir);
  assert.equal(JSON.parse(fs.readFileSync(path.join(dir, LOCK_FILE), 'utf8')).pid, process.pid);
  assert.throws(() => lockRun(dir), new RegExp(`in use by inkwell process ${process.pid}`), 'one writer in this process too');
  lock.release();
  assert.ok(!fs.existsSync(path.join(dir, LOCK_FILE)));
});

test('a reader mid-commit reads the committed pending files and deletes nothing; before the commit point it reads the old set', () => {
  const dir = path.join(tmpDir(), 'm');
  const [a, b] = [bundle(1), bundle(2)];
  saveModel(dir, a);
  const next = path.join(tmpDir(), 'n');
  saveModel(next, b);
  // The writer's state between its commit point and its renames: pending files listed by .commit.
  for (const f of ['model.safetensors', 'manifest.json']) fs.copyFileSync(path.join(next, f), path.join(dir, `.${f}.pending`));
  fs.writeFileSync(path.join(dir, '.commit'), JSON.stringify(['model.safetensors', 'manifest.json']));
  const before = fs.readdirSync(dir).sort();
  const mid = loadModel(dir);
  assert.deepEqual(mid.weights.get('transformer.wte.weight'), b.weights.get('transformer.wte.weight'), 'the committed (new) weights');
  assert.deepEqual(fs.readdirSync(dir).sort(), before, 'the reader wrote and removed nothing');
  // Before the commit point (no marker): the old set, pending files untouched.
  fs.rmSync(path.join(dir, '.commit'));
  assert.deepEqual(loadModel(dir).weights.get('transformer.wte.weight'), a.weights.get('transformer.wte.weight'));
  assert.ok(fs.existsSync(path.join(dir, '.model.safetensors.pending')));
  // A mix (the new weights under the old manifest) is refused, never loaded.
  fs.copyFileSync(path.join(next, 'model.safetensors'), path.join(dir, 'model.safetensors'));
  assert.throws(() => loadModel(dir), /model\.safetensors does not match manifest\.json .*corrupt or from another checkpoint/);
  // The next writer rolls its own directory back and commits cleanly.
  saveModel(dir, a);
  assert.deepEqual(fs.readdirSync(dir).filter((f) => f.startsWith('.')), []);
  verifyManifest(dir);
});

test('a crafted commit marker naming files outside the directory is refused by readers and writers and renames nothing', () => {
  const root = tmpDir();
  const dir = path.join(root, 'run');
  saveModel(dir, bundle());
  const victim = path.join(root, 'victim.txt');
  fs.writeFileSync(victim, 'mine');
  fs.writeFileSync(path.join(root, 'victim.txt.pending'), 'evil');
  for (const names of [['/../../victim.txt'], ['../victim.txt'], [42], 'model.safetensors']) {
    fs.writeFileSync(path.join(dir, '.commit'), JSON.stringify(names));
    assert.throws(() => loadModel(dir), /\.commit/);
    assert.throws(() => readCommitted(dir, 'config.json'), /\.commit/);
    assert.throws(() => saveModel(dir, bundle()), /\.commit/);
    assert.throws(() => Trainer.resume(dir, { train: corpus.train }), /\.commit/);
  }
  assert.equal(fs.readFileSync(victim, 'utf8'), 'mine');
  assert.equal(fs.readFileSync(path.join(root, 'victim.txt.pending'), 'utf8'), 'evil');
});

test('resume refuses a checkpoint whose weights are a step behind its optimizer and state (by the manifest, and by step stamps without it)', async () => {
  const out = tmpDir();
  const t = new Trainer({ bundle: bundle(), train: corpus.train, config, outDir: out });
  let stepTwo: Buffer | undefined;
  (t as unknown as { o: { events: object } }).o.events = { onCheckpoint: (s: number) => { if (s === 2) stepTwo = fs.readFileSync(path.join(out, 'model.safetensors')); } };
  await t.run();
  await t.release();
  fs.writeFileSync(path.join(out, 'model.safetensors'), stepTwo!);
  assert.throws(() => Trainer.resume(out, { train: corpus.train }, undefined, { maxSteps: 6 }), /model\.safetensors does not match manifest\.json/);
  fs.rmSync(path.join(out, 'manifest.json'));
  assert.throws(() => Trainer.resume(out, { train: corpus.train }, undefined, { maxSteps: 6 }), /model\.safetensors is from step 2, but trainer_state\.json says 4/);
  assert.ok(!fs.existsSync(path.join(out, LOCK_FILE)), 'a refused resume releases the lock');
});
