/**
 * One LSTM/GRU language-model train step (forward + backward through the
 * unrolled cells, no optimizer) and one forward, at the shape DESIGN.md
 * compares with PyTorch: `torch_ref.py throughput --model lstm --vocab 65
 * --ctx 64 --layers 2 --dim 128 --hidden 256 --batch 32`.
 */
import { buildEvalGraph, buildTrainGraph } from '../src/models/lm.js';
import { RnnLm, type RnnCell } from '../src/models/rnn.js';
import { initWeights } from '../src/nn/params.js';
import { CompiledGraph } from '../src/runtime/session.js';
import { Rng } from '../src/utils/rng.js';
import { timeIt } from './timing.js';

export async function benchRnn(cell: RnnCell, threads?: number): Promise<Record<string, unknown>> {
  const [V, B, T] = [65, 32, 64];
  const model = new RnnLm({ cell, vocabSize: V, embeddingDim: 128, hiddenSize: 256, numLayers: 2, dropout: 0, tieWeights: false });
  const rng = new Rng(0);
  const ids = () => BigInt64Array.from({ length: B * T }, () => BigInt(rng.int(V)));
  const feeds = { ...Object.fromEntries(initWeights(model.specs, 1)), ...model.zeroState(B), ids: ids(), targets: ids() };

  const compileStart = performance.now();
  const train = buildTrainGraph(model, B, T);
  const step = await CompiledGraph.compile(train.graph, train.outputs, { threads });
  const compileS = (performance.now() - compileStart) / 1000;
  const evalGraph = buildEvalGraph(model, B, T);
  const forward = await CompiledGraph.compile(evalGraph.graph, evalGraph.outputs, { threads });

  const t = await timeIt(() => step.run(feeds), { warmup: 3, minRuns: 10, minSeconds: 3 });
  const f = await timeIt(() => forward.run(feeds), { warmup: 3, minRuns: 10, minSeconds: 2 });
  await Promise.all([step.release(), forward.release()]);
  return {
    bench: `rnn-${cell}`,
    config: { vocab: V, batch: B, ctx: T, layers: 2, dim: 128, hidden: 256 },
    threads: threads ?? 'all',
    nodes: train.graph.nodes.length,
    compile_s: compileS,
    step_ms_median: t.median * 1000,
    step_ms_best: t.best * 1000,
    fwd_ms_median: f.median * 1000,
    train_tok_s: (B * T) / t.median,
  };
}
