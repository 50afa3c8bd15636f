/**
 * A run moves between the engines at any checkpoint and back: inkwell 20
 * steps → PyTorch 20 (torchrun, 2 ranks) → inkwell 20 equals 60 steps in
 * inkwell alone, and in PyTorch alone. An LSTM over sequential lanes, so the
 * carried recurrent state crosses engines (and ranks) too, and a corpus small
 * enough that the data wraps into a second epoch (state reset, new epoch's
 * order) inside the PyTorch leg; and the result decodes greedily to the same
 * ids in both engines.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { loadModel } from '../../src/io/model-dir.js';
import { findTorchPython, TORCH_SCRIPT } from '../../src/scale/torch-run.js';
import { runCli } from '../helpers/run-cli.js';
import { TINY_LSTM, fork, freePort, losses, makeRun, noTorch, trainInkwell, trainTorch } from './fixtures.js';

test('inkwell 20 → PyTorch 20 → inkwell 20 steps equals 60 steps in either engine (within 1e-4)', { skip: noTorch }, async (t) => {
  const start = makeRun(TINY_LSTM, { maxSteps: 60, sampling: 'sequential', contextLength: 8, evalInterval: 20 }, 40);
  const [moved, alone, torchAlone] = [fork(start), fork(start), fork(start)];
  const state = (dir: string) => JSON.parse(fs.readFileSync(path.join(dir, 'trainer_state.json'), 'utf8')) as { data: { epoch: number } };

  await Promise.all([trainInkwell(moved, 20), trainInkwell(alone, 60), trainTorch(torchAlone, 60)]);
  assert.equal(state(moved).data.epoch, 0);
  // The PyTorch leg on two DDP ranks: each carries its lanes' state, gathered into one checkpoint.
  await trainTorch(moved, 40, { nprocPerNode: 2, masterAddr: '127.0.0.1', masterPort: await freePort() });
  assert.ok(state(moved).data.epoch >= 1, 'the PyTorch leg crossed into a new epoch');
  await trainInkwell(moved, 60);

  const [a, b, c] = [losses(moved), losses(alone), losses(torchAlone)];
  assert.equal(a.size, 60);
  t.diagnostic(`round trip vs inkwell alone, 60 steps: max |Δloss| ${Math.max(...[...b].map(([s, l]) => Math.abs(a.get(s)! - l))).toExponential(2)}`);
  for (const [step, loss] of b) assert.ok(Math.abs(a.get(step)! - loss) < 1e-4, `step ${step}: ${a.get(step)} after the round trip, ${loss} in inkwell alone`);
  t.diagnostic(`round trip vs PyTorch alone, 60 steps: max |Δloss| ${Math.max(...[...c].map(([s, l]) => Math.abs(a.get(s)! - l))).toExponential(2)}`);
  for (const [step, loss] of c) assert.ok(Math.abs(a.get(step)! - loss) < 1e-4, `step ${step}: ${a.get(step)} after the round trip, ${loss} in PyTorch alone`);
  assert.ok(b.get(60)! < b.get(1)! - 0.1, `the run learned: ${b.get(1)} → ${b.get(60)}`);

  // The LSTM's greedy continuation, inkwell's decoder (carried state) against PyTorch's nn.LSTM.
  const gen = await runCli(['generate', '--model', moved, '--prompt', 'a dog ', '--greedy', '--max-new-tokens', '15', '--json', '--threads', '1']);
  assert.equal(gen.code, 0, gen.stderr);
  const ids = loadModel(moved).tokenizer.encode('a dog ');
  const py = spawnSync(findTorchPython(), [path.join(moved, 'torch', TORCH_SCRIPT), 'generate', '--model', moved, '--ids', ids.join(','), '--max-new-tokens', '15'], { encoding: 'utf8' });
  assert.equal(py.status, 0, py.stderr);
  assert.deepEqual((JSON.parse(gen.stdout) as { tokens: number[] }).tokens, JSON.parse(py.stdout) as number[]);
});
