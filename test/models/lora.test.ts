/** LoRA on a tiny GPT: starts at the base model, merges exactly, and its gradients match finite differences. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Gpt } from '../../src/models/gpt.js';
import { buildEvalGraph, buildTrainGraph, GRAD_PREFIX } from '../../src/models/lm.js';
import { LoraModel } from '../../src/models/lora.js';
import { initWeights, ParamScope, type Weights } from '../../src/nn/params.js';
import { pickSpecs, trainableView } from '../../src/models/scopes.js';
import { Graph, F } from '../../src/graph/index.js';
import { CompiledGraph } from '../../src/runtime/session.js';
import { Rng } from '../../src/utils/rng.js';
import { assertClose, checkLossGradients, randomFeeds } from '../helpers/check.js';

const base = new Gpt({ vocabSize: 11, nPositions: 8, nEmbd: 16, nLayer: 2, nHead: 2, bias: true, dropout: 0, layerNormEps: 1e-5 });
const lora = new LoraModel(base, { r: 4, alpha: 8, targetModules: ['c_attn', 'c_proj', 'c_fc'] });
const baseWeights = initWeights(base.specs, 1);
const [B, T] = [2, 6];
const ids = BigInt64Array.from({ length: B * T }, (_, i) => BigInt((i * 7) % 11));

async function logits(model: Gpt | LoraModel, weights: Weights): Promise<Float32Array> {
  const { graph, outputs } = buildEvalGraph(model, B, T, { withLogits: true });
  const c = await CompiledGraph.compile(graph, outputs, { threads: 1 });
  const out = await c.run({ ...Object.fromEntries(weights), ids, targets: ids });
  await c.release();
  return out.logits as Float32Array;
}

function adapterWeights(seed: number, randomB: boolean): Weights {
  const w = new Map([...baseWeights, ...initWeights(pickSpecs(lora.specs, lora.adapterNames), seed)]);
  if (randomB) {
    const rng = new Rng(seed);
    for (const n of lora.adapterNames) if (n.includes('lora_B')) w.set(n, Float32Array.from(w.get(n)!, () => (rng.float() - 0.5) * 0.2));
  }
  return w;
}

test('LoRA names follow PEFT, cover c_attn/c_proj/c_fc of every block, and train under 5% of a GPT', () => {
  assert.deepEqual(lora.targets, ['transformer.h.0.attn.c_attn.weight', 'transformer.h.0.attn.c_proj.weight', 'transformer.h.0.mlp.c_fc.weight', 'transformer.h.0.mlp.c_proj.weight', 'transformer.h.1.attn.c_attn.weight', 'transformer.h.1.attn.c_proj.weight', 'transformer.h.1.mlp.c_fc.weight', 'transformer.h.1.mlp.c_proj.weight']);
  assert.deepEqual(lora.specs['transformer.h.0.attn.c_attn.lora_A.weight']!.shape, [4, 16]);
  assert.deepEqual(lora.specs['transformer.h.0.attn.c_attn.lora_B.weight']!.shape, [48, 4]);
  const tensors = lora.adapterTensors(adapterWeights(2, false));
  assert.ok(tensors.has('base_model.model.transformer.h.1.mlp.c_fc.lora_A.weight'));
  assert.equal(lora.adapterConfig('base').fan_in_fan_out, true);
  const big = new LoraModel(new Gpt({ vocabSize: 4096, nPositions: 64, nEmbd: 128, nLayer: 4, nHead: 4, bias: true, dropout: 0, layerNormEps: 1e-5 }), lora.config);
  const count = (names: string[]) => names.reduce((n, k) => n + big.specs[k]!.shape.reduce((a, b) => a * b, 1), 0);
  assert.ok(count(big.adapterNames) / count(Object.keys(big.specs)) < 0.05);
});

test('LoRA with B = 0 computes exactly the base model', async () => {
  assertClose(await logits(lora, adapterWeights(2, false)), await logits(base, baseWeights), 'logits', 1e-6, 0);
});

test('merged LoRA weights give the same logits as the unmerged adapters', async () => {
  const w = adapterWeights(3, true);
  const unmerged = await logits(lora, w);
  const merged = await logits(base, lora.merge(w));
  assertClose(merged, unmerged, 'logits', 1e-4);
  assert.notDeepEqual([...unmerged.slice(0, 5)], [...(await logits(base, baseWeights)).slice(0, 5)], 'a non-zero B changes the model');
});

test('gradients of the LoRA adapters (base frozen) match finite differences', async () => {
  const tiny = new LoraModel(new Gpt({ vocabSize: 5, nPositions: 4, nEmbd: 8, nLayer: 1, nHead: 2, bias: true, dropout: 0, layerNormEps: 1e-5 }), { r: 2, alpha: 4, targetModules: ['c_attn', 'c_fc'] });
  const view = trainableView(tiny, tiny.adapterNames);
  const g = new Graph();
  const x = g.input('ids', 'int64', [2, 3]);
  const y = g.input('targets', 'int64', [2, 3]);
  const loss = F.crossEntropy(view.forward(new ParamScope(g, view.specs), x, { train: false }).logits, y);
  assert.deepEqual(g.params.map((p) => p.name).sort(), [...tiny.adapterNames].sort(), 'only the adapters are parameters');
  const rng = new Rng(5);
  await checkLossGradients(g, loss, randomFeeds(g, rng, { ids: [0, 1, 2, 3, 4, 1], targets: [1, 2, 3, 4, 0, 2] }), rng);
});

test('a train graph of the LoRA view outputs adapter gradients only', () => {
  const { outputs } = buildTrainGraph(trainableView(lora, lora.adapterNames), B, T);
  const grads = Object.keys(outputs).filter((k) => k.startsWith(GRAD_PREFIX)).map((k) => k.slice(GRAD_PREFIX.length));
  assert.deepEqual(grads.sort(), [...lora.adapterNames].sort());
});
