import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { lineChart } from '../../src/eval/plot.js';
import { readRunCurves, smooth } from '../../src/eval/run-curves.js';
import { InkwellError } from '../../src/utils/errors.js';
import { tempDir } from '../helpers/books.js';
import { assertCliFailures, runCli } from '../helpers/run-cli.js';
import { numberOption } from '../../src/cli/options.js';

function writeRun(dir: string, scale: number): string {
  mkdirSync(dir, { recursive: true });
  const lines: string[] = [];
  for (let step = 10; step <= 100; step += 10) {
    lines.push(JSON.stringify({ step, loss: scale * (1 + 3 / step), lr: 0.001 }));
    if (step % 50 === 0) lines.push(JSON.stringify({ step, val_loss: scale * (1.2 + 3 / step), best_val_loss: 1 }));
  }
  // A resumed run repeats a step: the later record wins.
  lines.push(JSON.stringify({ step: 100, loss: scale, lr: 0.001 }));
  writeFileSync(join(dir, 'metrics.jsonl'), lines.join('\n') + '\n');
  return dir;
}

test('lineChart draws every series, escapes labels and skips unusable points', () => {
  const svg = lineChart(
    [
      { name: 'train <a&b>', points: [[0, 2], [1, 1.5], [2, Number.NaN], [3, 1.2]] },
      { name: 'val', points: [[0, 2.2], [3, 1.4]], dashed: true },
      { name: 'one point', points: [[2, 1.8]] },
    ],
    { title: 'loss', xLabel: 'step', yLabel: 'nats' },
  );
  assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.match(svg, /train &lt;a&amp;b&gt;/);
  assert.equal((svg.match(/<path /g) ?? []).length, 2);
  assert.match(svg, /stroke-dasharray/);
  assert.match(svg, /<circle /);
  assert.doesNotMatch(svg, /NaN|Infinity|undefined/);
  assert.match(lineChart([]), /no data/);
  const log = lineChart([{ name: 'x', points: [[0, 0.5], [1, 20], [2, 0]] }], { logY: true });
  assert.match(log, />1</);
  assert.match(log, />10</);
  assert.doesNotMatch(log, /NaN/);
});

test('run curves: train and validation records, last record per step, smoothing', () => {
  const run = writeRun(join(tempDir(), 'runA'), 1);
  const c = readRunCurves(run);
  assert.equal(c.name, 'runA');
  assert.equal(c.train.length, 10);
  assert.deepEqual(c.train[9], [100, 1]);
  assert.deepEqual(c.val, [[50, 1.2 + 3 / 50], [100, 1.2 + 3 / 100]]);
  assert.deepEqual(smooth([[0, 1], [1, 3], [2, 3]], 0.5), [[0, 1], [1, 2], [2, 2.5]]);
  const bad = tempDir();
  writeFileSync(join(bad, 'metrics.jsonl'), '{"step": 1, "loss": 2}\n{oops\n');
  assert.throws(() => readRunCurves(bad), (e: unknown) => e instanceof InkwellError && /metrics\.jsonl:2 is not valid JSON/.test(e.message));
  assert.throws(() => readRunCurves(tempDir()), /metrics\.jsonl does not exist/);
  assert.throws(() => readRunCurves(join(bad, 'nope')), /run directory .*nope does not exist/);
});

test('inkwell plot: several runs on one chart, as SVG and PNG', async () => {
  const root = tempDir();
  const a = writeRun(join(root, 'a', 'best'), 1);
  const b = writeRun(join(root, 'b', 'best'), 1.5);
  const out = join(root, 'only.svg');
  const [r, single] = await Promise.all([runCli(['plot', a, b, '--smooth', '0.3']), runCli(['plot', a, '--out', out, '--log-y'])]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(single.code, 0, single.stderr);
  const svg = readFileSync(join(a, 'loss.svg'), 'utf8');
  assert.match(svg, /a\/best train/, 'clashing directory names are labelled by path');
  assert.match(svg, /b\/best validation/);
  const png = readFileSync(join(a, 'loss.png'));
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  assert.ok(existsSync(out));
  await assertCliFailures([
    [['plot', a, '--out', join(root, 'x.txt')], /--out .*x\.txt: the file name must end in \.svg or \.png/],
    [['plot', join(root, 'missing')], /run directory .*missing does not exist/],
  ]);
});

test('numeric flag parsers name the accepted range', () => {
  assert.equal(numberOption(0, 1, true)('0.5'), 0.5);
  assert.throws(() => numberOption(0, 1, true)('0'), /expected a number in \(0, 1\]/);
  assert.throws(() => numberOption(0)('hot'), /expected a number ≥ 0/);
  assert.throws(() => numberOption(-2, 2)(''), /\[-2, 2\]/);
});
