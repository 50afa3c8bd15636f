import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { writeExportDir } from '../../src/export/out-dir.js';
import { assertCliFailures, runCli } from '../helpers/run-cli.js';
import { tempDir } from '../helpers/books.js';
import { charGpt, charRnn } from './fixtures.js';

const lstm = charRnn('lstm');
const root = path.dirname(lstm.dir);

test('inkwell export writes the folder and lists its files; a non-empty --out is refused unless --force, which replaces it whole', async () => {
  const help = await runCli(['--help']);
  assert.match(help.stdout, /export\s/);
  const out = path.join(root, 'onnx');
  const first = await runCli(['export', '--model', lstm.dir, '--format', 'onnx', '--out', out]);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /^model\.onnx\t\d+$/m);
  assert.ok(fs.existsSync(path.join(out, 'inference.json')));

  fs.writeFileSync(path.join(out, 'stray.txt'), 'not from the export');
  await assertCliFailures([[['export', '--model', lstm.dir, '--format', 'onnx', '--out', out], /--out .* is not empty/]]);
  assert.ok(fs.existsSync(path.join(out, 'stray.txt')), 'refused: nothing touched');
  const forced = await runCli(['export', '--model', lstm.dir, '--format', 'hf', '--out', out, '--force']);
  assert.equal(forced.code, 0, forced.stderr);
  assert.ok(!fs.existsSync(path.join(out, 'stray.txt')) && !fs.existsSync(path.join(out, 'model.onnx')), 'the old folder is gone');
  assert.ok(fs.existsSync(path.join(out, 'model.safetensors')));
  assert.deepEqual(fs.readdirSync(root).filter((f) => f.startsWith('.')), [], 'no temporary folders left');
});

test('a failed export leaves nothing half-written: no --out, no temporary folder, an old folder untouched', async () => {
  const out = path.join(root, 'failed');
  await assertCliFailures([[['export', '--model', charGpt().dir, '--format', 'gguf', '--out', out], /needs a byte-level BPE tokenizer/]]);
  assert.ok(!fs.existsSync(out));

  // A write that fails part-way (the second file cannot be created).
  const dir = tempDir();
  const target = path.join(dir, 'export');
  const bad = new Map<string, string>([['a.json', '{}'], ['../escape.json', '{}']]);
  assert.throws(() => writeExportDir(target, bad, false), /leaves the folder/);
  assert.deepEqual(fs.readdirSync(dir), []);
  fs.mkdirSync(target);
  fs.writeFileSync(path.join(target, 'keep.txt'), 'old');
  assert.throws(() => writeExportDir(target, bad, true), /leaves the folder/);
  assert.deepEqual(fs.readdirSync(dir), ['export']);
  assert.deepEqual(fs.readdirSync(target), ['keep.txt']);
});

test('bad requests fail with a message naming the flag', async () => {
  await assertCliFailures([
    [['export', '--model', lstm.dir, '--format', 'tflite', '--out', path.join(root, 'a')], /--format must be one of transformers\.js, onnx, gguf, hf, torch-run, got 'tflite'/],
    [['export', '--model', lstm.dir, '--format', 'transformers.js', '--out', path.join(root, 'b')], /--format transformers\.js exports GPT models; this is a 'lstm' model/],
    [['export', '--model', lstm.dir, '--format', 'onnx', '--dtype', 'q4', '--out', path.join(root, 'c')], /--dtype q4 is not available for this format \(choose from fp32\)/],
    [['export', '--model', lstm.dir, '--format', 'onnx', '--dtype', 'fp32,', '--out', path.join(root, 'd')], /--dtype 'fp32,' has an empty entry/],
    [['export', '--model', path.join(root, 'missing'), '--format', 'onnx', '--out', path.join(root, 'e')], /model directory .*missing does not exist/],
    [['export', '--model', lstm.dir, '--format', 'hf', '--license', 'MIT License', '--out', path.join(root, 'f')], /--license 'MIT License' is not a license id/],
    [['export', '--model', lstm.dir, '--format', 'hf', '--eval', path.join(root, 'nope.json'), '--out', path.join(root, 'g')], /--eval .*nope\.json does not exist/],
    [['export', '--model', lstm.dir, '--format', 'onnx', '--out', lstm.dir], /is the model directory itself/],
    [['export', '--model', lstm.dir, '--format', 'onnx', '--fp16', '--out', path.join(root, 'h')], /--fp16 applies to --format transformers\.js only/],
    [['export', '--model', lstm.dir, '--format', 'onnx', '--license', 'mit', '--dataset', 'x', '--out', path.join(root, 'i')], /--license, --dataset apply to --format hf only/],
  ]);
});
