import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gguf } from '@huggingface/gguf';
import { getLlama, type Llama } from 'node-llama-cpp';
import { exportModel } from '../../src/export/index.js';
import { readGguf } from '../../src/export/gguf-reader.js';
import { createDecoder } from '../../src/generate/decoders.js';
import { loadModel } from '../../src/io/model-dir.js';
import { generateText } from '../../src/generate/generate.js';
import type { Gpt } from '../../src/models/gpt.js';
import { InkwellError } from '../../src/utils/errors.js';
import { assertCliFailures } from '../helpers/run-cli.js';
import { bpeGpt, charGpt, charRnn, PROBE } from './fixtures.js';

const gpt = await bpeGpt();
const out = path.join(path.dirname(gpt.dir), 'gguf');
const exported = exportModel(gpt.dir, { format: 'gguf', out, dtypes: ['f32', 'f16', 'q8_0'] });
const file = (dtype: string) => path.join(out, `model-${dtype}.gguf`);
const PROMPTS = ['the cat', 'my sister hears'];
const NEW = 16;

let llama: Llama | undefined;
after(() => llama?.dispose());

async function inkwellGreedy(prompt: string): Promise<number[]> {
  const decoder = await createDecoder(gpt.bundle, 1);
  const r = await generateText({ decoder, tokenizer: gpt.bundle.tokenizer }, prompt, { greedy: true, maxNewTokens: NEW });
  await decoder.release();
  return r.tokens;
}

test('node-llama-cpp loads the GGUF (f32, f16, q8_0): same token ids as inkwell on accents, emoji, CRLF and tabs, and the same greedy tokens', async () => {
  await exported;
  llama = await getLlama({ gpu: false, build: 'never', progressLogs: false, logLevel: 'error' as never });
  const eos = gpt.bundle.tokenizer.special.eos;
  const expected = await Promise.all(PROMPTS.map(inkwellGreedy));
  for (const dtype of ['f32', 'f16', 'q8_0']) {
    const model = await llama.loadModel({ modelPath: file(dtype) });
    assert.deepEqual([...model.tokenize(PROBE)], gpt.bundle.tokenizer.encode(PROBE), `${dtype}: tokenizer`);
    // One thread: llama.cpp's workers spin while waiting, which on a busy 2-core machine costs seconds per token.
    const context = await model.createContext({ contextSize: 64, threads: 1 });
    for (let p = 0; p < PROMPTS.length; p++) {
      const sequence = context.getSequence();
      const tokens: number[] = [];
      for await (const t of sequence.evaluate(model.tokenize(PROMPTS[p]!), { temperature: 0 })) {
        if (t === eos || tokens.length === NEW) break;
        tokens.push(t);
      }
      sequence.dispose();
      assert.deepEqual(tokens, expected[p], `${dtype}: greedy after '${PROMPTS[p]}'`);
    }
    await context.dispose();
    await model.dispose();
  }
});

test('an imported Hugging Face GPT-2 folder (vocab.json + merges.txt) becomes a GGUF that node-llama-cpp tokenizes and continues as inkwell does', async () => {
  await exported;
  const hfDir = fileURLToPath(new URL('../../../test/fixtures/hf-gpt2', import.meta.url));
  const gguf = path.join(path.dirname(gpt.dir), 'hf-gpt2-gguf');
  await exportModel(hfDir, { format: 'gguf', out: gguf, dtypes: ['f32'] });
  const bundle = loadModel(hfDir);
  const text = 'the theme then the';
  const decoder = await createDecoder(bundle, 1);
  const ours = await generateText({ decoder, tokenizer: bundle.tokenizer }, text, { greedy: true, maxNewTokens: 8, stopAtEos: false });
  await decoder.release();
  llama ??= await getLlama({ gpu: false, build: 'never', progressLogs: false, logLevel: 'error' as never });
  const model = await llama.loadModel({ modelPath: path.join(gguf, 'model-f32.gguf') });
  const prompt = model.tokenize(text);
  assert.deepEqual([...prompt], bundle.tokenizer.encode(text));
  const context = await model.createContext({ contextSize: 32, threads: 1 });
  const sequence = context.getSequence();
  const tokens: number[] = [];
  for await (const t of sequence.evaluate(prompt, { temperature: 0 })) if (tokens.push(t) === 8) break;
  assert.deepEqual(tokens, ours.tokens);
  await context.dispose();
  await model.dispose();
});

test('@huggingface/gguf parses the header: GGUF v3, gpt2 keys, llama.cpp tensor names and types', async () => {
  await exported;
  const c = (gpt.bundle.model as Gpt).config;
  for (const [dtype, type] of [['f32', 0], ['f16', 1], ['q8_0', 8]] as const) {
    const { metadata, tensorInfos } = await gguf(file(dtype), { allowLocalFile: true });
    assert.equal(metadata.version, 3);
    assert.equal(metadata['general.architecture'], 'gpt2');
    assert.equal(metadata['gpt2.block_count'], c.nLayer);
    assert.equal(metadata['gpt2.embedding_length'], c.nEmbd);
    assert.equal(metadata['gpt2.context_length'], c.nPositions);
    assert.equal(metadata['tokenizer.ggml.model'], 'gpt2');
    assert.equal((metadata['tokenizer.ggml.tokens'] as string[]).length, gpt.bundle.model.vocabSize);
    assert.equal(tensorInfos.length, 2 + 12 * c.nLayer + 2);
    const qkv = tensorInfos.find((t) => t.name === 'blk.0.attn_qkv.weight')!;
    assert.deepEqual(qkv.shape.map(Number), [c.nEmbd, 3 * c.nEmbd], 'ne = [in, out]');
    assert.equal(qkv.dtype, type);
    assert.equal(tensorInfos.find((t) => t.name === 'output_norm.bias')!.dtype, 0, 'vectors stay f32');
  }
  const sizes = Object.fromEntries((await exported).files.map((f) => [f.name, f.bytes]));
  assert.ok(sizes['model-f16.gguf']! < sizes['model-f32.gguf']! && sizes['model-q8_0.gguf']! < sizes['model-f16.gguf']!);
});

test('our reader reads the header back and refuses a truncated GGUF, naming the file', async () => {
  await exported;
  const g = readGguf(file('q8_0'));
  assert.equal(g.metadata.get('general.architecture'), 'gpt2');
  assert.deepEqual(g.metadata.get('tokenizer.ggml.tokens'), Array.from({ length: gpt.bundle.model.vocabSize }, (_, id) => gpt.bundle.tokenizer.idToToken(id)));
  const bytes = fs.readFileSync(file('q8_0'));
  for (const [name, cut] of [['data', bytes.length - 100], ['header', 200]] as const) {
    const truncated = path.join(out, `truncated-${name}.gguf`);
    fs.writeFileSync(truncated, bytes.subarray(0, cut));
    assert.throws(() => readGguf(truncated), (e: Error) => e instanceof InkwellError && e.message.includes(truncated) && /truncated/.test(e.message));
  }
  const notGguf = path.join(out, 'not.gguf');
  fs.writeFileSync(notGguf, 'hello world, not a model');
  assert.throws(() => readGguf(notGguf), /not a valid GGUF file.*magic/);
});

test('GGUF refuses tokenizers and models it cannot express, with a clear message', async () => {
  const lstm = charRnn('lstm');
  await assertCliFailures([
    [['export', '--model', lstm.dir, '--format', 'gguf', '--out', path.join(path.dirname(lstm.dir), 'x')], /--format gguf exports GPT models; this is a 'lstm' model/],
    [['export', '--model', gpt.dir, '--format', 'gguf', '--dtype', 'q4_k', '--out', path.join(path.dirname(gpt.dir), 'y')], /--dtype q4_k is not available for this format \(choose from f32, f16, q8_0\)/],
  ]);
  await assert.rejects(exportModel(charGpt().dir, { format: 'gguf', out: path.join(path.dirname(gpt.dir), 'z') }), /--format gguf needs a byte-level BPE tokenizer \(GPT-2 style\); this model's is 'char'/);
});

