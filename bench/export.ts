/**
 * Exported file sizes per format and dtype, and generation speed of the
 * exported model in transformers.js (Node, onnxruntime-node underneath) and
 * in node-llama-cpp (GGUF) beside inkwell's own decoder on the same model: an
 * initialised GPT 6 × 384 (6 heads, ctx 256) over a 2,048-token byte-level
 * BPE (trained on tiny shakespeare when ../shared has it, else on synthetic
 * text), greedy, batch 1, a 16-token prompt and 128 new tokens. inkwell and
 * transformers.js use every core; llama.cpp one thread (see below).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { env, AutoModelForCausalLM, Tensor } from '@huggingface/transformers';
import { getLlama, type Token } from 'node-llama-cpp';
import { exportModel } from '../src/export/index.js';
import { createDecoder } from '../src/generate/decoders.js';
import { generateText } from '../src/generate/generate.js';
import type { QuantizeMode } from '../src/graph/quantize.js';
import { saveModel } from '../src/io/model-dir.js';
import { Gpt } from '../src/models/gpt.js';
import { countParams, initWeights } from '../src/nn/params.js';
import { trainByteLevelBpe } from '../src/tokenizers/bpe-trainer.js';

const NEW = 128;
const SHAKESPEARE = new URL('../../../shared/data/tinyshakespeare/input.txt', import.meta.url);

function corpus(): string {
  if (fs.existsSync(SHAKESPEARE)) return fs.readFileSync(SHAKESPEARE, 'utf8').slice(0, 300_000);
  const words = ['the', 'king', 'shall', 'not', 'speak', 'of', 'love', 'and', 'death', 'to', 'my', 'lord'];
  return Array.from({ length: 40_000 }, (_, i) => words[(i * 7 + (i >> 3)) % words.length]).join(' ');
}

export async function benchExport(): Promise<unknown[]> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'inkwell-bench-export-'));
  try {
    const tokenizer = trainByteLevelBpe([corpus()], { vocabSize: 2048 });
    const model = new Gpt({ vocabSize: tokenizer.vocabSize, nPositions: 256, nEmbd: 384, nLayer: 6, nHead: 6, bias: true, dropout: 0, layerNormEps: 1e-5 });
    const bundle = { model, weights: initWeights(model.specs, 0), tokenizer };
    const dir = path.join(root, 'gpt');
    saveModel(dir, bundle);
    const results: unknown[] = [];
    const sizes: Record<string, number> = {};
    for (const [format, dtypes, fp16] of [['transformers.js', ['fp32', 'q8', 'q4'], true], ['gguf', ['f32', 'f16', 'q8_0'], false], ['onnx', [], false], ['hf', [], false]] as const) {
      const t0 = performance.now();
      const r = await exportModel(dir, { format, out: path.join(root, format), dtypes, fp16 });
      for (const f of r.files) if (/\.(onnx|gguf|safetensors)$/.test(f.name)) sizes[`${format}/${f.name}`] = f.bytes;
      results.push({ bench: 'export', format, seconds: (performance.now() - t0) / 1000 });
    }
    results.push({ bench: 'export-sizes', model: 'gpt-6x384-ctx256-bpe2048', parameters: countParams(model.specs), bytes: sizes });

    const prompt = tokenizer.encode('ROMEO:\nWhat light through yonder window breaks? It is').slice(0, 16);
    const speed = (engine: string, dtype: string, tokens: number, seconds: number) => ({ bench: 'export-generate', engine, dtype, tokens, tokensPerSecond: tokens / seconds });
    for (const quantize of [undefined, 'q8', 'q4'] as const) {
      const decoder = await createDecoder(bundle, 1, { quantize: quantize as QuantizeMode | undefined });
      const m = { decoder, tokenizer };
      await generateText(m, prompt, { greedy: true, maxNewTokens: 16, stopAtEos: false });
      const t0 = performance.now();
      const r = await generateText(m, prompt, { greedy: true, maxNewTokens: NEW, stopAtEos: false });
      results.push(speed('inkwell', quantize ?? 'fp32', r.tokens.length, (performance.now() - t0) / 1000));
      await decoder.release();
    }

    env.allowRemoteModels = false;
    env.localModelPath = root;
    const ids = new Tensor('int64', BigInt64Array.from(prompt, BigInt), [1, prompt.length]);
    const mask = new Tensor('int64', new BigInt64Array(prompt.length).fill(1n), [1, prompt.length]);
    for (const dtype of ['fp32', 'fp16', 'q8', 'q4'] as const) {
      const tjs = await AutoModelForCausalLM.from_pretrained('transformers.js', { dtype });
      const run = (n: number) => tjs.generate({ input_ids: ids, attention_mask: mask, max_new_tokens: n, min_new_tokens: n, do_sample: false }) as Promise<Tensor>;
      await run(16);
      const t0 = performance.now();
      const out = await run(NEW);
      results.push(speed('transformers.js', dtype, out.dims[1]! - prompt.length, (performance.now() - t0) / 1000));
      await tjs.dispose();
    }

    const llama = await getLlama({ gpu: false, build: 'never', progressLogs: false });
    for (const dtype of ['f32', 'f16', 'q8_0']) {
      const gguf = await llama.loadModel({ modelPath: path.join(root, 'gguf', `model-${dtype}.gguf`) });
      // One thread: llama.cpp's workers spin while they wait, and with two on a shared 2-core machine it fell to ~1.4 tokens/s.
      const context = await gguf.createContext({ contextSize: 256, threads: 1 });
      const run = async (n: number) => {
        const sequence = context.getSequence();
        let count = 0;
        for await (const _ of sequence.evaluate(prompt as Token[], { temperature: 0 })) if (++count >= n) break;
        sequence.dispose();
        return count;
      };
      await run(16);
      const t0 = performance.now();
      const count = await run(NEW);
      results.push({ ...speed('node-llama-cpp', dtype, count, (performance.now() - t0) / 1000), threads: 1 });
      await context.dispose();
      await gguf.dispose();
    }
    await llama.dispose();
    return results;
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}
