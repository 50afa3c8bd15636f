/** Validation loss of a language model, as the trainer and fine-tuning measure it. */
import { WindowBatcher } from '../dataset/batches.js';
import type { TokenSource } from '../dataset/token-source.js';
import { buildEvalGraph, type LanguageModel } from '../models/lm.js';
import type { CompiledStep } from '../runtime/step.js';

export interface ValidationOptions {
  batchSize: number;
  contextLength: number;
  /** Batches averaged. */
  batches: number;
}

/**
 * Mean loss over `batches` random windows of `source`, every sequence from a
 * zero state. The batches are seeded (seed 1) and the same at every call, so
 * evaluations during a run, and after it, compare.
 */
export async function validationLoss(step: CompiledStep, model: LanguageModel, source: TokenSource, o: ValidationOptions): Promise<number> {
  const { batchSize: B, contextLength: T } = o;
  const batcher = new WindowBatcher(source, { batchSize: B, contextLength: T, mode: 'random', seed: 1 });
  let sum = 0;
  for (let i = 0; i < o.batches; i++) {
    const b = batcher.next();
    const out = await step.run(`eval:${B}x${T}`, () => buildEvalGraph(model, B, T), { ids: b.x, targets: b.y }, { fetch: ['loss'] });
    sum += (out.loss as Float32Array)[0]!;
  }
  return sum / o.batches;
}
