import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generate, generateBatch, generateEvents, generateText, type GenerateOptions, type Prompt } from '../../src/generate/generate.js';
import { trainByteLevelBpe } from '../../src/tokenizers/bpe-trainer.js';
import type { Tokenizer } from '../../src/tokenizers/tokenizer.js';
import { trainWordLevel } from '../../src/tokenizers/word-level.js';
import { InkwellError } from '../../src/utils/errors.js';
import { bigramDecoder, scriptedDecoder, type FakeDecoder } from './fake-decoder.js';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz .,';
const chars = trainWordLevel([ALPHABET], 'char', { specialTokens: [] });
const charsWithEos = trainWordLevel([ALPHABET], 'char', { specialTokens: ['<eos>'] });

async function stream(decoder: FakeDecoder, tokenizer: Tokenizer, prompt: Prompt, o: GenerateOptions): Promise<{ pieces: string[]; text: string }> {
  const pieces: string[] = [];
  const it = generate({ decoder, tokenizer: tokenizer }, prompt, o);
  let r = await it.next();
  for (; !r.done; r = await it.next()) pieces.push(r.value);
  return { pieces, text: r.value.text };
}

test('streamed pieces concatenate to the non-streaming text, which decodes the generated tokens', async () => {
  const o = { maxNewTokens: 40, seed: 5, temperature: 1.2, topK: 10 };
  const { pieces, text } = await stream(bigramDecoder(chars.vocabSize, 1), chars, 'the cat', o);
  const whole = await generateText({ decoder: bigramDecoder(chars.vocabSize, 1), tokenizer: chars }, 'the cat', o);
  assert.equal(pieces.join(''), whole.text);
  assert.equal(text, whole.text);
  assert.equal(whole.text, chars.decode(whole.tokens));
  assert.equal(whole.tokens.length, 40);
  assert.equal(whole.finishReason, 'length');
  assert.equal(whole.promptTokens, 7);
  assert.equal(whole.seed, 5);
  assert.ok(whole.timing.timeToFirstTokenMs >= 0 && whole.timing.tokensPerSecond > 0);
});

test('the same seed reproduces a sample; another seed changes it', async () => {
  const sample = async (seed: number) => (await generateText({ decoder: bigramDecoder(chars.vocabSize, 1), tokenizer: chars }, 'a', { seed, maxNewTokens: 30 })).text;
  assert.equal(await sample(11), await sample(11));
  assert.notEqual(await sample(11), await sample(12));
  const unseeded = await generateText({ decoder: bigramDecoder(chars.vocabSize, 1), tokenizer: chars }, 'a', { maxNewTokens: 30 });
  assert.equal(await sample(unseeded.seed), unseeded.text, 'the reported seed reproduces an unseeded sample');
});

test('greedy decoding follows the argmax chain', async () => {
  const decoder = bigramDecoder(chars.vocabSize, 1);
  const r = await generateText({ decoder, tokenizer: chars }, 'hello', { greedy: true, maxNewTokens: 12 });
  assert.deepEqual(r.tokens, decoder.greedyChain(chars.encode('o')[0]!, 12));
  assert.deepEqual(decoder.feeds, [5, ...Array<number>(11).fill(1)], 'the prompt is fed at once, then one token per step');
});

test('stop sequences cut the text before them and are never streamed, even in part', async () => {
  const decoder = bigramDecoder(chars.vocabSize, 1);
  const chain = chars.decode(decoder.greedyChain(chars.encode('q')[0]!, 30));
  const stop = chain.slice(9, 12);
  const expected = chain.slice(0, chain.indexOf(stop));
  const { pieces, text } = await stream(decoder, chars, 'q', { greedy: true, maxNewTokens: 30, stop: ['zzzz', stop] });
  assert.equal(text, expected);
  assert.equal(pieces.join(''), expected);
  const r = await generateText({ decoder: bigramDecoder(chars.vocabSize, 1), tokenizer: chars }, 'q', { greedy: true, maxNewTokens: 30, stop: [stop] });
  assert.equal(r.finishReason, 'stop');
  assert.equal(r.text, expected);
  // A stop sequence that never completes is released at the end.
  const free = await generateText({ decoder: bigramDecoder(chars.vocabSize, 1), tokenizer: chars }, 'q', { greedy: true, maxNewTokens: 30, stop: [chain.slice(-1) + '#'] });
  assert.equal(free.text, chain);
});

test('the eos token ends a sequence and is not part of the text', async () => {
  const script = charsWithEos.encode('abc');
  script.push(charsWithEos.special.eos!);
  const r = await generateText({ decoder: scriptedDecoder(charsWithEos.vocabSize, 2, script), tokenizer: charsWithEos }, 'xy', { greedy: true, maxNewTokens: 10 });
  assert.equal(r.finishReason, 'eos');
  assert.equal(r.text, 'abc');
  assert.equal(r.tokens.length, 3);
  const on = await generateText({ decoder: scriptedDecoder(charsWithEos.vocabSize, 2, script), tokenizer: charsWithEos }, 'xy', { greedy: true, maxNewTokens: 6, stopAtEos: false });
  assert.equal(on.finishReason, 'length');
  assert.equal(on.tokens.length, 6);
});

test('byte-level BPE streams whole UTF-8 characters only', async () => {
  const text = 'héllo € 😀 naïve';
  const bytes = trainByteLevelBpe([text], { vocabSize: 257, minFrequency: 1 });
  const script = bytes.encode(text);
  assert.ok(script.length > [...text].length, 'characters are split over several tokens');
  const { pieces } = await stream(scriptedDecoder(bytes.vocabSize, 1, script), bytes, 'a', { greedy: true, maxNewTokens: script.length });
  assert.equal(pieces.join(''), text);
  assert.ok(pieces.every((p) => !p.includes('\uFFFD')));
  assert.ok(pieces.includes('😀'));
});

test('word-level tokenizers keep the space between prompt and continuation', async () => {
  const words = trainWordLevel(['the cat sat on the mat'], 'word', { minFrequency: 1 });
  const script = words.encode('sat on the mat');
  const { pieces } = await stream(scriptedDecoder(words.vocabSize, 2, script), words, 'the cat', { greedy: true, maxNewTokens: 4 });
  assert.equal(pieces.join(''), ' sat on the mat');
});

test('a batch of prompts of different lengths decodes each as if alone', async () => {
  const prompts = ['ab', 'hello world', 'xyz q'];
  const decoder = bigramDecoder(chars.vocabSize, 4);
  const results = await generateBatch({ decoder, tokenizer: chars }, prompts, { greedy: true, maxNewTokens: 8 });
  assert.equal(results.length, 3);
  prompts.forEach((p, i) => {
    assert.deepEqual(results[i]!.tokens, decoder.greedyChain(chars.encode(p.slice(-1))[0]!, 8), p);
    assert.equal(results[i]!.prompt, p);
  });
  assert.equal(decoder.feeds[0], 2, 'the common prompt length goes in one feed');
  // Sampled sequences differ from each other even for identical prompts.
  const samples = await generateBatch({ decoder: bigramDecoder(chars.vocabSize, 3), tokenizer: chars }, ['a', 'a', 'a'], { seed: 1, maxNewTokens: 20 });
  assert.equal(new Set(samples.map((s) => s.text)).size, 3);
  const events = [];
  for await (const e of generateEvents({ decoder: bigramDecoder(chars.vocabSize, 2), tokenizer: chars }, ['ab', 'c'], { seed: 2, maxNewTokens: 5 })) events.push(e);
  assert.deepEqual(events.filter((e) => e.type === 'done').map((e) => e.sequence).sort(), [0, 1]);
});

test('prompts longer than maxLength keep their end, and the window slides', async () => {
  const decoder = bigramDecoder(chars.vocabSize, 1, 8);
  const prompt = 'abcdefghijklmnopqrst';
  const r = await generateText({ decoder, tokenizer: chars }, prompt, { greedy: true, maxNewTokens: 20 });
  assert.equal(r.droppedPromptTokens, 12);
  assert.equal(r.promptTokens, 20);
  assert.ok(r.slides >= 4, `${r.slides} slides`);
  assert.equal(decoder.resets, r.slides + 1);
  // Bigram logits only see the last token, so sliding must not change the output.
  assert.deepEqual(r.tokens, decoder.greedyChain(chars.encode('t')[0]!, 20));
});

test('bad requests are InkwellErrors', async () => {
  const m = { decoder: bigramDecoder(chars.vocabSize, 1), tokenizer: chars };
  const rejects = (p: Promise<unknown>, pattern: RegExp) => assert.rejects(p, (e: unknown) => e instanceof InkwellError && pattern.test(e.message));
  await rejects(generateText(m, ''), /prompt is empty/);
  await rejects(generateBatch(m, ['a', 'b']), /2 prompts but the decoder was created for a batch of 1/);
  await rejects(generateText(m, 'a', { maxNewTokens: 0 }), /maxNewTokens/);
  await rejects(generateText(m, 'a', { stop: [''] }), /stop sequence is empty/);
  await rejects(generateText(m, 'a', { topP: 2 }), /topP/);
  // With a bos token an empty prompt starts from it.
  const withBos = trainWordLevel([ALPHABET], 'char', { specialTokens: ['<bos>'] });
  const r = await generateText({ decoder: bigramDecoder(withBos.vocabSize, 1), tokenizer: withBos }, '', { maxNewTokens: 3, seed: 0 });
  assert.equal(r.tokens.length, 3);
});
