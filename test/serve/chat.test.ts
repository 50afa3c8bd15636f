/** /v1/chat/completions renders the model's chat template (tokenizer_config.json) and completes it, as generate would complete the rendered prompt. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { tinyRun } from '../helpers/tiny-run.js';
import { client, generated, startServer } from './helpers.js';

const gpt = tinyRun('gpt');
const configFile = path.join(gpt.dir, 'tokenizer_config.json');
const config = JSON.parse(fs.readFileSync(configFile, 'utf8')) as Record<string, unknown>;
// Only characters of the tiny model's vocabulary.
config.chat_template = "{% for m in messages %}{% if m.role == 'user' %}the {% endif %}{{ m.content }}\n{% endfor %}{% if add_generation_prompt %}a {% endif %}";
fs.writeFileSync(configFile, JSON.stringify(config));
const { url } = await startServer({ models: [{ name: 'chat', dir: gpt.dir }] });
const openai = client(url);
const messages = [
  { role: 'system' as const, content: 'be kind' },
  { role: 'user' as const, content: 'dog' },
];
const rendered = 'be kind\nthe dog\na ';

test('a chat completion equals generate on the rendered template, streamed or not', async () => {
  const want = await generated(gpt.dir, rendered, { seed: 9, temperature: 0.9, maxNewTokens: 25 });
  const r = await openai.chat.completions.create({ model: 'chat', messages, seed: 9, temperature: 0.9, max_completion_tokens: 25 });
  assert.equal(r.object, 'chat.completion');
  assert.deepEqual(r.choices[0]!.message, { role: 'assistant', content: want });
  assert.equal(r.choices[0]!.finish_reason, 'length');
  assert.equal(r.usage!.prompt_tokens, rendered.length);
  const stream = await openai.chat.completions.create({ model: 'chat', messages, seed: 9, temperature: 0.9, max_tokens: 25, stream: true, stream_options: { include_usage: true } });
  let text = '';
  let role: string | undefined;
  let finish: string | null = null;
  let usage: unknown;
  for await (const chunk of stream) {
    assert.equal(chunk.object, 'chat.completion.chunk');
    for (const c of chunk.choices) {
      role ??= c.delta.role;
      text += c.delta.content ?? '';
      finish = c.finish_reason ?? finish;
    }
    usage = chunk.usage ?? usage;
  }
  assert.deepEqual([role, text, finish], ['assistant', want, 'length']);
  assert.deepEqual(usage, { prompt_tokens: rendered.length, completion_tokens: 25, total_tokens: rendered.length + 25 });
});

test('chat logprobs list each token with its top alternatives', async () => {
  const r = await openai.chat.completions.create({ model: 'chat', messages, temperature: 0, max_tokens: 6, logprobs: true, top_logprobs: 2 });
  const content = r.choices[0]!.logprobs!.content!;
  assert.equal(content.map((c) => c.token).join(''), r.choices[0]!.message.content);
  for (const c of content) {
    assert.equal(c.top_logprobs.length, 2);
    assert.equal(c.top_logprobs[0]!.logprob, c.logprob, 'greedy takes the most likely');
    assert.deepEqual(c.bytes, [...Buffer.from(c.token)]);
  }
});
