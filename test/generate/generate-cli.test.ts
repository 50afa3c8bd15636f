import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createDecoder } from '../../src/generate/decoders.js';
import { generateBatch, generateText } from '../../src/generate/generate.js';
import { assertCliFailures, runCli } from '../helpers/run-cli.js';
import { tinyRun } from '../helpers/tiny-run.js';

const inkwell = (args: string[], input?: string) => runCli(['generate', ...args], input);

const gpt = tinyRun('gpt', { nPositions: 16 });

test('inkwell generate streams the prompt and its continuation', async () => {
  const a = await inkwell(['--model', gpt.dir, '--prompt', 'the cat', '--max-new-tokens', '20', '--seed', '3', '--top-k', '5', '--repetition-penalty', '1.2']);
  assert.equal(a.code, 0, a.stderr);
  assert.ok(a.stdout.startsWith('the cat'));
  assert.equal([...a.stdout].length, 'the cat'.length + 20 + 1, 'a char model without eos writes exactly 20 characters');
  assert.match(a.stderr, /20 tokens, first after \d+ ms, [\d.]+ tokens\/s, finished: length, seed 3/);
});

test('--json prints one object per sample; --interactive reads prompts from stdin', async () => {
  const [r, i] = await Promise.all([
    inkwell(['--model', gpt.dir, '--prompt', 'a dog', '--max-new-tokens', '12', '--num-samples', '2', '--seed', '1', '--json', '--stop', 'zz']),
    inkwell(['--model', gpt.dir, '--interactive', '--json', '--greedy', '--max-new-tokens', '5'], 'the\n\na bird\n'),
  ]);
  assert.equal(r.code, 0, r.stderr);
  const samples = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(samples.length, 2);
  for (const s of samples) {
    assert.equal(s.prompt, 'a dog');
    assert.equal(typeof s.completion, 'string');
    assert.ok(s.tokens.length <= 12);
    assert.ok(s.timing.timeToFirstTokenMs >= 0 && s.timing.tokensPerSecond > 0);
  }
  assert.notEqual(samples[0].completion, samples[1].completion);

  assert.equal(i.code, 0, i.stderr);
  assert.deepEqual(i.stdout.trim().split('\n').map((l) => JSON.parse(l).prompt), ['the', 'a bird']);
});

test('bad flags and inputs fail with a message naming them', async () => {
  const g = (...args: string[]) => ['generate', ...args];
  await assertCliFailures([
    [g('--model', gpt.dir), /give --prompt TEXT or --interactive/],
    [g('--model', `${gpt.dir}-missing`, '--prompt', 'a'), /model directory .*-missing does not exist/],
    [g('--model', gpt.dir, '--prompt', 'a', '--top-p', '0'), /--top-p/],
    [g('--model', gpt.dir, '--prompt', ''), /--prompt is empty/],
  ]);
});

test('a real GPT decoder: long prompts slide, and a batch decodes like single prompts', async () => {
  const small = tinyRun('gpt', { nPositions: 8 });
  const decoder = await createDecoder(small.bundle, 2);
  const m = { decoder, tokenizer: small.bundle.tokenizer };
  try {
    const prompts = ['the old man sees', 'a bird'];
    const [long, short] = await generateBatch(m, prompts, { greedy: true, maxNewTokens: 12 });
    assert.equal(long!.droppedPromptTokens, 8);
    assert.ok(long!.slides > 0);
    assert.equal(long!.tokens.length, 12);
    const single = await createDecoder(small.bundle, 1);
    try {
      const alone = await generateText({ decoder: single, tokenizer: small.bundle.tokenizer }, prompts[1]!, { greedy: true, maxNewTokens: 12 });
      assert.equal(alone.text, short!.text);
    } finally {
      await single.release();
    }
  } finally {
    await decoder.release();
  }
});
