/** A checkpoint that hits a full disk (a small tmpfs): one clear line, the previous checkpoint intact and resumable, no temp files. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { loadModel } from '../../src/io/model-dir.js';
import { verifyManifest } from '../../src/io/transaction.js';
import { Gpt } from '../../src/models/gpt.js';
import { initWeights } from '../../src/nn/params.js';
import { checkpointInfo, Trainer, type TrainConfig } from '../../src/train/trainer.js';
import { tinyCorpus, tmpDir } from '../helpers/corpus.js';

/** Why this test cannot run here, or undefined when a tmpfs can be mounted. */
function noTmpfs(): string | undefined {
  if (process.platform !== 'linux') return 'tmpfs mounts need Linux';
  if (process.getuid?.() !== 0) return 'mounting a tmpfs needs root';
  const probe = tmpDir('inkwell-tmpfs-probe-');
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe]);
  if (r.status !== 0) return `mount -t tmpfs failed: ${String(r.stderr).trim()}`;
  spawnSync('umount', [probe]);
  return undefined;
}

const skip = noTmpfs();

test('a full disk during a checkpoint: one line naming the run, the last checkpoint intact, nothing left behind', { skip }, async () => {
  const mnt = tmpDir('inkwell-tmpfs-');
  assert.equal(spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=3m', 'tmpfs', mnt]).status, 0);
  try {
    const corpus = tinyCorpus(200);
    const model = new Gpt({ vocabSize: corpus.tokenizer.vocabSize, nPositions: 16, nEmbd: 16, nLayer: 1, nHead: 2, bias: true, dropout: 0, layerNormEps: 1e-5 });
    const out = path.join(mnt, 'run');
    const config: TrainConfig = { batchSize: 4, contextLength: 16, maxSteps: 6, optimizer: { name: 'adamw' }, schedule: { lr: 1e-3 }, checkpointInterval: 1, logInterval: 1, seed: 3, threads: 1 };
    // After the first checkpoint the disk is filled, so the next one cannot be written.
    const fill = () => {
      const fd = fs.openSync(path.join(mnt, 'filler'), 'w');
      const chunk = Buffer.alloc(4096, 1);
      try {
        for (;;) fs.writeSync(fd, chunk);
      } catch (err) {
        assert.equal((err as NodeJS.ErrnoException).code, 'ENOSPC');
      } finally {
        fs.closeSync(fd);
      }
    };
    const t = new Trainer({ bundle: { model, weights: initWeights(model.specs, 1), tokenizer: corpus.tokenizer }, train: corpus.train, config, outDir: out, events: { onCheckpoint: (s) => s === 1 && fill() } });
    await assert.rejects(t.run(), (e: Error) => e.name === 'InkwellError' && !e.message.includes('\n') && e.message.includes(out) && /ENOSPC/.test(e.message));
    await t.release();

    assert.deepEqual(fs.readdirSync(out).filter((f) => /\.(pending|tmp)$/.test(f) || f === '.commit' || f === '.lock'), [], 'no pending, temp, marker or lock file');
    assert.equal(checkpointInfo(out).step, 1);
    verifyManifest(out);
    assert.ok(loadModel(out).weights.size > 0);
    fs.rmSync(path.join(mnt, 'filler'));
    const resumed = Trainer.resume(out, { train: corpus.train });
    assert.equal(resumed.currentStep, 1);
    await resumed.run();
    await resumed.release();
    assert.equal(checkpointInfo(out).step, 6);
  } finally {
    spawnSync('umount', [mnt]);
  }
});
