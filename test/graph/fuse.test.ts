/** Fusions of emitted graphs: a GPT's residual Add + LayerNormalization pairs become SkipLayerNormalization where no backward reads the statistics. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import onnxProto from 'onnx-proto';
import { toOnnx } from '../../src/graph/onnx.js';
import { Gpt } from '../../src/models/gpt.js';
import { buildEvalGraph, buildTrainGraph } from '../../src/models/lm.js';

const gpt = new Gpt({ vocabSize: 20, nPositions: 16, nEmbd: 16, nLayer: 3, nHead: 2, bias: true, dropout: 0, layerNormEps: 1e-5 });
const ops = (built: { graph: Parameters<typeof toOnnx>[0]; outputs: Parameters<typeof toOnnx>[1] }) =>
  onnxProto.onnx.ModelProto.decode(toOnnx(built.graph, built.outputs).bytes).graph!.node!.map((n) => n.opType!);
const count = (xs: string[], op: string) => xs.filter((x) => x === op).length;

test('the decode graph fuses every LayerNorm with the residual Add before it, the eval graph all but one of broadcast shapes; the train graph keeps LayerNormalization for its backward', () => {
  const decode = ops(gpt.decoding.type === 'kv-cache' ? gpt.decoding.buildGraph() : assert.fail('a GPT decodes with a KV cache'));
  // ln_1 and ln_2 of each block and ln_f, each after a residual sum (ln_1 of block 0 after the embeddings' sum).
  assert.equal(count(decode, 'SkipLayerNormalization'), 2 * 3 + 1, decode.join(' '));
  assert.equal(count(decode, 'LayerNormalization'), 0);
  // In training-shaped graphs the position embeddings [T, C] broadcast over the batch: that sum is no skip input.
  const evaluate = ops(buildEvalGraph(gpt, 2, 8));
  assert.equal(count(evaluate, 'SkipLayerNormalization'), 2 * 3, evaluate.join(' '));
  assert.equal(count(evaluate, 'LayerNormalization'), 1);
  const train = ops(buildTrainGraph(gpt, 2, 8));
  assert.equal(count(train, 'SkipLayerNormalization'), 0);
  assert.equal(count(train, 'LayerNormalization'), 7);
});
