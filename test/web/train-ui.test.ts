/**
 * `inkwell train --ui`, end to end: the training process itself serves its
 * run's dashboard (the URL it prints), the page in headless Chromium follows
 * the run live, and when training ends the server sends the last lines,
 * says so and stops: the chart then has a loss point for each logged step,
 * and the samples the model wrote at each evaluation are listed, latest first.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { assertCliFailures } from '../helpers/run-cli.js';
import { syntheticText } from '../helpers/corpus.js';
import { builtApp, launchChromium, screenshots, skipReason } from './browser.js';

const CLI = path.resolve(fileURLToPath(import.meta.url), '..', '..', '..', 'src', 'cli', 'main.js');
const STEPS = 150;

test('the dashboard of a running inkwell train --ui shows a loss point for each logged step', { skip: skipReason(), timeout: 180_000 }, async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'inkwell-train-ui-'));
  const corpus = path.join(tmp, 'corpus.txt');
  fs.writeFileSync(corpus, syntheticText(400, 4));
  const spec = path.join(tmp, 'small.json');
  // Every step logged; a model big enough that the run lasts while the page connects.
  fs.writeFileSync(spec, JSON.stringify({ model: { nLayer: 2, nEmbd: 64, nHead: 4 }, train: { batchSize: 8, evalBatches: 2, logInterval: 1, evalInterval: 50 } }));
  const out = path.join(tmp, 'live-run');
  const app = await builtApp();
  const { context, close } = await launchChromium();
  const child = spawn(
    process.execPath,
    [CLI, 'train', '--ui', '--ui-site', app.outDir, '--preset', 'char-gpt', '--config', spec, '--corpus', corpus, '--out', out, '--steps', String(STEPS), '--context', '32', '--threads', '1'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  let running = true;
  void exited.then(() => (running = false));
  try {
    const url = await new Promise<string>((resolve, reject) => {
      child.stderr.setEncoding('utf8').on('data', (d: string) => {
        stderr += d;
        const m = /live dashboard at (http:\/\/127\.0\.0\.1:\d+\/dashboard\.html\?run=live-run)\n/.exec(stderr);
        if (m) resolve(m[1]!);
      });
      void exited.then((code) => reject(new Error(`inkwell train --ui exited with ${code} before printing a URL: ${stderr}`)));
    });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(url);
    await page.waitForSelector('#status:has-text("Live")');
    await page.waitForSelector('body[data-loss-points]', { timeout: 60_000 });
    // Live: the page had a point while the run was still training (not only the last lines sent at the end).
    const seenWhileRunning = running;
    assert.equal(await exited, 0, stderr);
    assert.ok(seenWhileRunning, `the run ended before the page saw its first point: ${stdout}`);

    const records = fs.readFileSync(path.join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { step: number; loss?: number; val_loss?: number });
    const logged = records.filter((r) => r.loss !== undefined);
    assert.deepEqual(logged.map((r) => r.step), Array.from({ length: STEPS }, (_, i) => i + 1));
    const evals = records.filter((r) => r.val_loss !== undefined).length;
    // The server sent the last lines before it stopped, and said why it stopped.
    await page.waitForSelector('body[data-stream="ended"]');
    assert.equal(await page.getAttribute('body', 'data-loss-points'), String(logged.length));
    assert.equal(await page.getAttribute('body', 'data-last-step'), String(STEPS));
    assert.equal(await page.getAttribute('body', 'data-val-points'), String(evals));
    assert.equal(await page.getAttribute('#loss-chart', 'data-points0'), String(logged.length));
    assert.match((await page.textContent('#status'))!, /Stopped: training finished/);
    // --ui writes a sample at each evaluation; the page lists them all, the latest first, each with its step.
    const samples = fs.readFileSync(path.join(out, 'samples.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { step: number; prompt: string; text: string; tokens: number });
    assert.deepEqual(samples.map((s) => s.step), records.filter((r) => r.val_loss !== undefined).map((r) => r.step));
    assert.ok(samples.every((s) => s.tokens === 160 && s.text.length > 0), JSON.stringify(samples[0]));
    assert.equal(await page.getAttribute('body', 'data-samples'), String(samples.length));
    const shown = await page.$$eval('#samples .sample', (items) => items.map((li) => [li.querySelector('.sample-step')!.firstChild!.textContent, li.querySelector('.sample-text')!.textContent]));
    assert.deepEqual(shown, samples.reverse().map((s) => [`step ${s.step}`, s.prompt + s.text]));
    // The default prompt is the opening of the validation text, cut after a word.
    assert.match(samples[0]!.prompt, /\s$/);
    assert.equal(await page.textContent('#stat-step'), `${STEPS} / ${STEPS}`);
    assert.equal(await page.textContent('#stat-loss'), logged.at(-1)!.loss!.toFixed(4));
    await screenshots(page, 'train-ui');
    // The training process has stopped serving.
    await assert.rejects(fetch(url));
    assert.deepEqual(errors, []);
  } finally {
    child.kill('SIGTERM');
    await close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test('inkwell train refuses --ui without a built web app, a --ui-* flag without --ui, and --ui with the torch engine', async () => {
  const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'inkwell-no-site-'));
  try {
    const run = ['train', '--preset', 'char-gpt', '--out', path.join(empty, 'run'), '--steps', '1'];
    await assertCliFailures([
      [[...run, '--ui', '--ui-site', empty], /--ui-site .*inkwell-no-site-\w+ has no dashboard.html[\s\S]*npm run build:web/],
      [[...run, '--ui-port', '8123'], /--ui-port needs --ui/],
      [[...run, '--ui-keep'], /--ui-keep needs --ui/],
      [[...run, '--ui', '--engine', 'torch'], /--ui needs --engine inkwell/],
      [[...run, '--sample-prompt', 'The '], /--sample-prompt needs samples: add --sample-tokens N \(or --ui\)/],
      [[...run, '--ui', '--ui-site', empty, '--sample-tokens', '-1'], /option '--sample-tokens <n>' argument '-1' is invalid/],
    ]);
    assert.equal(fs.existsSync(path.join(empty, 'run')), false, 'nothing trained');
  } finally {
    fs.rmSync(empty, { recursive: true, force: true });
  }
});
