/**
 * The PyTorch run folder and its launcher: the ported RNG and batcher draw
 * inkwell's windows exactly, torchrun's flags pass through, and what cannot
 * work fails with one clear line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { WindowBatcher } from '../../src/dataset/batches.js';
import { openTokenCacheSplit } from '../../src/dataset/token-cache.js';
import { findTorchPython, torchrunArgs, torchrunCommand, writeTorchRun, TORCH_SPEC } from '../../src/scale/torch-run.js';
import { InkwellError } from '../../src/utils/errors.js';
import { assertCliFailures, runCli } from '../helpers/run-cli.js';
import { syntheticText, tmpDir } from '../helpers/corpus.js';
import { TINY_GPT, TINY_LSTM, makeRun, noTorch } from './fixtures.js';

for (const [mode, model] of [['random', TINY_GPT], ['sequential', TINY_LSTM]] as const) {
  test(`the PyTorch trainer draws inkwell's ${mode} windows, across epochs`, { skip: noTorch }, () => {
    const run = makeRun(model, { sampling: mode, batchSize: 3, contextLength: 7, seed: 4242 }, 30);
    const folder = writeTorchRun(run, path.join(run, 'torch'));
    const train = openTokenCacheSplit(path.join(run, 'data'), 'train');
    const ours = new WindowBatcher(train, { batchSize: 3, contextLength: 7, mode, seed: 4242 });
    const count = ours.batchesPerEpoch + 5;
    const py = spawnSync(findTorchPython(), [folder.script, 'batches', folder.spec, '--count', String(count)], { encoding: 'utf8' });
    assert.equal(py.status, 0, py.stderr);
    const theirs = py.stdout.trim().split('\n').map((l) => JSON.parse(l) as number[]);
    assert.equal(theirs.length, count);
    // Each row's first tokens identify its start: compare the windows themselves, read from the same cache.
    const row = new Int32Array(8);
    for (const [i, starts] of theirs.entries()) {
      const b = ours.next();
      starts.forEach((s, r) => {
        train.read(s, 8, row, 0);
        assert.deepEqual([...row], [...b.windows.subarray(r * 8, (r + 1) * 8)], `batch ${i} row ${r}`);
      });
    }
  });
}

test('torchrun flags: one process runs the trainer itself; several, standalone or with the rendezvous given', () => {
  const f = { script: 's.py', spec: 'r.json' };
  assert.deepEqual(torchrunArgs(f), ['s.py', 'train', 'r.json']);
  assert.deepEqual(torchrunArgs(f, { nprocPerNode: 2 }), ['s.py', 'launch', '--nproc_per_node=2', '--nnodes=1', '--standalone', 's.py', 'train', 'r.json']);
  assert.deepEqual(torchrunArgs(f, { nprocPerNode: 8, nnodes: '2', nodeRank: 1, rdzvEndpoint: 'head:29400', rdzvId: 'job7' }), [
    's.py', 'launch', '--nproc_per_node=8', '--nnodes=2', '--node_rank=1', '--rdzv_backend=c10d', '--rdzv_endpoint=head:29400', '--rdzv_id=job7', 's.py', 'train', 'r.json',
  ]);
  assert.deepEqual(torchrunArgs(f, { nprocPerNode: 2, masterAddr: '127.0.0.1', masterPort: 29511 }), [
    's.py', 'launch', '--nproc_per_node=2', '--nnodes=1', '--master_addr=127.0.0.1', '--master_port=29511', 's.py', 'train', 'r.json',
  ]);
});

test('the printed torchrun command is a stock torchrun call on the folder', () => {
  const f = { script: 'run/torch/inkwell_torch.py', spec: 'run/torch/torch_run.json' };
  assert.equal(torchrunCommand(f), 'torchrun --nproc_per_node=1 --standalone run/torch/inkwell_torch.py train run/torch/torch_run.json');
  assert.equal(
    torchrunCommand(f, { nprocPerNode: 8, nnodes: '2', nodeRank: 0, rdzvEndpoint: 'head node:29400', rdzvId: 'j' }),
    "torchrun --nproc_per_node=8 --nnodes=2 --node_rank=0 --rdzv_backend=c10d '--rdzv_endpoint=head node:29400' --rdzv_id=j run/torch/inkwell_torch.py train run/torch/torch_run.json",
  );
});

test('a Python without PyTorch is refused with one line naming it', () => {
  const saved = process.env.INKWELL_PYTHON;
  process.env.INKWELL_PYTHON = '/nonexistent/python3';
  try {
    assert.throws(() => findTorchPython(), (e: unknown) => e instanceof InkwellError && /INKWELL_PYTHON=\/nonexistent\/python3 cannot import torch/.test(e.message));
  } finally {
    if (saved === undefined) delete process.env.INKWELL_PYTHON;
    else process.env.INKWELL_PYTHON = saved;
  }
});

test('writeTorchRun refuses a directory that is not a run, and writes a spec with the overrides', { skip: noTorch }, () => {
  const empty = tmpDir();
  assert.throws(() => writeTorchRun(empty, path.join(empty, 't')), /is not an inkwell run directory \(missing config\.json\)/);
  const run = makeRun(TINY_GPT, {}, 30);
  const folder = writeTorchRun(run, path.join(run, 'torch'), { overrides: { maxSteps: 77 } });
  const spec = JSON.parse(fs.readFileSync(path.join(run, 'torch', TORCH_SPEC), 'utf8')) as { train: { maxSteps: number; seed: number }; run_dir: string };
  assert.equal(spec.train.maxSteps, 77);
  assert.equal(spec.train.seed, 11);
  assert.equal(path.resolve(run, 'torch', spec.run_dir), path.resolve(run), 'run_dir is relative to the folder');
  assert.ok(fs.existsSync(folder.script));
  fs.rmSync(path.join(run, 'data', 'meta.json'));
  assert.throws(() => writeTorchRun(run, path.join(run, 'torch')), /no token cache in .*data/);
});

test('inkwell export --format torch-run writes the folder whole elsewhere, paths relative to where it lands', { skip: noTorch }, async () => {
  const run = makeRun(TINY_GPT, {}, 30);
  const out = path.join(tmpDir(), 'cluster', 'job');
  const r = await runCli(['export', '--model', run, '--format', 'torch-run', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(fs.readdirSync(out).sort(), ['inkwell_torch.py', TORCH_SPEC].sort());
  const spec = JSON.parse(fs.readFileSync(path.join(out, TORCH_SPEC), 'utf8')) as { run_dir: string; data_dir: string };
  assert.equal(path.resolve(out, spec.run_dir), path.resolve(run));
  assert.equal(path.resolve(out, spec.data_dir), path.resolve(run, 'data'));
  const again = await runCli(['export', '--model', run, '--format', 'torch-run', '--out', out]);
  assert.notEqual(again.code, 0);
  assert.match(again.stderr, /--force/);
});

test('inkwell train --engine torch: a new run trained by PyTorch, resumable; bad flags fail cleanly', { skip: noTorch }, async () => {
  const dir = tmpDir();
  fs.writeFileSync(path.join(dir, 'a.txt'), syntheticText(200, 3));
  const config = path.join(dir, 'spec.json');
  fs.writeFileSync(config, JSON.stringify({ tokenizer: { type: 'char' }, model: TINY_GPT, train: { batchSize: 2, contextLength: 8, maxSteps: 3, optimizer: { name: 'adamw' }, schedule: { lr: 1e-3 }, logInterval: 1, seed: 1 } }));
  const run = path.join(dir, 'run');
  const r = await runCli(['train', '--config', config, '--corpus', path.join(dir, 'a.txt'), '--out', run, '--engine', 'torch']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /trained with PyTorch/);
  assert.equal((JSON.parse(fs.readFileSync(path.join(run, 'trainer_state.json'), 'utf8')) as { step: number }).step, 3);
  const dry = await runCli(['train', '--resume', run, '--engine', 'torch', '--steps', '5', '--no-launch', '--nproc-per-node', '4']);
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, /torchrun --nproc_per_node=4 --nnodes=1 --standalone \S+inkwell_torch\.py train \S+torch_run\.json/);
  assert.equal((JSON.parse(fs.readFileSync(path.join(run, 'torch', TORCH_SPEC), 'utf8')) as { train: { maxSteps: number } }).train.maxSteps, 5);
  await assertCliFailures([
    [['train', '--resume', run, '--engine', 'torch'], /already at step 3 of 3/],
    [['train', '--resume', run, '--engine', 'jax'], /--engine must be inkwell or torch, got 'jax'/],
    [['train', '--resume', run, '--nproc-per-node', '2'], /--nproc-per-node needs --engine torch/],
    [['train', '--resume', run, '--no-launch'], /--no-launch needs --engine torch/],
  ]);
});
