import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { AutoModelForCausalLM, AutoTokenizer, Tensor, env, type PreTrainedModel, type PreTrainedTokenizer } from '@huggingface/transformers';
import { exportModel } from '../../src/export/index.js';
import type { Gpt } from '../../src/models/gpt.js';
import { CompiledGraph, type Feed } from '../../src/runtime/session.js';
import type { QuantizeMode } from '../../src/graph/quantize.js';
import { runCli } from '../helpers/run-cli.js';
import { bpeGpt } from './fixtures.js';

env.allowRemoteModels = false;

const gpt = await bpeGpt();
const out = path.join(path.dirname(gpt.dir), 'tjs');
const NEW = 16;
const PROMPTS = ['the cat', 'a dog sees the'];

async function inkwellGreedy(prompt: string): Promise<number[]> {
  const r = await runCli(['generate', '--model', gpt.dir, '--prompt', prompt, '--greedy', '--json', '--max-new-tokens', String(NEW)]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout).tokens as number[];
}

/** Mean next-token loss of `ids` from [1, T, V] logits. */
function meanLoss(logits: Float32Array, ids: readonly number[], V: number, offset = 1): number {
  let sum = 0;
  for (let t = 0; t + 1 < ids.length; t++) {
    const row = logits.subarray((t + offset - 1) * V, (t + offset) * V);
    let max = -Infinity;
    for (const x of row) max = Math.max(max, x);
    let z = 0;
    for (const x of row) z += Math.exp(x - max);
    sum += Math.log(z) + max - row[ids[t + 1]!]!;
  }
  return sum / (ids.length - 1);
}

/** inkwell's own loss on `ids` in one pass of its decode graph (float32, or weights quantized as the export's: activations are then quantized over the same tokens). */
async function inkwellLoss(ids: readonly number[], quantize?: QuantizeMode): Promise<number> {
  const gptModel = gpt.bundle.model as Gpt;
  const { graph, outputs } = gptModel.buildDecodeGraph();
  const session = await CompiledGraph.compile(graph, { logits: outputs.logits! }, { bake: gpt.bundle.weights, quantize });
  const { nLayer, nHead, nEmbd } = gptModel.config;
  const T = ids.length;
  const feeds: Record<string, Feed> = {
    input_ids: { data: BigInt64Array.from(ids, BigInt), dims: [1, T] },
    attention_mask: { data: new BigInt64Array(T).fill(1n), dims: [1, T] },
    position_ids: { data: BigInt64Array.from(ids, (_, t) => BigInt(t)), dims: [1, T] },
  };
  for (let i = 0; i < nLayer; i++) for (const kind of ['key', 'value']) feeds[`past_key_values.${i}.${kind}`] = { data: new Float32Array(0), dims: [1, nHead, 0, nEmbd / nHead] };
  const logits = (await session.run(feeds)).logits as Float32Array;
  await session.release();
  return meanLoss(logits, ids, gptModel.vocabSize);
}

const newTokens = (row: bigint[], promptLength: number, eos: number): number[] => {
  const ids = row.slice(promptLength).map(Number);
  const end = ids.indexOf(eos);
  return end < 0 ? ids : ids.slice(0, end);
};

test('transformers.js loads every exported dtype; fp32 greedy equals inkwell generate --greedy (alone and left-padded in a batch), q8/q4 losses stay within the quantization delta inkwell measures, fp16 within 2e-3', async () => {
  const result = await exportModel(gpt.dir, { format: 'transformers.js', out, dtypes: ['fp32', 'q8', 'q4'], fp16: true });
  const names = result.files.map((f) => f.name);
  for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'generation_config.json', 'onnx/model.onnx', 'onnx/model_quantized.onnx', 'onnx/model_q4.onnx', 'onnx/model_fp16.onnx']) assert.ok(names.includes(f), f);
  env.localModelPath = path.dirname(out);
  const tokenizer: PreTrainedTokenizer = await AutoTokenizer.from_pretrained('tjs');
  const eos = gpt.bundle.tokenizer.special.eos!;
  const text = 'the old man follows a red ball.\nmy sister hears the river.';
  const ids = gpt.bundle.tokenizer.encode(text);
  const fp32Loss = await inkwellLoss(ids);

  for (const dtype of ['fp32', 'q8', 'q4', 'fp16'] as const) {
    const model: PreTrainedModel = await AutoModelForCausalLM.from_pretrained('tjs', { dtype });
    // Scoring: the whole text in one forward pass.
    const { logits } = (await model({ input_ids: tokenizerIds(ids), attention_mask: tokenizerIds(ids.map(() => 1)) })) as { logits: Tensor };
    const loss = meanLoss(logits.data as Float32Array, ids, logits.dims[2]!);
    if (dtype === 'fp32' || dtype === 'fp16') {
      assert.ok(Math.abs(loss - fp32Loss) < (dtype === 'fp32' ? 1e-4 : 2e-3), `${dtype}: loss ${loss} vs inkwell ${fp32Loss}`);
    } else {
      const quantLoss = await inkwellLoss(ids, dtype);
      const measured = Math.abs(quantLoss - fp32Loss);
      assert.ok(Math.abs(loss - fp32Loss) <= measured + 1e-3, `${dtype}: |${loss} - ${fp32Loss}| exceeds inkwell's measured delta ${measured}`);
    }
    if (dtype === 'fp32') {
      for (const prompt of PROMPTS) {
        const input = tokenizer(prompt);
        const row = ((await model.generate({ ...input, max_new_tokens: NEW, do_sample: false })) as Tensor).tolist()[0] as bigint[];
        assert.deepEqual(newTokens(row, input.input_ids.dims[1]!, eos), await inkwellGreedy(prompt), prompt);
      }
      // Left padding: each row of a batch of two continues as it would alone.
      tokenizer.padding_side = 'left';
      const batch = tokenizer(PROMPTS, { padding: true });
      const rows = ((await model.generate({ ...batch, max_new_tokens: NEW, do_sample: false })) as Tensor).tolist() as bigint[][];
      const width = batch.input_ids.dims[1]!;
      for (let b = 0; b < PROMPTS.length; b++) assert.deepEqual(newTokens(rows[b]!, width, eos), await inkwellGreedy(PROMPTS[b]!), `batch row ${b}`);
    }
    await model.dispose();
  }
});

function tokenizerIds(ids: readonly number[]): Tensor {
  return new Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]);
}
