/**
 * The two engines compute the same thing: from the same initial weights and
 * the same batches, 10 AdamW steps in inkwell (ONNX Runtime, inkwell's own
 * autodiff and optimizer) and in the PyTorch trainer give the same losses,
 * weights, optimizer slots and trainer state. Dropout is 0, so nothing random
 * remains but the data order, which both draw from inkwell's seeded batcher.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { ModelSpec } from '../../src/train/presets.js';
import type { TrainConfig } from '../../src/train/trainer.js';
import { TINY_GPT, TINY_LSTM, fork, losses, makeRun, noTorch, relativeError, tensors, trainInkwell, trainTorch } from './fixtures.js';

async function assertSameTenSteps(t: TestContext, model: ModelSpec, train: Partial<TrainConfig>): Promise<void> {
  const start = makeRun(model, { maxSteps: 10, ...train });
  const [ink, torch] = [fork(start), fork(start)];
  await Promise.all([trainInkwell(ink, 10), trainTorch(torch, 10)]);

  const [a, b] = [losses(ink), losses(torch)];
  assert.equal(a.size, 10);
  assert.deepEqual([...b.keys()], [...a.keys()]);
  let lossDiff = 0;
  for (const [step, loss] of a) {
    lossDiff = Math.max(lossDiff, Math.abs(b.get(step)! - loss));
    assert.ok(Math.abs(b.get(step)! - loss) < 1e-4, `step ${step}: loss ${b.get(step)} in PyTorch, ${loss} in inkwell`);
  }
  // The runs moved: a test of equal weights after no training would prove nothing.
  assert.ok(a.get(10)! < a.get(1)! - 0.05, `loss fell from ${a.get(1)} to ${a.get(10)}`);

  const worst: Record<string, number> = {};
  const worstElement: Record<string, number> = {};
  for (const file of ['model.safetensors', 'optimizer.safetensors']) {
    const [wa, wb] = [tensors(ink, file), tensors(torch, file)];
    assert.deepEqual([...wb.keys()].sort(), [...wa.keys()].sort(), `${file}: the same tensor names`);
    for (const [name, x] of wa) {
      const err = relativeError(...functional(name, wb.get(name)!, x));
      worst[file] = Math.max(worst[file] ?? 0, err.norm);
      worstElement[file] = Math.max(worstElement[file] ?? 0, err.max);
      assert.ok(err.norm < 1e-4, `${file} ${name}: relative error ${err.norm.toExponential(2)}`);
      assert.ok(err.max < 1e-3, `${file} ${name}: largest difference ${err.max.toExponential(2)} of the tensor's largest entry`);
    }
  }
  t.diagnostic(`max |Δloss| ${lossDiff.toExponential(2)}; relative error (norm): weights ${worst['model.safetensors']!.toExponential(2)}, optimizer slots ${worst['optimizer.safetensors']!.toExponential(2)}; largest single difference: weights ${worstElement['model.safetensors']!.toExponential(2)}, optimizer slots ${worstElement['optimizer.safetensors']!.toExponential(2)} of their tensor's largest entry`);
  const state = (dir: string) => JSON.parse(fs.readFileSync(path.join(dir, 'trainer_state.json'), 'utf8')) as Record<string, unknown>;
  const [sa, sb] = [state(ink), state(torch)];
  for (const k of ['version', 'step', 'bestStep', 'evalsWithoutImprovement', 'data', 'rng', 'config']) assert.deepEqual(sb[k], sa[k], `trainer_state.json ${k}`);
  assert.ok(Math.abs((sb.bestValLoss as number) - (sa.bestValLoss as number)) < 1e-4, 'the same validation loss');
  assert.ok(fs.existsSync(path.join(torch, 'best', 'model.safetensors')), 'PyTorch keeps the best model in best/');
}

/**
 * The parts of a tensor the model's function depends on. The key bias (the
 * middle third of c_attn.bias) adds q·b_k to every score of a query, which
 * softmax cancels: its gradient is zero but for rounding, and Adam, which
 * divides by the gradient's own scale, turns that noise into ±lr steps with
 * engine-dependent signs. Nothing the model computes depends on it.
 */
function functional(name: string, a: Float32Array, b: Float32Array): [Float32Array, Float32Array] {
  if (!/attn\.c_attn\.bias$/.test(name)) return [a, b];
  const C = b.length / 3;
  const cut = (t: Float32Array) => Float32Array.of(...t.subarray(0, C), ...t.subarray(2 * C));
  return [cut(a), cut(b)];
}

test('10 AdamW steps of a GPT: inkwell and PyTorch agree (losses and weights within 1e-4)', { skip: noTorch }, async (t) => {
  await assertSameTenSteps(t, TINY_GPT, {});
});

test('10 AdamW steps of an LSTM with carried state (truncated BPTT): inkwell and PyTorch agree', { skip: noTorch }, async (t) => {
  await assertSameTenSteps(t, TINY_LSTM, { sampling: 'sequential', contextLength: 8, gradAccum: 2 });
});
