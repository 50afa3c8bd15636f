/**
 * What every language model (GPT, LSTM, GRU) provides, and the train/eval
 * graphs built from it. A model is a pure description: parameter specs plus a
 * forward function over a graph; weights live outside, in `Weights`.
 */
import { Graph, type Tensor } from '../graph/tensor.js';
import * as F from '../graph/ops/index.js';
import { gradients } from '../graph/autodiff.js';
import type { GraphOutputs } from '../graph/onnx.js';
import { ParamScope, type ParamSpecs } from '../nn/params.js';

export interface ForwardOptions {
  /** Dropout on (training) or off (evaluation). */
  train: boolean;
  /** Inference only: use fused ONNX Runtime kernels where the model has them (LSTM/GRU layers), which have no gradients. */
  fused?: boolean;
}

export interface ForwardResult {
  /** [B, T, vocab] next-token logits. */
  logits: Tensor;
  /** Recurrent state after the last step, by the name of the input that carries it in (RNNs). */
  state?: Record<string, Tensor>;
}

export interface LanguageModel {
  readonly kind: string;
  readonly vocabSize: number;
  readonly specs: ParamSpecs;
  /** The Hugging Face style config.json describing this model. */
  configJson(): Record<string, unknown>;
  /** ids: [B, T] int64 token ids. */
  forward(scope: ParamScope, ids: Tensor, opts: ForwardOptions): ForwardResult;
}

export const GRAD_PREFIX = 'grad.';

/** Inputs `ids`, `targets` [B, T]; outputs `loss`, `grad.<param>` for every parameter, and carried state. */
export function buildTrainGraph(model: LanguageModel, batch: number, ctx: number): { graph: Graph; outputs: GraphOutputs } {
  return buildLossGraph(model, batch, ctx, true);
}

/** Inputs `ids`, `targets` [B, T]; outputs `loss` (dropout off), carried state, and with `withLogits` the `logits` [B, T, V]. */
export function buildEvalGraph(model: LanguageModel, batch: number, ctx: number, opts: { withLogits?: boolean } = {}): { graph: Graph; outputs: GraphOutputs } {
  return buildLossGraph(model, batch, ctx, false, opts.withLogits ?? false);
}

/** Inputs `ids` [B, T] (and carried state); outputs `logits` [B, T, V] and carried state, dropout off. */
export function buildForwardGraph(model: LanguageModel, batch: number, ctx: number): { graph: Graph; outputs: GraphOutputs } {
  const graph = new Graph();
  const { logits, state = {} } = model.forward(new ParamScope(graph, model.specs), graph.input('ids', 'int64', [batch, ctx]), { train: false, fused: true });
  const outputs: Record<string, Tensor> = { logits };
  for (const [name, t] of Object.entries(state)) outputs[`${name}.out`] = t;
  return { graph, outputs };
}

function buildLossGraph(model: LanguageModel, batch: number, ctx: number, train: boolean, withLogits = false) {
  const graph = new Graph();
  const scope = new ParamScope(graph, model.specs);
  const ids = graph.input('ids', 'int64', [batch, ctx]);
  const targets = graph.input('targets', 'int64', [batch, ctx]);
  const { logits, state = {} } = model.forward(scope, ids, { train });
  const loss = F.crossEntropy(logits, targets);
  const outputs: Record<string, Tensor> = withLogits ? { loss, logits } : { loss };
  for (const [name, t] of Object.entries(state)) outputs[`${name}.out`] = t;
  if (train) {
    const params = Object.keys(model.specs).map((n) => scope.get(n));
    gradients(loss, params).forEach((d, i) => (outputs[GRAD_PREFIX + params[i]!.name] = d));
  }
  return { graph, outputs };
}
