/**
 * DDP: torchrun with two processes (gloo, CPU, loopback) trains a GPT whose
 * global batch each step is the one inkwell draws, split between the ranks.
 * Its curve matches one process over the same global batch; its checkpoint
 * resumes in `inkwell train --resume` and continues that curve; and inkwell's
 * greedy decoding of it equals PyTorch's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { loadModel } from '../../src/io/model-dir.js';
import { findTorchPython, TORCH_SCRIPT } from '../../src/scale/torch-run.js';
import { runCli } from '../helpers/run-cli.js';
import { TINY_GPT, fork, freePort, losses, makeRun, noTorch, trainTorch } from './fixtures.js';

test('torchrun --nproc_per_node 2 matches one process, resumes in inkwell, and decodes as PyTorch does', { skip: noTorch }, async (t) => {
  const start = makeRun(TINY_GPT, { maxSteps: 30, evalInterval: 15 });
  const [ddp, single] = [fork(start), fork(start)];
  const port = await freePort();
  // The reference runs 40 steps in one process; the DDP run stops at 30 and inkwell takes it to 40.
  const [out] = await Promise.all([trainTorch(ddp, 30, { nprocPerNode: 2, masterAddr: '127.0.0.1', masterPort: port }), trainTorch(single, 40)]);
  assert.match(out, /step 30\/30/);

  const [two, one] = [losses(ddp), losses(single)];
  assert.equal(two.size, 30);
  const maxDiff = (a: Map<number, number>, b: Map<number, number>, from: number, to: number) => Math.max(...[...a].filter(([s]) => s >= from && s <= to).map(([s, l]) => Math.abs(l - b.get(s)!)));
  t.diagnostic(`2 ranks vs 1 process, steps 1-30: max |Δloss| ${maxDiff(two, one, 1, 30).toExponential(2)}`);
  for (const [step, loss] of two) assert.ok(Math.abs(one.get(step)! - loss) < 1e-3, `step ${step}: ${loss} on 2 ranks, ${one.get(step)} on 1`);
  assert.ok(two.get(30)! < two.get(1)! - 0.3, `the DDP run learned: ${two.get(1)} → ${two.get(30)}`);

  // inkwell's greedy continuation of the DDP checkpoint, token for token PyTorch's.
  const prompt = 'the cat ';
  const gen = await runCli(['generate', '--model', ddp, '--prompt', prompt, '--greedy', '--max-new-tokens', '20', '--json', '--threads', '1']);
  assert.equal(gen.code, 0, gen.stderr);
  const ours = (JSON.parse(gen.stdout) as { tokens: number[] }).tokens;
  const ids = loadModel(ddp).tokenizer.encode(prompt);
  const py = spawnSync(findTorchPython(), [path.join(ddp, 'torch', TORCH_SCRIPT), 'generate', '--model', ddp, '--ids', ids.join(','), '--max-new-tokens', '20'], { encoding: 'utf8' });
  assert.equal(py.status, 0, py.stderr);
  assert.equal(ours.length, 20);
  assert.deepEqual(ours, JSON.parse(py.stdout) as number[]);

  const resumed = await runCli(['train', '--resume', ddp, '--steps', '40', '--threads', '1']);
  assert.equal(resumed.code, 0, resumed.stderr);
  const after = losses(ddp);
  assert.equal(after.size, 40);
  t.diagnostic(`inkwell resuming the DDP checkpoint vs PyTorch alone, steps 31-40: max |Δloss| ${maxDiff(after, one, 31, 40).toExponential(2)}`);
  for (let step = 31; step <= 40; step++) {
    assert.ok(Math.abs(after.get(step)! - one.get(step)!) < 1e-3, `step ${step}: inkwell after DDP ${after.get(step)}, PyTorch alone ${one.get(step)}`);
  }
});
