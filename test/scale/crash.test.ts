/**
 * A PyTorch run killed at any moment leaves a checkpoint inkwell resumes: the
 * Python trainer commits with inkwell's marker-and-rename transaction, so the
 * weights, optimizer slots and trainer state on disk always belong to one step,
 * and resuming in inkwell continues the curve of an uninterrupted run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { readSafetensorsHeader } from '../../src/io/safetensors.js';
import { findTorchPython, writeTorchRun } from '../../src/scale/torch-run.js';
import { checkpointInfo } from '../../src/train/trainer.js';
import { TINY_GPT, fork, losses, makeRun, noTorch, trainInkwell } from './fixtures.js';

test('a PyTorch run killed mid-run resumes in inkwell on the uninterrupted curve', { skip: noTorch }, async () => {
  const start = makeRun(TINY_GPT, { maxSteps: 400, checkpointInterval: 3, evalInterval: 0 });
  const [killed, whole] = [fork(start), fork(start)];
  const folder = writeTorchRun(killed, path.join(killed, 'torch'), { device: 'cpu' });
  const child = spawn(findTorchPython(), [folder.script, 'train', folder.spec], { stdio: ['ignore', 'ignore', 'pipe'] });
  // Killed right after its second checkpoint reports: the next steps, and perhaps a commit, are cut short.
  await new Promise<void>((resolve, reject) => {
    let seen = '';
    child.stderr!.on('data', (d: Buffer) => {
      seen += d.toString();
      if (/checkpoint at step 6 /.test(seen)) child.kill('SIGKILL');
    });
    child.on('close', (_code, signal) => (signal === 'SIGKILL' ? resolve() : reject(new Error(`the trainer was not killed: ${seen.slice(-500)}`))));
  });

  const { step } = checkpointInfo(killed); // recovers an interrupted commit first
  assert.ok(step >= 6 && step % 3 === 0, `a checkpoint step: ${step}`);
  for (const file of ['model.safetensors', 'optimizer.safetensors']) {
    assert.equal(readSafetensorsHeader(path.join(killed, file)).metadata.step, String(step), `${file} is from step ${step}`);
  }
  const target = step + 4;
  await Promise.all([trainInkwell(killed, target), trainInkwell(whole, target)]);
  const [a, b] = [losses(killed), losses(whole)];
  for (let s = 1; s <= target; s++) assert.ok(Math.abs(a.get(s)! - b.get(s)!) < 1e-4, `step ${s}: ${a.get(s)} after the kill, ${b.get(s)} uninterrupted`);
});
