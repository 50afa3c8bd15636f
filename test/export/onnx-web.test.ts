import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-web';
import ortNode from 'onnxruntime-node';
import { exportModel } from '../../src/export/index.js';
import type { InferenceJson } from '../../src/export/onnx-folder.js';
import { createDecoder } from '../../src/generate/decoders.js';
import { generateText } from '../../src/generate/generate.js';
import type { Gpt } from '../../src/models/gpt.js';
import { bpeGpt, charRnn, type Fixture } from './fixtures.js';

ort.env.wasm.numThreads = 1;
const REPO = path.resolve(fileURLToPath(import.meta.url), '..', '..', '..', '..');

async function exportOnnx(f: Fixture): Promise<string> {
  const out = path.join(path.dirname(f.dir), 'onnx');
  await exportModel(f.dir, { format: 'onnx', out });
  return out;
}

/** Feeds `ids` to the exported model in onnxruntime-web (prompt at once, then one token per call, state carried as inference.json says) and to inkwell's decoder; compares every call's last logits. */
async function compareSteps(f: Fixture, out: string, prompt: number[], steps: number): Promise<number> {
  const info = JSON.parse(fs.readFileSync(path.join(out, 'inference.json'), 'utf8')) as InferenceJson;
  const session = await ort.InferenceSession.create(fs.readFileSync(path.join(out, 'model.onnx')), { executionProviders: ['wasm'] });
  const decoder = await createDecoder(f.bundle, 1);
  const has = (name: string) => info.inputs.some((i) => i.name === name);
  const int64 = (v: number[]) => new ort.Tensor('int64', BigInt64Array.from(v, BigInt), [1, v.length]);
  let state: Record<string, ort.Tensor> = Object.fromEntries(
    info.state.map((s) => {
      const shape = s.initial_shape as number[];
      return [s.input, new ort.Tensor('float32', new Float32Array(shape.reduce((a, b) => a * b, 1)), shape)];
    }),
  );
  let fresh = prompt;
  let seen = 0;
  let worst = 0;
  for (let step = 0; step < steps; step++) {
    const feeds: Record<string, ort.Tensor> = { ...state, [has('input_ids') ? 'input_ids' : 'ids']: int64(fresh) };
    if (has('attention_mask')) feeds.attention_mask = int64(Array(seen + fresh.length).fill(1));
    if (has('position_ids')) feeds.position_ids = int64(fresh.map((_, t) => seen + t));
    const r = await session.run(feeds);
    const V = r.logits!.dims[2]!;
    const web = (r.logits!.data as Float32Array).subarray((fresh.length - 1) * V, fresh.length * V);
    const ours = await decoder.feed(Int32Array.from(fresh));
    for (let v = 0; v < V; v++) worst = Math.max(worst, Math.abs(web[v]! - ours[v]!));
    state = Object.fromEntries(info.state.map((s) => [s.input, r[s.output]!]));
    seen += fresh.length;
    let next = 0;
    for (let v = 1; v < V; v++) if (ours[v]! > ours[next]!) next = v;
    fresh = [next];
  }
  await decoder.release();
  await session.release();
  return worst;
}

/** Runs the README's example (saved next to the files, as the README says) and returns what it prints. */
async function runReadmeExample(out: string, prompt: string, n: number): Promise<string> {
  const readme = fs.readFileSync(path.join(out, 'README.md'), 'utf8');
  const code = /```js\n([\s\S]*?)```/.exec(readme)?.[1];
  assert.ok(code, 'README has a js example');
  assert.ok(code.split('\n').length <= 40, 'the example is short');
  fs.writeFileSync(path.join(out, 'example.mjs'), code);
  // The example imports onnxruntime-web and @huggingface/tokenizers as an app that installed them would.
  fs.symlinkSync(path.join(REPO, 'node_modules'), path.join(out, 'node_modules'), 'dir');
  const { stdout } = await promisify(execFile)(process.execPath, ['example.mjs', prompt, String(n)], { cwd: out });
  return stdout;
}

// The README example starts a second runtime in a child process (seconds on a busy machine): GPT and LSTM run it, GRU shares the LSTM's code path.
for (const [name, make, example] of [['GPT', bpeGpt, true], ['LSTM', async () => charRnn('lstm'), true], ['GRU', async () => charRnn('gru'), false]] as const) {
  test(`onnxruntime-web (wasm) runs the exported ${name} decoder step by step within 1e-4 of inkwell${example ? ', and the README example continues as inkwell does' : ''}`, async () => {
    const f = await make();
    const out = await exportOnnx(f);
    const prompt = f.bundle.tokenizer.encode('the cat sees');
    const worst = await compareSteps(f, out, prompt, 12);
    assert.ok(worst < 1e-4, `largest logit difference ${worst}`);
    if (!example) return;

    const decoder = await createDecoder(f.bundle, 1);
    const ours = await generateText({ decoder, tokenizer: f.bundle.tokenizer }, 'a dog', { greedy: true, maxNewTokens: 10 });
    await decoder.release();
    assert.equal((await runReadmeExample(out, 'a dog', 10)).replace(/\n$/, ''), 'a dog' + ours.text);
  });
}

test('every transformers.js dtype runs in onnxruntime-web as in onnxruntime-node (what transformers.js uses in a browser and in Node)', async () => {
  const f = await bpeGpt();
  const out = path.join(path.dirname(f.dir), 'tjs');
  await exportModel(f.dir, { format: 'transformers.js', out, dtypes: ['fp32', 'q8', 'q4'], fp16: true });
  const { nLayer, nHead, nEmbd } = (f.bundle.model as Gpt).config;
  const ids = f.bundle.tokenizer.encode('the old man follows a red ball.');
  // Tolerances relative to the largest logit; q4's MatMulNBits computes in int8 (accuracy level 4) with kernels that differ between wasm and native code.
  for (const [file, tolerance] of [['model.onnx', 1e-5], ['model_fp16.onnx', 1e-5], ['model_quantized.onnx', 1e-5], ['model_q4.onnx', 2e-2]] as const) {
    const logits: Float32Array[] = [];
    for (const runtime of [ort, ortNode] as const) {
      const session = await (runtime as typeof ort).InferenceSession.create(fs.readFileSync(path.join(out, 'onnx', file)));
      const int64 = (v: number[]) => new runtime.Tensor('int64', BigInt64Array.from(v, BigInt), [1, v.length]);
      const feeds: Record<string, ort.Tensor> = { input_ids: int64(ids), attention_mask: int64(ids.map(() => 1)), position_ids: int64(ids.map((_, t) => t)) };
      for (let i = 0; i < nLayer; i++) for (const kind of ['key', 'value']) feeds[`past_key_values.${i}.${kind}`] = new runtime.Tensor('float32', new Float32Array(0), [1, nHead, 0, nEmbd / nHead]);
      logits.push((await session.run(feeds)).logits!.data as Float32Array);
      await session.release();
    }
    let [worst, scale] = [0, 1];
    for (let i = 0; i < logits[0]!.length; i++) {
      worst = Math.max(worst, Math.abs(logits[0]![i]! - logits[1]![i]!));
      scale = Math.max(scale, Math.abs(logits[1]![i]!));
    }
    assert.ok(worst < tolerance * scale, `${file}: largest difference ${worst} (logits up to ${scale})`);
  }
});
