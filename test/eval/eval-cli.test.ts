import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { evaluateModelDir } from '../../src/eval/evaluate.js';
import { tempDir } from '../helpers/books.js';
import { syntheticText } from '../helpers/corpus.js';
import { assertCliFailures, runCli } from '../helpers/run-cli.js';
import { tinyRun } from '../helpers/tiny-run.js';

const inkwell = (args: string[]) => runCli(['eval', ...args]);

const gpt = tinyRun('gpt', { nPositions: 16 });

test('inkwell eval on a run\'s best/ model: JSON, Markdown and chart', async () => {
  const out = tempDir();
  const md = join(out, 'report.md');
  const svg = join(out, 'eval.svg');
  const r = await inkwell(['--model', join(gpt.dir, 'best'), '--json', '--markdown', md, '--plot', svg, '--passages', '2', '--prompt-tokens', '4', '--new-tokens', '6', '--stride', '4']);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  assert.equal(report.perplexity.stride, 4);
  assert.ok(report.notes.some((n: string) => /each token scored once, and after the first window with at least \d+ tokens of context/.test(n)), report.notes.join('; '));
  assert.match(report.data.source, /validation split of .*run\/data$/);
  assert.deepEqual(report.scores.map((s: { name: string }) => s.name), ['this model', 'Kneser–Ney 3-gram', 'unigram (add-one)']);
  for (const s of report.scores) assert.ok(s.loss > 0 && s.bitsPerCharacter > 0 && Math.abs(s.perplexity - Math.exp(s.loss)) < 1e-6 * s.perplexity);
  // An untrained model is near uniform; the trigram baseline knows the grammar.
  assert.ok(report.scores[1].loss < report.scores[0].loss);
  const c = report.comparison;
  assert.deepEqual(c.decodings.map((d: { decoding: string }) => d.decoding), ['greedy', 'sampled']);
  for (const d of c.decodings) {
    assert.ok(d.bleu4 >= 0 && d.bleu4 <= 1 && d.rougeL >= 0 && d.rougeL <= 1);
    assert.equal(d.distinct.length, 3);
    assert.ok(d.memorisation.longest >= 0);
  }
  assert.equal(c.samples.length, 2);
  assert.ok(c.reference.memorisation.longest >= 1, 'held-out text shares some characters with the training text');
  const markdown = readFileSync(md, 'utf8');
  assert.match(markdown, /\| this model \| [\d.]+ \|/);
  assert.match(markdown, /## Compared with the original/);
  assert.match(readFileSync(svg, 'utf8'), /loss by position in the context window/);
});

test('inkwell eval --text on a model without a token cache: no baselines, a note, Markdown on stdout', async () => {
  const bare = join(tempDir(), 'model');
  cpSync(gpt.dir, bare, { recursive: true });
  rmSync(join(bare, 'data'), { recursive: true });
  const text = join(tempDir(), 'held-out.txt');
  writeFileSync(text, syntheticText(30, 9));
  const png = join(tempDir(), 'eval.png');
  const r = await inkwell(['--model', bare, '--text', text, '--passages', '0', '--plot', png]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /text: .*held-out\.txt/);
  assert.match(r.stdout, /no training token cache found/);
  assert.doesNotMatch(r.stdout, /Kneser–Ney/);
  assert.equal(readFileSync(png).subarray(1, 4).toString(), 'PNG');

  await assert.rejects(evaluateModelDir(bare), /no text to evaluate on/);
});

test('bad flags and files fail with a message naming them', async () => {
  const e = (...args: string[]) => ['eval', ...args];
  await assertCliFailures([
    [e('--model', join(gpt.dir, 'nope')), /model directory .*nope does not exist/],
    [e('--model', gpt.dir, '--text', join(gpt.dir, 'missing.txt')), /--text .*missing\.txt: cannot read the file/],
    [e('--model', gpt.dir, '--decoding', 'beam'), /--decoding: unknown 'beam'/],
    [e('--model', gpt.dir, '--passages', '2', '--prompt-tokens', '5000'), /too few for passages of 5064/],
  ]);
});

test('an LSTM run evaluates end to end through the library', async () => {
  const lstm = tinyRun('lstm');
  const report = await evaluateModelDir(lstm.dir, { maxTokens: 600, comparison: { passages: 2, promptTokens: 3, newTokens: 5, decodings: ['sampled'] } });
  assert.equal(report.model.type, 'lstm');
  assert.equal(report.scores.length, 3);
  assert.equal(report.comparison!.decodings.length, 1);
  assert.match(report.notes.join('\n'), /recurrent state carried/);
});

test('inkwell eval takes text outside the vocabulary, counts its <unk> tokens and prints bzip2 and xz beside the baselines', async () => {
  const base = syntheticText(30, 9);
  const text = join(tempDir(), 'pounds.txt');
  writeFileSync(text, `${base.slice(0, 20)}£${base.slice(20, 40)}§§${base.slice(40)}`);
  const r = await inkwell(['--model', join(gpt.dir, 'best'), '--text', text, '--passages', '0', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  assert.equal(report.data.unknownTokens, 3);
  assert.ok(report.notes.some((n: string) => /^3 of the [\d,]+ scored tokens \(.*%\) are <unk>/.test(n)), report.notes.join('; '));
  const tools = new Map<string, boolean>([['bzip2 -9', hasTool('bzip2')], ['xz -9e', hasTool('xz')]]);
  assert.deepEqual(report.compressors.map((c: { name: string }) => c.name), [...tools].filter(([, present]) => present).map(([name]) => name));
  for (const c of report.compressors) {
    assert.ok(Math.abs(c.bitsPerCharacter - (c.bytes * 8) / report.data.characters) < 1e-9);
    assert.match(c.tool, /^system (bzip2|xz) \d+\.\d+/);
  }
  for (const [name, present] of tools) if (!present) assert.ok(report.notes.some((n: string) => n.startsWith(`${name}:`) && /is not installed/.test(n)));
  const md = await inkwell(['--model', join(gpt.dir, 'best'), '--text', text, '--passages', '0']);
  assert.match(md.stdout, /3 unknown \(<unk>\) tokens/);
  if (tools.get('bzip2')) assert.match(md.stdout, /\| bzip2 -9 \(system bzip2 [\d.]+, [\d,]+ bytes\) \| – \| – \| – \| [\d.]+ \|/);
});

function hasTool(command: string): boolean {
  return spawnSync(command, ['--version'], { input: '' }).error === undefined;
}
