import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { readCorpus } from '../../src/corpus/corpus.js';
import { prepareTokenCache } from '../../src/dataset/token-cache.js';
import { evaluateModelDir } from '../../src/eval/evaluate.js';
import { exportModel } from '../../src/export/index.js';
import { loadModel } from '../../src/io/model-dir.js';
import { runCli } from '../helpers/run-cli.js';
import { tinyRun } from '../helpers/tiny-run.js';
import { bpeGpt, PROBE } from './fixtures.js';

const gpt = await bpeGpt();
const root = path.dirname(gpt.dir);

/** The card's YAML front matter: one `key: value` per line, each value JSON (YAML's flow style). */
function frontMatter(card: string): Record<string, unknown> {
  const m = /^---\n([\s\S]*?)\n---\n/.exec(card);
  assert.ok(m, 'front matter');
  return Object.fromEntries(m[1]!.split('\n').map((line) => {
    const i = line.indexOf(': ');
    return [line.slice(0, i), JSON.parse(line.slice(i + 2))];
  }));
}

test('--format hf: only the model files, a model card with Hub metadata, the training run and eval results, and a loss-curve PNG', async () => {
  const report = await evaluateModelDir(gpt.dir, { text: { source: 'probe text', encode: (t) => Int32Array.from(t.encode(PROBE.repeat(3))) }, comparison: false });
  // The run's token cache, as `inkwell train` leaves it in data/.
  const corpus = path.join(root, 'corpus');
  fs.mkdirSync(corpus);
  fs.writeFileSync(path.join(corpus, 'grammar.txt'), PROBE.repeat(20));
  const cache = prepareTokenCache(readCorpus(corpus), gpt.bundle.tokenizer, path.join(gpt.dir, 'data'), { valFraction: 0.25 });
  const evalFile = path.join(root, 'eval.json');
  fs.writeFileSync(evalFile, JSON.stringify(report));
  const out = path.join(root, 'hf');
  const r = await runCli(['export', '--model', gpt.dir, '--format', 'hf', '--out', out, '--license', 'mit', '--dataset', 'synthetic-grammar', '--eval', evalFile]);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(fs.existsSync(path.join(gpt.dir, 'optimizer.safetensors')) && fs.existsSync(path.join(gpt.dir, 'trainer_state.json')), 'the run has training state');
  assert.deepEqual(fs.readdirSync(out).sort(), ['README.md', 'config.json', 'generation_config.json', 'loss_curve.png', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']);

  const reloaded = loadModel(out);
  for (const [name, w] of gpt.bundle.weights) assert.deepEqual(reloaded.weights.get(name), w, name);
  assert.deepEqual(reloaded.metadata, { format: 'pt' }, 'no training step in the weights file');
  assert.deepEqual([...fs.readFileSync(path.join(out, 'loss_curve.png')).subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

  const card = fs.readFileSync(path.join(out, 'README.md'), 'utf8');
  const meta = frontMatter(card);
  assert.equal(meta.library_name, 'transformers');
  assert.equal(meta.license, 'mit');
  assert.deepEqual(meta.datasets, ['synthetic-grammar']);
  assert.deepEqual(meta.metrics, ['perplexity']);
  assert.ok((meta.tags as string[]).includes('inkwell') && (meta.tags as string[]).includes('gpt2'));
  const metrics = (meta['model-index'] as Array<{ results: Array<{ metrics: Array<{ type: string; value: number }> }> }>)[0]!.results[0]!.metrics;
  assert.equal(metrics.find((x) => x.type === 'perplexity')!.value, Number(report.scores[0]!.perplexity.toFixed(4)));

  const records = fs.readFileSync(path.join(gpt.dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { loss?: number; val_loss?: number });
  const lastLoss = records.filter((x) => x.loss !== undefined).at(-1)!.loss!;
  assert.match(card, /\| steps \| 60 \|/);
  assert.match(card, /\| tokens seen \| 15,360 \|/, '60 steps × 8 × 32 tokens');
  assert.match(card, /\| wall time \| [\d.]+ min \|/);
  assert.ok(card.includes(`| final training loss | ${lastLoss.toFixed(4)} |`));
  assert.match(card, /\| layers × heads × width \| 2 × 2 × 64 \|/);
  assert.ok(card.includes(`| ${report.scores[0]!.name} | ${report.scores[0]!.loss.toFixed(4)} |`), 'the eval table');
  assert.ok(card.includes('![Training and validation loss](loss_curve.png)'));
  assert.ok(card.includes(`Token cache: ${cache.splits.train.tokens.toLocaleString('en-US')} training and ${cache.splits.val.tokens.toLocaleString('en-US')} validation tokens from 1 document (grammar).`));
});

test('--format hf of an untrained LSTM run: no token cache or best/ copied, a PyTorch card that says there is no training record', async () => {
  const lstm = tinyRun('lstm');
  assert.ok(fs.existsSync(path.join(lstm.dir, 'data')) && fs.existsSync(path.join(lstm.dir, 'best')));
  const out = path.join(path.dirname(lstm.dir), 'hf');
  await exportModel(lstm.dir, { format: 'hf', out });
  assert.deepEqual(fs.readdirSync(out).sort(), ['README.md', 'config.json', 'generation_config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']);
  const card = fs.readFileSync(path.join(out, 'README.md'), 'utf8');
  assert.equal(frontMatter(card).library_name, 'pytorch');
  assert.equal(frontMatter(card).license, 'other');
  assert.match(card, /No training record \(metrics.jsonl\)/);
  assert.match(card, /\| layers × hidden \| 2 × 16 \|/);
});
