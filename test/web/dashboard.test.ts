/**
 * The training dashboard, end to end: a real `inkwell train` run in a child
 * process appends to metrics.jsonl while the page, in headless Chromium,
 * follows it over server-sent events (web/server/run-events.ts); when the run
 * ends the page has a loss point for each logged step and a validation point
 * for each evaluation. The finished run's model card shows its size, curves
 * and `inkwell eval` report.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { loadModel } from '../../src/io/model-dir.js';
import { countParams } from '../../src/nn/params.js';
import { streamRunEvents } from '../../web/server/run-events.js';
import { runCli } from '../helpers/run-cli.js';
import { syntheticText } from '../helpers/corpus.js';
import { builtApp, launchChromium, screenshots, serveStatic, skipReason } from './browser.js';

test('the dashboard of a running inkwell train shows a loss point for each logged step', { skip: skipReason(), timeout: 120_000 }, async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'inkwell-dashboard-'));
  const corpus = path.join(tmp, 'corpus.txt');
  fs.writeFileSync(corpus, syntheticText(400, 4));
  const spec = path.join(tmp, 'small.json');
  fs.writeFileSync(spec, JSON.stringify({ model: { nLayer: 1, nEmbd: 32, nHead: 2 }, train: { batchSize: 4, evalBatches: 2, logInterval: 2, evalInterval: 10 } }));
  const runs = path.join(tmp, 'runs');
  const app = await builtApp();
  const server = await serveStatic({ '/': app.outDir, '/files/': runs }, (req, res, url) => {
    const m = /^\/runs\/([\w-]+)\/events$/.exec(url.pathname);
    if (!m) return false;
    streamRunEvents(path.join(runs, m[1]!), req, res, { pollMs: 100 });
    return true;
  });
  const { context, close } = await launchChromium();
  try {
    fs.mkdirSync(path.join(runs, 'live'), { recursive: true });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${server.url}/dashboard.html?run=live`);
    await page.waitForSelector('#status:has-text("Live")');
    const training = runCli(['train', '--preset', 'char-gpt', '--config', spec, '--corpus', corpus, '--out', path.join(runs, 'live'), '--steps', '40', '--context', '16', '--threads', '1']);
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

    await screenshots(page, 'dashboard');

    // The finished run's model card: size, curves and an `inkwell eval --json` report.
    const evaluated = await runCli(['eval', '--model', path.join(runs, 'live'), '--json', '--passages', '0', '--max-tokens', '2000', '--threads', '1']);
    assert.equal(evaluated.code, 0, evaluated.stderr);
    fs.writeFileSync(path.join(runs, 'live', 'eval.json'), evaluated.stdout);
    await page.goto(`${server.url}/model.html?model=/files/live/`);
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
    assert.deepEqual(errors, []);
  } finally {
    await close();
    await server.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
