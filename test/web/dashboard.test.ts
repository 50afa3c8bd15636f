/**
 * The training dashboard, end to end: `inkwell serve --runs DIR` (no model:
 * the dashboards alone; `inkwell web` serves them with the same handler) serves the app
 * while a real `inkwell train` run, another child process, appends to
 * DIR/live/metrics.jsonl; the page, in headless Chromium, follows it over
 * server-sent events (web/server/run-events.ts); when the run
 * ends the page has a loss point for each logged step, a validation point
 * for each evaluation and the sample (--sample-tokens) written after it. The finished run's model card shows its size, curves
 * and `inkwell eval` report.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadModel } from '../../src/io/model-dir.js';
import { countParams } from '../../src/nn/params.js';
import { assertCliFailures, runCli } from '../helpers/run-cli.js';
import { syntheticText } from '../helpers/corpus.js';
import { builtApp, launchChromium, screenshots, skipReason } from './browser.js';

const CLI = path.resolve(fileURLToPath(import.meta.url), '..', '..', '..', 'src', 'cli', 'main.js');

test('the dashboard of a running inkwell train shows a loss point for each logged step', { skip: skipReason(), timeout: 120_000 }, async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'inkwell-dashboard-'));
  const corpus = path.join(tmp, 'corpus.txt');
  fs.writeFileSync(corpus, syntheticText(400, 4));
  const spec = path.join(tmp, 'small.json');
  fs.writeFileSync(spec, JSON.stringify({ model: { nLayer: 1, nEmbd: 32, nHead: 2 }, train: { batchSize: 4, evalBatches: 2, logInterval: 2, evalInterval: 10 } }));
  const runs = path.join(tmp, 'runs');
  fs.mkdirSync(path.join(runs, 'live'), { recursive: true });
  const app = await builtApp();
  const web = spawn(process.execPath, [CLI, 'serve', '--runs', runs, '--site', app.outDir, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const { context, close } = await launchChromium();
  try {
    const server = { url: await servingUrl(web) };
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${server.url}/dashboard.html?run=live`);
    await page.waitForSelector('#status:has-text("Live")');
    const training = runCli(['train', '--preset', 'char-gpt', '--config', spec, '--corpus', corpus, '--out', path.join(runs, 'live'), '--steps', '40', '--context', '16', '--threads', '1', '--sample-tokens', '24', '--sample-prompt', 'The ']);
    await page.waitForSelector('body[data-loss-points]', { timeout: 60_000 });
    const done = await training;
    assert.equal(done.code, 0, done.stderr);
    const records = fs.readFileSync(path.join(runs, 'live', 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { loss?: number; val_loss?: number });
    const logged = records.filter((r) => r.loss !== undefined).length;
    const evals = records.filter((r) => r.val_loss !== undefined).length;
    assert.equal(logged, 20);
    await page.waitForSelector(`body[data-loss-points="${logged}"][data-val-points="${evals}"]`);
    await page.waitForSelector('#stat-eta:has-text("done")');
    assert.equal(await page.textContent('#stat-step'), '40 / 40');
    // A run trained without --ui, samples asked for: serve --runs shows them too, latest first.
    await page.waitForSelector(`body[data-samples="${evals}"][data-last-sample-step="40"]`);
    assert.deepEqual(await page.$$eval('#samples .sample-step', (s) => s.map((e) => e.firstChild!.textContent)), ['step 40', 'step 30', 'step 20', 'step 10']);
    assert.match((await page.textContent('#samples .sample-text'))!, /^The /);

    await screenshots(page, 'dashboard');

    // The finished run's model card: size, curves and an `inkwell eval --json` report.
    const evaluated = await runCli(['eval', '--model', path.join(runs, 'live'), '--json', '--passages', '0', '--max-tokens', '2000', '--threads', '1']);
    assert.equal(evaluated.code, 0, evaluated.stderr);
    fs.writeFileSync(path.join(runs, 'live', 'eval.json'), evaluated.stdout);
    await page.goto(`${server.url}/model.html?model=/runs/live/`);
    await page.waitForSelector('body[data-model="shown"]');
    assert.equal(await page.textContent('#stat-params'), countParams(loadModel(path.join(runs, 'live')).model.specs).toLocaleString('en'));
    assert.equal(await page.textContent('#stat-tokenizer'), 'characters');
    await page.waitForSelector(`#curves[data-points0="${logged}"][data-points1="${evals}"]`);
    const scores = (JSON.parse(evaluated.stdout) as { scores: unknown[] }).scores.length;
    assert.equal(await page.locator('#eval tr').count(), scores + 1);
    await screenshots(page, 'model');

    const missing = await fetch(`${server.url}/runs/nothing-here/events`);
    assert.equal(missing.status, 404);
    assert.match(((await missing.json()) as { error: { message: string } }).error.message, /run directory .*nothing-here does not exist/);
    const listed = (await (await fetch(`${server.url}/runs/`)).json()) as { runs: string[] };
    assert.deepEqual(listed.runs, ['live']);
    assert.deepEqual(errors, []);
  } finally {
    web.kill('SIGTERM');
    await close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test('inkwell web and inkwell serve refuse a --runs that is not a directory, and a --site without pages', async () => {
  const nowhere = path.join(os.tmpdir(), 'no-such-runs-dir');
  await assertCliFailures([
    [['web', '--runs', nowhere, '--port', '0'], /--runs .*no-such-runs-dir is not a directory/],
    [['serve', '--runs', nowhere, '--port', '0'], /--runs .*no-such-runs-dir is not a directory/],
    [['serve', '--runs', os.tmpdir(), '--site', nowhere, '--port', '0'], /--site .*no-such-runs-dir has no index.html[\s\S]*npm run build:web/],
  ]);
});

/** The URL `inkwell serve` prints once it listens. */
function servingUrl(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let err = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      err += d;
      const m = /web app at (http:\/\/\S+?)\/ /.exec(err);
      if (m) resolve(m[1]!);
    });
    child.on('exit', (code) => reject(new Error(`inkwell serve exited with ${code}: ${err}`)));
  });
}
