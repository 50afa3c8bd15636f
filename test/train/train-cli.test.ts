/** `inkwell train` end to end: a preset on a small corpus, resume to more steps, and clear errors for bad input. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { assertCliFailures, runCli } from '../helpers/run-cli.js';
import { syntheticText, tmpDir } from '../helpers/corpus.js';

test('train a preset, resume it to more steps, and load the result for generation', async () => {
  const dir = tmpDir();
  const corpus = path.join(dir, 'corpus.txt');
  fs.writeFileSync(corpus, syntheticText(400, 9));
  const out = path.join(dir, 'run');
  const spec = path.join(dir, 'small.json');
  fs.writeFileSync(spec, JSON.stringify({ model: { nLayer: 1, nEmbd: 32, nHead: 2 }, train: { batchSize: 4, evalBatches: 2, checkpointInterval: 2 } }));
  const first = await runCli(['train', '--preset', 'char-gpt', '--config', spec, '--corpus', corpus, '--out', out, '--steps', '4', '--context', '16', '--threads', '1']);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /trained 4 steps .* best val loss/);
  assert.equal(JSON.parse(fs.readFileSync(path.join(out, 'trainer_state.json'), 'utf8')).step, 4);

  const resumed = await runCli(['train', '--resume', out, '--steps', '6']);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stderr, /resuming .* at step 4/);
  assert.equal(JSON.parse(fs.readFileSync(path.join(out, 'trainer_state.json'), 'utf8')).step, 6);
  const steps = fs.readFileSync(path.join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((m) => 'loss' in m).map((m) => m.step);
  assert.deepEqual(steps, [4, 6]);

  const gen = await runCli(['generate', '--model', path.join(out, 'best'), '--prompt', 'the cat', '--max-new-tokens', '8', '--seed', '1', '--json']);
  assert.equal(gen.code, 0, gen.stderr);
  assert.equal(JSON.parse(gen.stdout.trim().split('\n')[0]!).tokens.length, 8);

  await assertCliFailures([
    [['train', '--resume', out, '--steps', '6'], /already at step 6 of 6/],
    [['train', '--resume', path.join(dir, 'missing')], /no checkpoint to resume in .*missing/],
    [['train', '--preset', 'nope', '--out', out], /unknown preset 'nope'/],
    [['train', '--preset', 'char-gpt', '--corpus', corpus], /--out is required/],
    [['train', '--preset', 'char-gpt', '--corpus', path.join(dir, 'absent.txt'), '--out', path.join(dir, 'x')], /absent\.txt/],
    [['train', '--config', path.join(dir, 'nofile.json'), '--out', path.join(dir, 'y')], /cannot read --config .*nofile\.json/],
  ]);
});
