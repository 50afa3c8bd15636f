/** A rough bound on what one training step holds in memory, checked before a run allocates anything. */
import os from 'node:os';
import type { LanguageModel } from '../models/lm.js';
import { countParams } from '../nn/params.js';
import { InkwellError } from '../utils/errors.js';

/**
 * Bytes of one training step: weights, gradients and two optimizer slots
 * (4 floats per parameter), plus activations kept for the backward pass —
 * about 16 floats of width per layer and token, a GPT's attention scores
 * (heads × context per token and layer) and the logits with their softmax and
 * gradient (3 × vocabulary per token). An underestimate is fine: the point is
 * refusing sizes that cannot fit at all, before minutes of work.
 */
export function trainingStepBytes(model: LanguageModel, batch: number, context: number): number {
  const d = model.decoding;
  const attention = d.type === 'kv-cache' ? d.heads * context : 0;
  const perToken = model.numLayers * (16 * model.hiddenSize + 2 * attention) + 3 * model.vocabSize;
  return 4 * (batch * context * perToken + 4 * countParams(model.specs));
}

/** Refuses a batch × context that needs more memory than this machine has. */
export function checkTrainingMemory(model: LanguageModel, batch: number, context: number): void {
  const need = trainingStepBytes(model, batch, context);
  const have = os.totalmem();
  if (need > have) {
    const gb = (n: number) => `${(n / 2 ** 30).toFixed(1)} GiB`;
    throw new InkwellError(
      `a training step of batch size ${batch} × context ${context} with this ${model.kind} needs about ${gb(need)} of memory, more than this machine's ${gb(have)}`,
      'lower --batch-size or --context (or the model size)',
    );
  }
}
