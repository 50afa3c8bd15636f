/**
 * The playground, end to end in headless Chromium, against a small
 * OpenAI-style /v1/completions written here (the real one is `inkwell serve`):
 * it generates with inkwell's own decoder and sampler, streams one SSE chunk
 * per token with legacy logprobs (top 5), and refuses out-of-range settings
 * with an OpenAI error body. The page must stream exactly the server's greedy
 * completion, shade every token, show the top-5 alternatives on focus, and
 * show the server's error message.
 */
import assert from 'node:assert/strict';
import type http from 'node:http';
import { test } from 'node:test';
import type { IncrementalDecoder } from '../../src/generate/incremental-decoder.js';
import { createDecoder } from '../../src/generate/decoders.js';
import { generateText } from '../../src/generate/generate.js';
import type { ModelBundle } from '../../src/io/model-files.js';
import { StepTrainer } from '../../web/src/lib/step-trainer.js';
import { builtApp, launchChromium, screenshots, serveStatic, skipReason, type ApiHandler } from './browser.js';

const TEXT = 'She sells sea shells by the sea shore, and the shells she sells are surely sea shells. '.repeat(6);
const MODEL = 'tiny-char-gpt';

/** A decoder that remembers the logits it returned, so the server can report each chosen token's log-probability. */
function recording(d: IncrementalDecoder, seen: Float32Array[]): IncrementalDecoder {
  return {
    batch: d.batch, vocabSize: d.vocabSize, maxLength: d.maxLength,
    get length() { return d.length; },
    reset: () => d.reset(),
    feed: async (t) => { const l = await d.feed(t); seen.push(l); return l; },
    release: () => d.release(),
  };
}

function logSoftmax(x: Float32Array): Float64Array {
  let max = -Infinity;
  for (const v of x) max = Math.max(max, v);
  let sum = 0;
  for (const v of x) sum += Math.exp(v - max);
  const lse = max + Math.log(sum);
  return Float64Array.from(x, (v) => v - lse);
}

/** POST /v1/completions (stream and not), GET /v1/models. */
function completionsApi(bundle: ModelBundle): ApiHandler {
  const send = (res: http.ServerResponse, status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  const refuse = (res: http.ServerResponse, param: string, message: string) => send(res, 400, { error: { message, type: 'invalid_request_error', param, code: null } });
  return (req, res, url) => {
    if (url.pathname === '/v1/models') {
      send(res, 200, { object: 'list', data: [{ id: MODEL, object: 'model' }] });
      return true;
    }
    if (url.pathname !== '/v1/completions' || req.method !== 'POST') return false;
    let raw = '';
    req.setEncoding('utf8').on('data', (d: string) => (raw += d)).on('end', () => void (async () => {
      const b = JSON.parse(raw) as { model: string; prompt: string; max_tokens?: number; temperature?: number; top_p?: number; seed?: number; stream?: boolean; logprobs?: number };
      if (b.model !== MODEL) return refuse(res, 'model', `model '${b.model}' is not served`);
      if (b.top_p !== undefined && !(b.top_p > 0 && b.top_p <= 1)) return refuse(res, 'top_p', `top_p must be in (0, 1], got ${b.top_p}`);
      if (b.temperature !== undefined && !(b.temperature >= 0 && b.temperature <= 2)) return refuse(res, 'temperature', `temperature must be in [0, 2], got ${b.temperature}`);
      const seen: Float32Array[] = [];
      const decoder = recording(await createDecoder(bundle, 1, { threads: 1 }), seen);
      const r = await generateText({ decoder, tokenizer: bundle.tokenizer }, b.prompt, { maxNewTokens: b.max_tokens ?? 16, temperature: b.temperature, topP: b.top_p, seed: b.seed ?? 1 });
      await decoder.release();
      const pieces = r.tokens.map((id, i) => {
        const lp = logSoftmax(seen[i]!);
        const top = [...lp.keys()].sort((x, y) => lp[y]! - lp[x]!).slice(0, b.logprobs ?? 0);
        return { text: bundle.tokenizer.decode([id]), logprob: lp[id]!, top: Object.fromEntries(top.map((t) => [bundle.tokenizer.decode([t]), lp[t]!])) };
      });
      if (!b.stream) return send(res, 200, { object: 'text_completion', choices: [{ index: 0, text: r.text, finish_reason: r.finishReason }] });
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      const event = (text: string, logprobs: unknown, finish: string | null) =>
        res.write(`data: ${JSON.stringify({ object: 'text_completion', model: MODEL, choices: [{ index: 0, text, logprobs, finish_reason: finish }] })}\n\n`);
      for (const p of pieces) event(p.text, b.logprobs ? { tokens: [p.text], token_logprobs: [p.logprob], top_logprobs: [p.top] } : null, null);
      event('', null, r.finishReason);
      res.end('data: [DONE]\n\n');
    })());
    return true;
  };
}

test('playground: streams the server greedy completion, shades tokens, shows alternatives and server errors', { skip: skipReason(), timeout: 90_000 }, async () => {
  const trainer = await StepTrainer.create('char-gpt', TEXT, { seed: 2, threads: 1 });
  for (let i = 0; i < 30; i++) await trainer.next();
  const app = await builtApp();
  const server = await serveStatic({ '/': app.outDir }, completionsApi(trainer.bundle));
  const { context, close } = await launchChromium();
  try {
    const expected = (await (await fetch(`${server.url}/v1/completions`, {
      method: 'POST', body: JSON.stringify({ model: MODEL, prompt: 'She sells', max_tokens: 30, temperature: 0 }),
    })).json()) as { choices: Array<{ text: string }> };

    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${server.url}/playground.html`);
    await page.waitForSelector(`#model option[value="${MODEL}"]`, { state: 'attached' });
    await page.fill('#prompt', 'She sells');
    await page.fill('#max-tokens', '30');
    await page.fill('#temperature', '0');
    await page.click('#generate');
    await page.waitForSelector('#output[data-done]');
    assert.equal(await page.getAttribute('#output', 'data-text'), expected.choices[0]!.text);
    assert.equal(await page.textContent('#output'), `She sells${expected.choices[0]!.text}`);
    assert.equal(await page.locator('#output .tok').count(), 30);
    assert.match(await page.textContent('#status') ?? '', /^30 tokens in [\d.]+ s \(finished: length\)\.$/);

    await page.focus('#output .tok >> nth=0');
    await page.waitForSelector('#alternatives:not([hidden])');
    assert.equal(await page.locator('#alternatives tr').count(), 5);
    assert.equal(await page.locator('#alternatives tr.chosen').count(), 1, 'greedy picks the most likely, listed among the five');
    await screenshots(page, 'playground', () => page.focus('#output .tok >> nth=3'));

    await page.fill('#top-p', '2');
    await page.click('#generate');
    await page.waitForSelector('#status.error');
    assert.equal(await page.textContent('#status'), 'The server refused: top_p must be in (0, 1], got 2');
    assert.deepEqual(errors, []);
  } finally {
    await trainer.release();
    await close();
    await server.close();
  }
});
