/** Mean validation loss of a model on a token source, batched as the trainer evaluates (same fixed batches every call). */
import { WindowBatcher } from '../data/batches.js';
import type { TokenSource } from '../data/token-source.js';
import { shapeSize, staticShape } from '../graph/tensor.js';
import type { ModelBundle } from '../io/model-dir.js';
import { buildEvalGraph } from '../models/lm.js';
import { CompiledGraph, type TypedArray } from '../runtime/session.js';

export interface ValLossOptions {
  batchSize: number;
  contextLength: number;
  batches: number;
  threads?: number;
}

export async function validationLoss(bundle: ModelBundle, source: TokenSource, o: ValLossOptions): Promise<number> {
  const { graph, outputs } = buildEvalGraph(bundle.model, o.batchSize, o.contextLength);
  const step = await CompiledGraph.compile(graph, outputs, { threads: o.threads });
  // Seed 1, as Trainer.evaluate: the numbers compare with the run's own val_loss records.
  const batcher = new WindowBatcher(source, { batchSize: o.batchSize, contextLength: o.contextLength, mode: 'random', seed: 1 });
  const stateInputs = step.inputs.filter((i) => i.name.startsWith('state.'));
  let sum = 0;
  try {
    for (let i = 0; i < o.batches; i++) {
      const b = batcher.next();
      const feeds: Record<string, TypedArray> = { ...Object.fromEntries(bundle.weights), ids: b.x, targets: b.y };
      for (const s of stateInputs) feeds[s.name] = new Float32Array(shapeSize(staticShape(s.name, s.shape)));
      sum += ((await step.run(feeds)).loss as Float32Array)[0]!;
    }
  } finally {
    await step.release();
  }
  return sum / o.batches;
}
