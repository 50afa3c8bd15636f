/**
 * A reference test in llm.c's manner (test/fixtures/torch-train-*.json, written
 * by scripts/make_fixtures.py with PyTorch): for a small GPT and an LSTM, the
 * logits, the loss, every parameter's gradient, and the losses of 10 AdamW
 * steps (run by inkwell's own Trainer) match PyTorch's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Gpt, type GptConfig } from '../../src/models/gpt.js';
import { RnnLm, type RnnConfig } from '../../src/models/rnn.js';
import { buildEvalGraph, buildTrainGraph, GRAD_PREFIX, stateNames, type LanguageModel } from '../../src/models/lm.js';
import type { Weights } from '../../src/nn/params.js';
import { CompiledStep } from '../../src/runtime/step.js';
import type { TrainTask } from '../../src/train/task.js';
import { Trainer } from '../../src/train/trainer.js';
import { assertClose } from '../helpers/check.js';
import { loadFixture, type FixtureTensor, type TorchFixture } from '../helpers/fixtures.js';

interface TrainFixture extends TorchFixture {
  grads: Record<string, FixtureTensor>;
  adamw: { lr: number; betas: [number, number]; eps: number; weight_decay: number; steps: number; decay: string[] };
  losses: number[];
}

/** One fixed batch, every step from a zero state: the task PyTorch's loop runs. */
function fixedBatchTask(model: LanguageModel, weights: Weights, fx: TrainFixture): TrainTask {
  const [B, T] = fx.ids.shape as [number, number];
  const feeds = { ids: BigInt64Array.from(fx.ids.data, BigInt), targets: BigInt64Array.from(fx.targets.data, BigInt) };
  return {
    specs: model.specs,
    weights,
    stateNames: stateNames(model),
    carryState: false,
    hasValidation: false,
    next: () => ({ key: 'train', graph: () => buildTrainGraph(model, B, T), feeds, tokens: B * T, newEpoch: false }),
    evaluate: () => Promise.reject(new Error('no validation')),
    dataState: () => ({}),
    restoreData: () => {},
    checkpointFiles: () => new Map(),
    saveBest: () => {},
  };
}

for (const name of ['gpt', 'lstm']) {
  test(`${name}: logits, loss, every gradient and 10 AdamW steps match PyTorch`, async () => {
    const fx = loadFixture(`torch-train-${name}.json`) as TrainFixture;
    const model: LanguageModel = name === 'gpt' ? new Gpt(fx.config as unknown as GptConfig) : new RnnLm(fx.config as unknown as RnnConfig);
    const [B, T] = fx.ids.shape as [number, number];
    const weights = (): Weights => new Map(Object.entries(fx.weights).map(([k, t]) => [k, Float32Array.from(t.data)]));
    assert.deepEqual(Object.keys(fx.grads).sort(), Object.keys(model.specs).sort(), 'the fixture has a gradient for every parameter');
    assert.deepEqual(Object.keys(model.specs).filter((n) => model.specs[n]!.decay).sort(), [...fx.adamw.decay].sort(), 'weight decay falls on the same parameters');

    const step = new CompiledStep({ weights: weights(), state: stateNames(model), threads: 1 });
    const batch = { ids: BigInt64Array.from(fx.ids.data, BigInt), targets: BigInt64Array.from(fx.targets.data, BigInt) };
    const evalOut = await step.run('eval', () => buildEvalGraph(model, B, T, { withLogits: true }), batch);
    const trainOut = await step.run('train', () => buildTrainGraph(model, B, T), batch);
    await step.release();
    assertClose(evalOut.logits as Float32Array, fx.logits.data, 'logits', 1e-5, 1e-5);
    assert.ok(Math.abs((trainOut.loss as Float32Array)[0]! - fx.loss) < 1e-5, `loss ${(trainOut.loss as Float32Array)[0]} vs PyTorch ${fx.loss}`);
    for (const [param, want] of Object.entries(fx.grads)) {
      const got = trainOut[GRAD_PREFIX + param] as Float32Array;
      assert.equal(got.length, want.data.length, `${param}: gradient size`);
      const scale = Math.max(...want.data.map(Math.abs));
      const worst = Math.max(...want.data.map((e, i) => Math.abs(got[i]! - e)));
      assert.ok(scale > 0, `${param}: PyTorch's gradient is not all zero`);
      assert.ok(worst <= 1e-4 * scale, `${param}: gradient off by ${worst.toExponential(2)}, ${(worst / scale).toExponential(2)} of its largest entry`);
    }

    const { lr, betas, eps, weight_decay: weightDecay, steps } = fx.adamw;
    const losses: number[] = [];
    const trainer = new Trainer({
      task: fixedBatchTask(model, weights(), fx),
      config: { batchSize: B, contextLength: T, maxSteps: steps, optimizer: { name: 'adamw', betas, eps, weightDecay }, schedule: { lr }, logInterval: 1, seed: 0, threads: 1 },
      events: { onStep: (s) => losses.push(s.loss) },
    });
    await trainer.run();
    await trainer.release();
    assert.equal(losses.length, fx.losses.length);
    assert.ok(fx.losses.at(-1)! < fx.losses[0]! - 0.01, 'the reference trajectory moves');
    losses.forEach((l, i) => assert.ok(Math.abs(l - fx.losses[i]!) <= 1e-4, `step ${i + 1}: loss ${l} vs PyTorch ${fx.losses[i]}`));
  });
}
