/**
 * /v1/completions through the official `openai` client: the text equals what
 * `inkwell generate` makes of the same model, prompt, seed and settings
 * (greedy and sampled, streamed and not, GPT and LSTM), with n, logprobs,
 * stop strings, and 20 concurrent streams that each get their solo text.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tinyRun } from '../helpers/tiny-run.js';
import { API_KEY, client, eventually, generated, metric, startServer } from './helpers.js';

// nPositions 32: completions of 40 tokens slide the GPT's context window, as generate does.
const gpt = tinyRun('gpt', { nPositions: 32 });
const lstm = tinyRun('lstm');
const { handle, url } = await startServer({ models: [{ name: 'gpt', dir: gpt.dir }, { name: 'lstm', dir: lstm.dir }], apiKey: API_KEY, maxBatch: 8, maxQueue: 64, maxTokens: 1_000_000 });
const openai = client(url);

async function streamed(model: string, prompt: string, o: Record<string, unknown>): Promise<{ text: string; finish: string | null; chunks: number }> {
  const stream = await openai.completions.create({ model, prompt, stream: true, ...o });
  let text = '';
  let finish: string | null = null;
  let chunks = 0;
  for await (const chunk of stream) {
    assert.equal(chunk.object, 'text_completion');
    chunks++;
    for (const c of chunk.choices) {
      text += c.text;
      finish = c.finish_reason ?? finish;
    }
  }
  return { text, finish, chunks };
}

for (const [name, dir] of [['gpt', gpt.dir], ['lstm', lstm.dir]] as const) {
  test(`${name}: non-streaming and streaming completions equal inkwell generate, greedy and seeded sampling`, async () => {
    for (const [settings, flags] of [
      [{ temperature: 0 }, { temperature: 0 }],
      [{ temperature: 0.9, seed: 11 }, { temperature: 0.9, seed: 11 }],
      [{ temperature: 1.1, top_p: 0.9, seed: 5, frequency_penalty: 0.5 }, { temperature: 1.1, topP: 0.9, seed: 5, frequencyPenalty: 0.5 }],
    ] as const) {
      const want = await generated(dir, 'the dog', { ...flags, maxNewTokens: 40 });
      const whole = await openai.completions.create({ model: name, prompt: 'the dog', max_tokens: 40, ...settings });
      assert.equal(whole.object, 'text_completion');
      assert.equal(whole.choices[0]!.text, want, `non-streaming ${JSON.stringify(settings)}`);
      assert.equal(whole.choices[0]!.finish_reason, 'length');
      assert.deepEqual(whole.usage, { prompt_tokens: 7, completion_tokens: 40, total_tokens: 47 });
      const s = await streamed(name, 'the dog', { max_tokens: 40, ...settings });
      assert.equal(s.text, want, `streaming ${JSON.stringify(settings)}`);
      assert.equal(s.finish, 'length');
      assert.ok(s.chunks > 10, 'the text arrives in pieces');
    }
  });
}

test('n: 3 gives generate --num-samples 3 with the same seed, choice by choice; several prompts take n each', async () => {
  const r = await openai.completions.create({ model: 'gpt', prompt: 'a cat', max_tokens: 20, n: 3, seed: 4, temperature: 1 });
  assert.equal(r.choices.length, 3);
  for (let j = 0; j < 3; j++) {
    assert.equal(r.choices[j]!.index, j);
    assert.equal(r.choices[j]!.text, await generated(gpt.dir, 'a cat', { seed: 4, temperature: 1, maxNewTokens: 20 }, 3, j));
  }
  assert.notEqual(r.choices[0]!.text, r.choices[1]!.text, 'each choice draws from its own stream');
  assert.equal(r.usage!.completion_tokens, 60);
  const multi = await openai.completions.create({ model: 'gpt', prompt: ['a cat', 'the dog'], max_tokens: 10, n: 2, seed: 4, temperature: 0 });
  assert.deepEqual(multi.choices.map((c) => c.index), [0, 1, 2, 3]);
  assert.equal(multi.choices[2]!.text, await generated(gpt.dir, 'the dog', { temperature: 0, maxNewTokens: 10 }));
  assert.equal(multi.usage!.prompt_tokens, 12);
});

test('logprobs: each token with its log-probability and the top alternatives; greedy picks the most likely', async () => {
  const r = await openai.completions.create({ model: 'gpt', prompt: 'the', max_tokens: 8, temperature: 0, logprobs: 3 });
  const lp = r.choices[0]!.logprobs!;
  assert.equal(lp.tokens!.length, 8);
  assert.equal(lp.tokens!.join(''), r.choices[0]!.text);
  assert.deepEqual(lp.text_offset, [0, 1, 2, 3, 4, 5, 6, 7]);
  lp.top_logprobs!.forEach((top, i) => {
    const entries = Object.entries(top!);
    assert.ok(entries.length >= 1 && entries.length <= 3);
    const best = Math.max(...entries.map(([, v]) => v));
    assert.ok(lp.token_logprobs![i]! <= 0);
    assert.equal(lp.token_logprobs![i], best, 'greedy takes the top alternative');
    assert.equal(top![lp.tokens![i]!], lp.token_logprobs![i]);
  });
  const s = await openai.completions.create({ model: 'gpt', prompt: 'the', max_tokens: 8, temperature: 0, logprobs: 1, stream: true });
  const tokens: string[] = [];
  for await (const chunk of s) for (const c of chunk.choices) tokens.push(...(c.logprobs?.tokens ?? []));
  assert.deepEqual(tokens, lp.tokens, 'streamed logprobs cover the same tokens');
});

test('stop strings cut the text before them, streamed or not; echo prepends the prompt', async () => {
  const full = (await openai.completions.create({ model: 'gpt', prompt: 'the', max_tokens: 30, temperature: 0 })).choices[0]!.text;
  const stop = full.slice(10, 12);
  const want = await generated(gpt.dir, 'the', { temperature: 0, maxNewTokens: 30, stop: [stop] });
  assert.equal(want, full.slice(0, full.indexOf(stop)));
  const r = await openai.completions.create({ model: 'gpt', prompt: 'the', max_tokens: 30, temperature: 0, stop: ['qqqq', stop] });
  assert.equal(r.choices[0]!.text, want);
  assert.equal(r.choices[0]!.finish_reason, 'stop');
  const s = await streamed('gpt', 'the', { max_tokens: 30, temperature: 0, stop });
  assert.deepEqual([s.text, s.finish], [want, 'stop']);
  const echo = await openai.completions.create({ model: 'gpt', prompt: 'the', max_tokens: 30, temperature: 0, stop, echo: true });
  assert.equal(echo.choices[0]!.text, `the${want}`);
});

test('20 concurrent streams (more than the 8 slots) each finish with the text it would have had alone', async () => {
  const prompts = Array.from({ length: 20 }, (_, i) => ['the cat', 'a dog', 'the bird sat', 'dogs'][i % 4]!);
  const settings = (i: number) => ({ temperature: 0.8 + (i % 3) * 0.1, seed: 100 + i, max_tokens: 12 + (i % 5) * 6, ...(i % 4 === 3 ? { stop: 'e' } : {}) });
  const wants: string[] = [];
  for (let i = 0; i < 20; i++) {
    const s = settings(i);
    wants.push(await generated(i % 2 === 0 ? gpt.dir : lstm.dir, prompts[i]!, { temperature: s.temperature, seed: s.seed, maxNewTokens: s.max_tokens, stop: s.stop ? [s.stop] : [] }));
  }
  const got = await Promise.all(prompts.map((p, i) => streamed(i % 2 === 0 ? 'gpt' : 'lstm', p, settings(i))));
  got.forEach((g, i) => assert.equal(g.text, wants[i], `request ${i}`));
  assert.ok(await eventually(() => handle.stats().every((s) => s.active === 0 && s.queued === 0), 2000));
});

test('a client that disconnects mid-stream frees its slot at once, and the server keeps serving', async () => {
  const controller = new AbortController();
  const stream = await openai.completions.create({ model: 'gpt', prompt: 'the', max_tokens: 1_000_000, stream: true }, { signal: controller.signal });
  let chunks = 0;
  // The client ends the iteration quietly on its own abort (or raises APIUserAbortError, depending on timing).
  try {
    for await (const _ of stream) if (++chunks === 3) controller.abort();
  } catch (err) {
    assert.match(String(err), /abort/i);
  }
  assert.equal(chunks, 3);
  assert.ok(await eventually(() => handle.stats().find((s) => s.model === 'gpt')!.active === 0, 3000), 'the slot is free');
  assert.equal(await metric(url, 'inkwell_active_sequences{model="gpt"}'), 0);
  assert.ok(await eventually(async () => (await metric(url, 'inkwell_requests_total{route="/v1/completions",status="disconnected"}')) === 1, 2000));
  const tokens = (await metric(url, 'inkwell_generated_tokens_total{model="gpt"}'))!;
  assert.ok(tokens < 100_000, `generation stopped (${tokens} tokens in all)`);
  const r = await openai.completions.create({ model: 'gpt', prompt: 'the', max_tokens: 5, temperature: 0 });
  assert.equal(r.usage!.completion_tokens, 5);
});

test('/v1/models lists the configured names; /health answers without a key; /metrics has the histograms', async () => {
  const models = await openai.models.list();
  assert.deepEqual(models.data.map((m) => m.id), ['gpt', 'lstm']);
  assert.equal((await openai.models.retrieve('lstm')).id, 'lstm');
  const health = await fetch(`${url}/health`);
  assert.equal(health.status, 200);
  assert.deepEqual(await health.json(), { status: 'ok', models: ['gpt', 'lstm'] });
  const text = await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${API_KEY}` } })).text();
  for (const series of ['inkwell_time_to_first_token_seconds_bucket', 'inkwell_inter_token_latency_seconds_count', 'inkwell_queue_depth{model="lstm"}', 'inkwell_requests_total{route="/v1/completions",status="200"}']) {
    assert.ok(text.includes(series), series);
  }
});
