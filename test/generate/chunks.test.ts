/**
 * Chunks (IncrementalDecoder.chunks): a recurrent decoder choosing several tokens per ONNX Runtime
 * call — greedy or sampled — must give generation exactly what one step per call gives (tokens,
 * text, stops, streaming, seeded draws), and settings the graph cannot choose for (penalties) must
 * not use it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RnnLm, type RnnCell } from '../../src/models/rnn.js';
import { initWeights } from '../../src/nn/params.js';
import { createDecoder, type DecoderOptions } from '../../src/generate/decoders.js';
import { generate, generateBatch, type GenerateOptions } from '../../src/generate/generate.js';
import type { IncrementalDecoder } from '../../src/generate/incremental-decoder.js';
import { trainWordLevel } from '../../src/tokenizers/word-level.js';

const tokenizer = trainWordLevel(['abcdefghijklmnopqrstuvwxyz'], 'char', { specialTokens: [] });

/** The same decoder without its chunks: every token takes one call, as before they existed. */
function oneStep(d: IncrementalDecoder): IncrementalDecoder {
  return {
    batch: d.batch,
    vocabSize: d.vocabSize,
    maxLength: d.maxLength,
    get length() {
      return d.length;
    },
    reset: () => d.reset(),
    feed: (t) => d.feed(t),
    release: () => d.release(),
  };
}

/** Counts chunk runs, to show which path a setting took. */
function counting(d: IncrementalDecoder): { decoder: IncrementalDecoder; runs: () => number } {
  let runs = 0;
  const c = d.chunks!;
  const decoder: IncrementalDecoder = { ...oneStep(d), chunks: { steps: c.steps, run: (...a) => (runs++, c.run(...a)), ready: (choice) => c.ready(choice) } };
  return { decoder, runs: () => runs };
}

async function withDecoders(cell: RnnCell, batch: number, body: (fast: IncrementalDecoder, slow: IncrementalDecoder) => Promise<void>, opts: DecoderOptions = {}): Promise<void> {
  const model = new RnnLm({ cell, vocabSize: tokenizer.vocabSize, embeddingDim: 12, hiddenSize: 24, numLayers: 2, dropout: 0, tieWeights: false });
  // Large weights: a lively, non-repeating greedy text, so a chunk boundary error would show.
  const weights = new Map([...initWeights(model.specs, 7)].map(([k, w]) => [k, w.map((x) => 3 * x)]));
  const bundle = { model, weights, tokenizer };
  const [fast, slow] = [await createDecoder(bundle, batch, { threads: 1, ...opts }), await createDecoder(bundle, batch, { threads: 1, ...opts })];
  try {
    assert.ok(fast.chunks && fast.chunks.steps > 1, 'a recurrent decoder offers chunks');
    await body(fast, oneStep(slow));
  } finally {
    await Promise.all([fast.release(), slow.release()]);
  }
}

const strip = (r: { timing: unknown; seed: unknown }) => ({ ...r, timing: undefined, seed: undefined });

/** A generation long enough that the decoder compiles its chunk graph for these settings (see generate.ts's CHUNK_PAYBACK); shorter ones then use it too. */
async function warm(d: IncrementalDecoder, opts: GenerateOptions): Promise<void> {
  await generateBatch({ decoder: d, tokenizer }, Array(d.batch).fill('warm'), { ...opts, maxNewTokens: 300 });
}

for (const cell of ['lstm', 'gru'] as const) {
  test(`${cell}: greedy chunks give one-step greedy's tokens and text, batch 1 and a ragged batch of 3`, async () => {
    for (const batch of [1, 3]) {
      await withDecoders(cell, batch, async (fast, slow) => {
        const prompts = ['hello', 'a', 'quick brown'].slice(0, batch);
        // 37: not a multiple of the chunk, so the last chunk runs past the end.
        const opts: GenerateOptions = { greedy: true, maxNewTokens: 37, seed: 1 };
        await warm(fast, opts);
        const counted = counting(fast);
        const got = await generateBatch({ decoder: counted.decoder, tokenizer }, prompts, opts);
        const want = await generateBatch({ decoder: slow, tokenizer }, prompts, opts);
        assert.ok(counted.runs() >= 2, `the chunks were used (${counted.runs()} runs)`);
        assert.deepEqual(got.map(strip), want.map(strip));
        assert.equal(got[0]!.tokens.length, 37);
        assert.ok(new Set(got[0]!.tokens).size > 3, `the text varies: ${got[0]!.text}`);
      });
    }
  });

  test(`${cell}: a stop string met inside a chunk ends the text there; streaming yields every piece`, async () => {
    await withDecoders(cell, 1, async (fast, slow) => {
      const full = await generateBatch({ decoder: slow, tokenizer }, ['hello'], { greedy: true, maxNewTokens: 40 });
      // Stop at text from the middle of the second chunk (the first token comes before any chunk).
      const stop = full[0]!.text.slice(20, 23);
      const at = full[0]!.text.indexOf(stop);
      const opts: GenerateOptions = { greedy: true, maxNewTokens: 40, stop: [stop] };
      await warm(fast, opts);
      const pieces: string[] = [];
      const it = generate({ decoder: fast, tokenizer }, 'hello', opts);
      let r = await it.next();
      for (; !r.done; r = await it.next()) pieces.push(r.value);
      assert.equal(r.value.finishReason, 'stop');
      assert.equal(r.value.text, full[0]!.text.slice(0, at));
      assert.equal(pieces.join(''), r.value.text);
      assert.deepEqual(strip(r.value), strip((await generateBatch({ decoder: slow, tokenizer }, ['hello'], opts))[0]!));
    });
  });

  test(`${cell}: sampled chunks draw one-step sampling's tokens from the same seed, batch 1 and a ragged batch of 3`, async () => {
    for (const batch of [1, 3]) {
      await withDecoders(cell, batch, async (fast, slow) => {
        const prompts = ['hello', 'a', 'quick brown'].slice(0, batch);
        for (const opts of [
          { temperature: 1, seed: 42 },
          { temperature: 0.7, topK: 5, seed: 3 },
          { temperature: 1.2, topP: 0.8, seed: 9 },
          { temperature: 0.9, topK: 8, topP: 0.9, seed: 11 },
        ] as GenerateOptions[]) {
          await warm(fast, opts);
          const counted = counting(fast);
          const got = await generateBatch({ decoder: counted.decoder, tokenizer }, prompts, { ...opts, maxNewTokens: 45 });
          const want = await generateBatch({ decoder: slow, tokenizer }, prompts, { ...opts, maxNewTokens: 45 });
          assert.ok(counted.runs() >= 2, `the chunks were used for ${JSON.stringify(opts)} (${counted.runs()} runs)`);
          assert.deepEqual(got.map(strip), want.map(strip), JSON.stringify(opts));
          assert.ok(new Set(got[0]!.tokens).size > 5, `the text varies: ${got[0]!.text}`);
        }
        const other = await generateBatch({ decoder: fast, tokenizer }, prompts, { temperature: 1, seed: 43, maxNewTokens: 45 });
        assert.notDeepEqual(other[0]!.tokens, (await generateBatch({ decoder: fast, tokenizer }, prompts, { temperature: 1, seed: 42, maxNewTokens: 45 }))[0]!.tokens, 'another seed, another text');
      });
    }
  });

  test(`${cell}: penalties take one step per call`, async () => {
    await withDecoders(cell, 1, async (fast, slow) => {
      for (const opts of [
        { temperature: 0.9, topK: 5, topP: 0.9, repetitionPenalty: 1.3, seed: 42 },
        { greedy: true, repetitionPenalty: 1.5 },
        { greedy: true, frequencyPenalty: 0.5, presencePenalty: 0.3 },
      ] as GenerateOptions[]) {
        const counted = counting(fast);
        const a = await generateBatch({ decoder: counted.decoder, tokenizer }, ['hello'], { ...opts, maxNewTokens: 30 });
        const b = await generateBatch({ decoder: slow, tokenizer }, ['hello'], { ...opts, maxNewTokens: 30 });
        assert.equal(counted.runs(), 0, `no chunk for ${JSON.stringify(opts)}`);
        assert.deepEqual(a.map(strip), b.map(strip));
      }
    });
  });
}

test('lstm --quantize q8: the int8 gates inside a sampled chunk draw one-step sampling\'s tokens', async () => {
  await withDecoders(
    'lstm',
    2,
    async (fast, slow) => {
      const opts: GenerateOptions = { temperature: 0.9, topK: 6, topP: 0.95, seed: 5, maxNewTokens: 40 };
      await warm(fast, opts);
      const counted = counting(fast);
      const got = await generateBatch({ decoder: counted.decoder, tokenizer }, ['hello', 'xy'], opts);
      assert.ok(counted.runs() >= 2);
      assert.deepEqual(got.map(strip), (await generateBatch({ decoder: slow, tokenizer }, ['hello', 'xy'], opts)).map(strip));
    },
    { quantize: 'q8' },
  );
});

test('a cold decoder compiles its chunks only for a generation long enough to repay them; then any length uses them', async () => {
  await withDecoders('lstm', 1, async (fast) => {
    const opts: GenerateOptions = { temperature: 0.8, seed: 2 };
    const runs = async (maxNewTokens: number) => {
      const counted = counting(fast);
      await generateBatch({ decoder: counted.decoder, tokenizer }, ['hello'], { ...opts, maxNewTokens });
      return counted.runs();
    };
    assert.equal(await runs(20), 0, 'short and cold: one call per token');
    assert.ok((await runs(40)) > 0, 'a few dozen tokens: chunks');
    assert.ok((await runs(20)) > 0, 'compiled: chunks at any length');
    assert.ok(fast.chunks!.ready({ greedy: false, temperature: 0.8, topK: 0, topP: 1 }));
    assert.ok(!fast.chunks!.ready({ greedy: true, temperature: 1, topK: 0, topP: 1 }), 'greedy has its own graph, not compiled yet');
  });
});
