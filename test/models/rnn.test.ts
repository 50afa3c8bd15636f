/**
 * LSTM and GRU language models: equal to PyTorch (torch_ref.py's RNNLM,
 * test/fixtures/torch-{lstm,gru}.json), gradients equal finite differences,
 * and truncated BPTT with carried state equal to one long window.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Graph, F } from '../../src/graph/index.js';
import { buildEvalGraph, buildForwardGraph, buildTrainGraph, GRAD_PREFIX, zeroState } from '../../src/models/lm.js';
import { RnnLm, STATE_C, STATE_H, type RnnCell, type RnnConfig } from '../../src/models/rnn.js';
import { ParamScope, initWeights, size } from '../../src/nn/params.js';
import { CompiledGraph } from '../../src/runtime/session.js';
import { InkwellError } from '../../src/utils/errors.js';
import { Rng } from '../../src/utils/rng.js';
import { assertClose, checkForward, checkLossGradients, type Values } from '../helpers/check.js';
import { loadFixture, runFixture } from '../helpers/fixtures.js';

const tiny = (cell: RnnCell, over: Partial<RnnConfig> = {}): RnnLm =>
  new RnnLm({ cell, vocabSize: 7, embeddingDim: 5, hiddenSize: 4, numLayers: 2, dropout: 0, tieWeights: false, ...over });

const randomIds = (rng: Rng, n: number, vocab: number) => BigInt64Array.from({ length: n }, () => BigInt(rng.int(vocab)));

function compileForward(model: RnnLm, batch: number, seq: number): Promise<CompiledGraph> {
  const { graph, outputs } = buildForwardGraph(model, batch, seq);
  return CompiledGraph.compile(graph, outputs);
}

for (const cell of ['lstm', 'gru'] as const) {
  test(`${cell}: logits, loss and final state match PyTorch, from a random initial state`, async () => {
    const fx = loadFixture(`torch-${cell}.json`);
    const model = new RnnLm(fx.config as unknown as RnnConfig);
    for (const [name, spec] of Object.entries(model.specs)) assert.deepEqual(fx.weights[name]?.shape, spec.shape, name);
    assert.equal(Object.keys(fx.weights).length, Object.keys(model.specs).length);
    const out = await runFixture(model, fx);
    assertClose(out.logits!, fx.logits.data, 'logits');
    assertClose(out.loss!, [fx.loss], 'loss');
    for (const [name, t] of Object.entries(fx.state_out!)) assertClose(out[`${name}.out`]!, t.data, name);
  });

  test(`${cell}: two windows with carried state give the logits and state of one window twice as long`, async () => {
    const model = tiny(cell);
    const [B, T, V] = [2, 4, 7];
    const weights = Object.fromEntries(initWeights(model.specs, 5));
    const ids = randomIds(new Rng(6), B * 2 * T, V);
    const window = (w: number) => BigInt64Array.from({ length: B * T }, (_, i) => ids[Math.floor(i / T) * 2 * T + w * T + (i % T)]!);

    const long = await compileForward(model, B, 2 * T);
    const whole = await long.run({ ...weights, ...zeroState(model, B), ids });
    const short = await compileForward(model, B, T);
    const first = await short.run({ ...weights, ...zeroState(model, B), ids: window(0) });
    const carried = Object.fromEntries(Object.keys(model.stateShapes(B)).map((n) => [n, first[`${n}.out`]!]));
    const second = await short.run({ ...weights, ...carried, ids: window(1) });
    await Promise.all([long.release(), short.release()]);

    // whole.logits is [B, 2T, V]; each window's is [B, T, V].
    const joined = new Float32Array(B * 2 * T * V);
    for (let b = 0; b < B; b++) {
      joined.set((first.logits as Float32Array).subarray(b * T * V, (b + 1) * T * V), b * 2 * T * V);
      joined.set((second.logits as Float32Array).subarray(b * T * V, (b + 1) * T * V), (b * 2 + 1) * T * V);
    }
    assertClose(joined, whole.logits as Float32Array, 'logits', 1e-5, 1e-5);
    for (const n of Object.keys(carried)) assertClose(second[`${n}.out`]!, whole[`${n}.out`] as Float32Array, n, 1e-5, 1e-5);
  });
}

/** Cross-entropy of the model on random ids/targets/state, with weights and feeds in float64 for the reference. */
async function gradCheck(model: RnnLm, train: boolean): Promise<void> {
  const [B, T, V] = [2, 3, model.vocabSize];
  const g = new Graph();
  const ids = g.input('ids', 'int64', [B, T]);
  const targets = g.input('targets', 'int64', [B, T]);
  const loss = F.crossEntropy(model.forward(new ParamScope(g, model.specs), ids, { train }).logits, targets);

  const rng = new Rng(11);
  const feeds: Values = {
    ids: Float64Array.from({ length: B * T }, () => rng.int(V)),
    targets: Float64Array.from({ length: B * T }, () => rng.int(V)),
  };
  for (const [name, w] of initWeights(model.specs, 12)) feeds[name] = Float64Array.from(w);
  for (const { tensor, kind } of g.inputs) {
    if (tensor.name.startsWith('state.')) feeds[tensor.name] = Float64Array.from({ length: tensor.size }, () => rng.float() * 2 - 1);
    if (kind === 'dropoutMask') feeds[tensor.name] = Float64Array.from({ length: tensor.size }, (_, i) => (i % 3 === 0 ? 0 : 1));
  }
  await checkForward(g, [loss], feeds);
  await checkLossGradients(g, loss, feeds, rng, { maxPerParam: 16 });
}

test('lstm: gradients through two layers, inter-layer dropout and carried-in state match finite differences', async () => {
  await gradCheck(tiny('lstm', { dropout: 0.3 }), true);
});

test('gru: gradients through two layers and a head tied to the embedding match finite differences', async () => {
  await gradCheck(tiny('gru', { embeddingDim: 4, tieWeights: true }), false);
});

test('train graph: dropout only between layers, state outputs, a gradient for every parameter and none for the state', async () => {
  const model = tiny('lstm', { numLayers: 3, dropout: 0.5 });
  const [B, T] = [2, 3];
  const masks = (g: Graph) => g.inputs.filter((i) => i.kind === 'dropoutMask').map((i) => i.tensor.shape);
  const { graph, outputs } = buildTrainGraph(model, B, T);
  assert.deepEqual(masks(graph), [[T, B, 4], [T, B, 4]]);
  assert.deepEqual(masks(buildEvalGraph(model, B, T).graph), []);
  assert.deepEqual(
    Object.keys(outputs).filter((k) => !k.startsWith(GRAD_PREFIX)).sort(),
    ['loss', `${STATE_C}.out`, `${STATE_H}.out`],
  );

  const rng = new Rng(3);
  const compiled = await CompiledGraph.compile(graph, outputs);
  const out = await compiled.run(
    { ...Object.fromEntries(initWeights(model.specs, 4)), ...zeroState(model, B), ids: randomIds(rng, B * T, 7), targets: randomIds(rng, B * T, 7) },
    { random: () => rng.float(), checkFinite: ['loss'] },
  );
  await compiled.release();
  for (const [name, spec] of Object.entries(model.specs)) assert.equal(out[GRAD_PREFIX + name]?.length, size(spec.shape), name);
  assert.equal(out[`${STATE_H}.out`]!.length, 3 * B * 4);
});

test('a symbolic batch dimension runs any batch size and agrees with a static graph; the unrolled length must be static', async () => {
  const model = tiny('gru');
  const T = 3;
  const g = new Graph();
  const { logits, state } = model.forward(new ParamScope(g, model.specs), g.input('ids', 'int64', ['batch', T]), { train: false });
  assert.deepEqual(g.inputs.find((i) => i.tensor.name === STATE_H)!.tensor.shape, [2, 'batch', 4]);
  const dynamic = await CompiledGraph.compile(g, { logits, h: state![STATE_H]! });
  const weights = Object.fromEntries(initWeights(model.specs, 8));
  const rng = new Rng(9);
  for (const B of [1, 3]) {
    const ids = randomIds(rng, B * T, 7);
    const h0 = Float32Array.from({ length: 2 * B * 4 }, () => rng.float() - 0.5);
    const out = await dynamic.run({ ...weights, ids: { data: ids, dims: [B, T] }, [STATE_H]: { data: h0, dims: [2, B, 4] } });
    const fixed = await compileForward(model, B, T);
    const want = await fixed.run({ ...weights, ids, [STATE_H]: h0 });
    await fixed.release();
    assertClose(out.logits!, want.logits as Float32Array, `logits, batch ${B}`, 1e-6, 1e-6);
    assertClose(out.h!, want[`${STATE_H}.out`] as Float32Array, `state, batch ${B}`, 1e-6, 1e-6);
  }
  await dynamic.release();
  const symbolicSeq = new Graph();
  assert.throws(
    () => model.forward(new ParamScope(symbolicSeq, model.specs), symbolicSeq.input('ids', 'int64', [2, 'seq']), { train: false }),
    /RNN sequence length/,
  );
});

test('PyTorch initialisation, weight decay on matrices only, config.json round trip and config errors', () => {
  const model = tiny('gru', { embeddingDim: 4, tieWeights: true });
  assert.equal(model.specs['head.weight'], undefined, 'a tied head reads embedding.weight');
  for (const [name, spec] of Object.entries(model.specs)) {
    assert.equal(spec.decay, spec.shape.length === 2, name);
    const expected = name === 'embedding.weight' ? { kind: 'normal', std: 1 } : { kind: 'uniform', bound: 1 / Math.sqrt(4) };
    assert.deepEqual(spec.init, expected, name);
  }
  assert.deepEqual(model.specs['rnn.weight_ih_l1']!.shape, [12, 4]);
  assert.deepEqual(RnnLm.fromConfigJson(model.configJson(), 'config.json').config, model.config);

  assert.throws(() => tiny('lstm', { tieWeights: true }), (e: Error) => e instanceof InkwellError && /embeddingDim == hiddenSize/.test(e.message));
  assert.throws(() => tiny('lstm', { numLayers: 0 }), /numLayers must be a positive integer/);
  assert.throws(() => RnnLm.fromConfigJson({ model_type: 'gpt2' }, 'c.json'), /c.json: model_type 'gpt2' is not an RNN/);
});
