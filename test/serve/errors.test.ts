/**
 * Bad and hostile requests each get the right status and OpenAI's error JSON
 * naming the field, and the server keeps serving: malformed JSON, wrong
 * types, out-of-range values, an oversized body, a missing or wrong API key,
 * an unknown model, a full queue (429 + Retry-After), a deadline (504).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { APIError } from 'openai';
import { tinyRun } from '../helpers/tiny-run.js';
import { InkwellError } from '../../src/utils/errors.js';
import { createServer } from '../../src/serve/server.js';
import { API_KEY, client, eventually, startServer } from './helpers.js';

const gpt = tinyRun('gpt');
const { url } = await startServer({ models: [{ name: 'gpt', dir: gpt.dir }], apiKey: API_KEY, bodyLimit: 4096 });
const openai = client(url);

interface ErrorJson {
  error: { message: string; type: string; param: string | null; code: string | null };
}

async function post(path: string, body: string, headers: Record<string, string> = {}): Promise<{ status: number; json: ErrorJson; headers: Headers }> {
  const r = await fetch(`${url}${path}`, { method: 'POST', body, headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}`, ...headers } });
  return { status: r.status, json: (await r.json()) as ErrorJson, headers: r.headers };
}

function assertError(e: { status: number; json: ErrorJson }, status: number, param: string | null, message: RegExp): void {
  assert.equal(e.status, status, JSON.stringify(e.json));
  assert.deepEqual(Object.keys(e.json.error).sort(), ['code', 'message', 'param', 'type']);
  assert.equal(e.json.error.param, param);
  assert.match(e.json.error.message, message);
}

async function stillServes(): Promise<void> {
  const r = await openai.completions.create({ model: 'gpt', prompt: 'the', max_tokens: 3, temperature: 0 });
  assert.equal(r.usage!.completion_tokens, 3);
}

test('malformed JSON, an empty body and a non-JSON content type', async () => {
  assertError(await post('/v1/completions', '{"model": "gpt", "prompt": '), 400, null, /not valid JSON/);
  assertError(await post('/v1/completions', ''), 400, null, /empty/);
  assertError(await post('/v1/completions', 'model=gpt', { 'content-type': 'application/x-www-form-urlencoded' }), 415, null, /JSON/);
  await stillServes();
});

test('wrong types and out-of-range values are 400s naming the field, never coerced', async () => {
  const cases: Array<[Record<string, unknown>, string, RegExp]> = [
    [{ max_tokens: '5' }, 'max_tokens', /integer/],
    [{ max_tokens: 2.5 }, 'max_tokens', /integer/],
    [{ max_tokens: 0 }, 'max_tokens', />= 1/],
    [{ max_tokens: 5000 }, 'max_tokens', /<= 4096/],
    [{ temperature: 3 }, 'temperature', /<= 2/],
    [{ temperature: 'hot' }, 'temperature', /number/],
    [{ top_p: 0 }, 'top_p', /> 0/],
    [{ n: 0 }, 'n', />= 1/],
    [{ logprobs: 9 }, 'logprobs', /<= 5/],
    [{ presence_penalty: -3 }, 'presence_penalty', />= -2/],
    [{ stream: 'yes' }, 'stream', /boolean/],
    [{ stop: ['a', 'b', 'c', 'd', 'e'] }, 'stop', /more than 4 items/],
    [{ prompt: 42 }, 'prompt', /must be string or array/],
    [{ temperature: null, top_k: 1.5 }, 'top_k', /must be integer or null/],
    [{ echo: true, logprobs: 1 }, 'echo', /not supported/],
    [{ logit_bias: { '5': 100 } }, 'logit_bias', /logit_bias is not supported/],
  ];
  for (const [fields, param, message] of cases) {
    assertError(await post('/v1/completions', JSON.stringify({ model: 'gpt', prompt: 'the', ...fields })), 400, param, message);
  }
  assertError(await post('/v1/completions', JSON.stringify({ prompt: 'the' })), 400, 'model', /model is required/);
  // The official client raises its BadRequestError with the same fields.
  await assert.rejects(openai.completions.create({ model: 'gpt', prompt: 'the', temperature: -1 }), (err: unknown) => {
    assert.ok(err instanceof APIError);
    assert.equal(err.status, 400);
    assert.equal(err.param, 'temperature');
    assert.equal(err.type, 'invalid_request_error');
    return true;
  });
  await stillServes();
});

test('an oversized body is 413; a missing or wrong API key is 401; an unknown model or route is 404', async () => {
  assertError(await post('/v1/completions', JSON.stringify({ model: 'gpt', prompt: 'a'.repeat(5000) })), 413, null, /larger than the limit of 4096 bytes/);
  const body = JSON.stringify({ model: 'gpt', prompt: 'the' });
  assertError(await post('/v1/completions', body, { authorization: '' }), 401, null, /missing API key/);
  assertError(await post('/v1/completions', body, { authorization: 'Bearer nope' }), 401, null, /invalid API key/);
  await assert.rejects(client(url, 'wrong').models.list(), (err: unknown) => err instanceof APIError && err.status === 401);
  assert.equal((await fetch(`${url}/metrics`)).status, 401);
  assertError(await post('/v1/completions', JSON.stringify({ model: '../gpt', prompt: 'the' })), 404, 'model', /model '..\/gpt' does not exist; this server serves: gpt/);
  await assert.rejects(openai.completions.create({ model: 'gpt-4', prompt: 'x' }), (err: unknown) => err instanceof APIError && err.status === 404 && err.code === 'model_not_found');
  assertError(await post('/v1/embeddings', body), 404, null, /no route/);
  await stillServes();
});

test('chat completions on a model without a chat template: 400 pointing at /v1/completions', async () => {
  await assert.rejects(openai.chat.completions.create({ model: 'gpt', messages: [{ role: 'user', content: 'hi' }] }), (err: unknown) => {
    assert.ok(err instanceof APIError && err.status === 400);
    assert.match(err.message, /no chat template.*use \/v1\/completions/);
    return true;
  });
});

test('a full queue answers 429 with Retry-After; a request past its deadline gets 504; both leave the server serving', async () => {
  const small = await startServer({ models: [{ name: 'gpt', dir: gpt.dir }], maxBatch: 1, maxQueue: 1, maxTokens: 1_000_000, timeoutMs: 1500 });
  const long = () => fetch(`${small.url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'gpt', prompt: 'the', max_tokens: 1_000_000 }) });
  const first = long();
  const second = long();
  assert.ok(await eventually(() => small.handle.stats()[0]!.active === 1 && small.handle.stats()[0]!.queued === 1, 2000));
  const third = await long();
  assert.equal(third.status, 429);
  assert.equal(third.headers.get('retry-after'), '1');
  assert.equal(((await third.json()) as ErrorJson).error.type, 'rate_limit_error');
  // The first times out; the second (queued, then running) too.
  for (const r of [await first, await second]) {
    assert.equal(r.status, 504);
    assert.match(((await r.json()) as ErrorJson).error.message, /deadline of 1.5 s/);
  }
  assert.ok(await eventually(() => small.handle.stats()[0]!.active === 0, 1000));
  const ok = await client(small.url).completions.create({ model: 'gpt', prompt: 'the', max_tokens: 3 });
  assert.equal(ok.usage!.completion_tokens, 3);
});

test('createServer refuses a non-loopback host without an API key, and duplicate names', async () => {
  await assert.rejects(createServer({ models: [{ name: 'gpt', dir: gpt.dir }], host: '0.0.0.0' }), (err: unknown) => err instanceof InkwellError && /needs an API key/.test(err.message));
  await assert.rejects(createServer({ models: [{ name: 'a', dir: gpt.dir }, { name: 'a', dir: gpt.dir }] }), /two models are named 'a'/);
  await assert.rejects(createServer({ models: [] }), /no models/);
});

test('--cors answers preflights and marks responses, streamed ones too; q8 decoding serves; a prompt over the token limit is a 400', async () => {
  const s = await startServer({ models: [{ name: 'gpt', dir: gpt.dir }], cors: 'http://app.example', quantize: 'q8', maxPromptTokens: 10 });
  const preflight = await fetch(`${s.url}/v1/completions`, { method: 'OPTIONS', headers: { origin: 'http://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,authorization' } });
  assert.ok(preflight.status === 204 || preflight.status === 200);
  assert.equal(preflight.headers.get('access-control-allow-origin'), 'http://app.example');
  for (const stream of [false, true]) {
    const r = await fetch(`${s.url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json', origin: 'http://app.example' }, body: JSON.stringify({ model: 'gpt', prompt: 'the', max_tokens: 4, stream }) });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('access-control-allow-origin'), 'http://app.example', `stream: ${stream}`);
    const text = await r.text();
    if (stream) assert.ok(text.endsWith('data: [DONE]\n\n'));
    else assert.equal((JSON.parse(text) as { usage: { completion_tokens: number } }).usage.completion_tokens, 4);
  }
  const long = await fetch(`${s.url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'gpt', prompt: 'the cat sat', max_tokens: 4 }) });
  assert.equal(long.status, 400);
  assert.match(((await long.json()) as ErrorJson).error.message, /prompt has 11 tokens, more than the server's limit of 10/);
});
