/** Regression tests for issue 15's hostile inputs: strict flags with bounds, and loaders that refuse what they cannot trust. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { loadModel, saveModel } from '../../src/io/model-dir.js';
import { readSafetensors, writeSafetensors } from '../../src/io/safetensors.js';
import { modelFromConfigJson } from '../../src/models/registry.js';
import { trainWordLevel } from '../../src/tokenizers/word-level.js';
import { InkwellError } from '../../src/utils/errors.js';
import { assertCliFailures, runCli } from '../helpers/run-cli.js';
import { tempDir } from '../helpers/books.js';
import { syntheticText } from '../helpers/corpus.js';
import { tinyRun } from '../helpers/tiny-run.js';

const gptConfig = { model_type: 'gpt2', vocab_size: 10, n_positions: 8, n_embd: 8, n_layer: 1, n_head: 2 };

test('numeric flags are parsed whole, finite and bounded, naming the flag', async () => {
  const { dir } = tinyRun('gpt');
  await assertCliFailures([
    [['train', '--preset', 'char-gpt', '--lr', '1e999', '--print-spec'], /option '--lr <x>' argument '1e999' is invalid/],
    [['train', '--preset', 'char-gpt', '--lr', '5abc', '--print-spec'], /option '--lr <x>' argument '5abc' is invalid/],
    [['train', '--preset', 'char-gpt', '--threads', '10000', '--print-spec'], /option '--threads <n>' argument '10000' is invalid.*cores/],
    [['train', '--preset', 'char-gpt', '--context', '1000000000', '--print-spec'], /option '--context <n>' argument '1000000000' is invalid/],
    [['plot', dir, '--width', '1e6'], /option '--width <px>' argument '1e6' is invalid/],
    [['generate', '--model', dir, '--prompt', 'a', '--num-samples', '1e6'], /option '--num-samples <n>' argument '1e6' is invalid/],
    [['generate', '--model', dir, '--prompt', 'a', '--max-new-tokens', '1e12'], /option '--max-new-tokens <n>' argument '1e12' is invalid/],
    [['eval', '--model', dir, '--passages', '1000000'], /option '--passages <n>' argument '1000000' is invalid/],
    [['finetune', '--from', dir, '--out', path.join(dir, 'x'), '--lora', '--lora-r', '1000000'], /option '--lora-r <n>' argument '1000000' is invalid/],
  ]);
});

test('a LoRA rank above the model width is refused where the model is known', async () => {
  const { LoraModel } = await import('../../src/models/lora.js');
  const { bundle } = tinyRun('gpt');
  assert.throws(() => new LoraModel(bundle.model, { r: 1000, alpha: 16, targetModules: ['c_attn'] }), /LoRA rank 1000 .*exceeds the model's width of 16/);
});

test('config.json: model_type never reaches a prototype, fields are range-checked naming the file', () => {
  for (const t of ['__proto__', 'constructor', 'toString']) {
    assert.throws(() => modelFromConfigJson({ model_type: t }, 'c.json'), (e) => e instanceof InkwellError && /c\.json: model_type .* is not supported/.test(e.message));
  }
  assert.throws(() => modelFromConfigJson({ ...gptConfig, layer_norm_epsilon: -1 }, 'c.json'), /c\.json: 'layer_norm_epsilon' must be a finite number in \(0, 1\], got -1/);
  assert.throws(() => modelFromConfigJson({ ...gptConfig, n_head: 3 }, 'c.json'), /c\.json: 'n_head' \(3\) must divide 'n_embd' \(8\)/);
  assert.throws(() => modelFromConfigJson({ ...gptConfig, vocab_size: 1e12 }, 'c.json'), /c\.json: 'vocab_size' must be an integer in \[1, /);
  assert.throws(() => modelFromConfigJson({ ...gptConfig, resid_pdrop: 1 }, 'c.json'), /'resid_pdrop' must be a finite number in \[0, 1\)/);
});

test('loadModel refuses a transposed tensor, NaN weights and a tokenizer smaller than the vocabulary', () => {
  const { dir, bundle } = tinyRun('gpt');
  const file = path.join(dir, 'model.safetensors');
  const original = fs.readFileSync(file);
  const tensors = readSafetensors(file).tensors;
  const [name, t] = [...tensors].find(([, x]) => x.shape.length === 2 && x.shape[0] !== x.shape[1])!;
  // A hand-made directory (no manifest.json: inkwell's own would refuse the changed file before any shape check).
  fs.rmSync(path.join(dir, 'manifest.json'), { force: true });
  writeSafetensors(file, new Map(tensors).set(name, { shape: [t.shape[1]!, t.shape[0]!], data: t.data }));
  assert.throws(() => loadModel(dir), new RegExp(`tensor '${name.replace(/\./g, '\\.')}' has shape \\[${t.shape[1]},${t.shape[0]}\\], expected shape \\[${t.shape[0]},${t.shape[1]}\\]`));

  const poisoned = new Float32Array(t.data);
  poisoned[3] = NaN;
  writeSafetensors(file, new Map(tensors).set(name, { shape: t.shape, data: poisoned }));
  assert.throws(() => loadModel(dir), new RegExp(`tensor '${name.replace(/\./g, '\\.')}' holds NaN at index 3`));

  fs.writeFileSync(file, original);
  const small = trainWordLevel(['ab'], 'char', { specialTokens: [] });
  saveModel(dir, { ...bundle, tokenizer: small });
  // saveModel wrote a config.json of the model's vocabulary beside the smaller tokenizer.
  assert.throws(() => loadModel(dir), /the tokenizer has \d+ tokens but the model's vocabulary .* has \d+/);
});

test('eval and generate on a NaN model fail with one line', async () => {
  const { dir, bundle } = tinyRun('gpt');
  const weights = new Map(bundle.weights);
  weights.set('transformer.wte.weight', new Float32Array(weights.get('transformer.wte.weight')!).fill(NaN));
  saveModel(dir, { ...bundle, weights });
  await assertCliFailures([
    [['eval', '--model', dir, '--passages', '0'], /tensor 'transformer\.wte\.weight' holds NaN .*not all finite/],
    [['generate', '--model', dir, '--prompt', 'a', '--greedy'], /tensor 'transformer\.wte\.weight' holds NaN .*not all finite/],
  ]);
});

test('a --config without a schedule names the field', async () => {
  const { dir } = tinyRun('gpt');
  const cfg = path.join(dir, 'spec.json');
  fs.writeFileSync(cfg, JSON.stringify({ tokenizer: { type: 'char' }, model: { type: 'gpt', nPositions: 8, nEmbd: 8, nLayer: 1, nHead: 2, bias: true, dropout: 0, layerNormEps: 1e-5 }, train: { batchSize: 2, contextLength: 8, maxSteps: 1, optimizer: { name: 'adamw' }, seed: 1 } }));
  await assertCliFailures([[['train', '--config', cfg, '--print-spec'], /--config .*spec\.json: 'train\.schedule' is missing/]]);
});

test('a checkpoint missing optimizer.safetensors, and finetune --resume misuse, fail in one line naming the file or flag', async () => {
  const root = tempDir();
  fs.writeFileSync(path.join(root, 'a.txt'), syntheticText(300, 1));
  fs.writeFileSync(path.join(root, 'tiny.json'), JSON.stringify({ model: { nLayer: 1, nEmbd: 16, nHead: 2, nPositions: 16 }, train: { batchSize: 4, contextLength: 16, maxSteps: 2, evalInterval: 2, evalBatches: 1, checkpointInterval: 1, logInterval: 1, threads: 1 } }));
  const run = path.join(root, 'run');
  const made = await runCli(['train', '--preset', 'char-gpt', '--config', path.join(root, 'tiny.json'), '--corpus', path.join(root, 'a.txt'), '--out', run]);
  assert.equal(made.code, 0, made.stderr);
  fs.rmSync(path.join(run, 'optimizer.safetensors'));
  // One at a time: each takes the run's lock (run side by side, all but one would be told the run is in use).
  for (const c of [
    [['train', '--resume', run, '--steps', '4'], /optimizer\.safetensors is missing, but manifest\.json lists it/],
    [['finetune', '--resume', run], /no fine-tuning run there \(missing finetune_run\.json\)/],
    [['finetune', '--resume', run, '--lr', '0.1'], /--resume continues a run with its own settings; --lr cannot change them/],
    [['finetune', '--corpus', path.join(root, 'a.txt'), '--out', path.join(root, 'ft')], /--from is required/],
  ] as Array<[string[], RegExp]>) await assertCliFailures([c]);
});
