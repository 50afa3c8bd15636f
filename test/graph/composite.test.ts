/** Gradients through whole models: a transformer block end to end, against finite differences. */
import { test } from 'node:test';
import { Graph, F } from '../../src/graph/index.js';
import { Gpt } from '../../src/models/gpt.js';
import { ParamScope, initWeights } from '../../src/nn/params.js';
import { Rng } from '../../src/utils/rng.js';
import { checkForward, checkLossGradients, type Values } from '../helpers/check.js';

test('softmax cross-entropy through a transformer block (LN, causal attention, GELU MLP, residuals, tied head) matches finite differences', async () => {
  const model = new Gpt({ vocabSize: 7, nPositions: 6, nEmbd: 8, nLayer: 1, nHead: 2, bias: true, dropout: 0, layerNormEps: 1e-5 });
  const [B, T] = [2, 5];
  const g = new Graph();
  const scope = new ParamScope(g, model.specs);
  const ids = g.input('ids', 'int64', [B, T]);
  const targets = g.input('targets', 'int64', [B, T]);
  const loss = F.crossEntropy(model.forward(scope, ids, { train: false }).logits, targets);

  // Larger-than-GPT-2 init so attention is far from uniform and every path carries signal.
  const rng = new Rng(7);
  const feeds: Values = { ids: Float64Array.from({ length: B * T }, () => rng.int(7)), targets: Float64Array.from({ length: B * T }, () => rng.int(7)) };
  for (const [name, w] of initWeights(model.specs, 3)) {
    feeds[name] = Float64Array.from(w, (v) => (model.specs[name]!.init.kind === 'normal' ? v * 20 : v + (rng.float() - 0.5) * 0.5));
  }
  await checkForward(g, [loss], feeds);
  await checkLossGradients(g, loss, feeds, rng, { maxPerParam: 12 });
});
