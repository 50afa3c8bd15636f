/**
 * What every language model (GPT, LSTM, GRU) provides, and the train/eval
 * graphs built from it. A model is a pure description: parameter specs plus a
 * forward function over a graph; weights live outside, in `Weights`.
 */
import { Graph, shapeSize, staticShape, type Dim, type Tensor } from '../graph/tensor.js';
import * as F from '../graph/ops/index.js';
import { gradients } from '../graph/autodiff.js';
import type { BuiltGraph, GraphOutputs } from '../graph/onnx.js';
import type { SampleFilters } from '../graph/ops/sample.js';
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

/** The last layer's outputs before the LM head, one contract for every model. */
export interface HiddenStates {
  /** [B, T, hiddenSize]: what the LM head reads, and what task heads (e.g. sequence classification) can read too. */
  hidden: Tensor;
  /** Recurrent state after the last step, by the name of the input that carries it in (empty for models without state). */
  state: Record<string, Tensor>;
}

/** A graph and the outputs to emit from it. */
export type { BuiltGraph } from '../graph/onnx.js';

export interface DecodeGraphOptions {
  /** How the key/value cache is taken and returned (see Gpt.buildDecodeGraph). */
  cache?: KvCacheLayout;
  /** The parameter view the graph reads; wrappers (LoRA) pass their own. Default: the model's own parameters. */
  scope?: (graph: Graph) => ParamScope;
}

/** How a decode graph's steps choose their tokens: the argmax, or a draw from the filtered softmax. */
export type StepChoice = 'greedy' | SampleFilters;

/** How a decode graph takes and returns its key/value cache (see Gpt.buildDecodeGraph). */
export type KvCacheLayout = 'heads' | 'append';

/**
 * How a model decodes one step at a time; generate/decoders.ts picks the decoder by `type`.
 * - 'kv-cache': a decode graph over a key/value cache of `layers` layers of `heads` heads, `width` wide in all;
 * - 'recurrent': graphs over inputs `ids` and the state (stateShapes), returning the state after
 *   the tokens they read as `<name>.out`: `buildPromptGraph` reads `ids` [B, seq] of any length and
 *   `buildStepGraph` one token [B, 1], each returning the `logits` [B, V] after the last;
 *   `buildChoiceGraph` builds one step of a Loop of `steps` (BuiltGraph.loop) that returns `chunk`
 *   [steps, B, 1], the token chosen after each token read (each but the last is read next): the
 *   argmax, or (sampling) a draw with that step's column of `draws` [B, steps] (graph/ops/sample.ts).
 */
export type Decoding =
  | { readonly type: 'kv-cache'; readonly layers: number; readonly heads: number; readonly width: number; buildGraph(opts?: DecodeGraphOptions): BuiltGraph }
  | {
      readonly type: 'recurrent';
      buildPromptGraph(batch: Dim, opts?: Pick<DecodeGraphOptions, 'scope'>): BuiltGraph;
      /** `batch` may be a symbol: one session then serves any number of rows (serve's slots). */
      buildStepGraph(batch: Dim, opts?: Pick<DecodeGraphOptions, 'scope'>): BuiltGraph;
      buildChoiceGraph(batch: number, steps: number, choice: StepChoice, opts?: Pick<DecodeGraphOptions, 'scope'>): BuiltGraph;
    };

/**
 * What every language model (GPT, LSTM, GRU, and wrappers such as LoRA) says
 * about itself, so that training, evaluation, decoding and fine-tuning ask it
 * what it can do instead of testing its class.
 */
export interface LanguageModel {
  readonly kind: string;
  readonly vocabSize: number;
  readonly specs: ParamSpecs;
  /** Longest sequence the model can read (GPT's n_positions), or null when unbounded (recurrent models). */
  readonly contextLength: number | null;
  /** Width of `hiddenStates(...).hidden`. */
  readonly hiddenSize: number;
  /** Blocks (GPT) or recurrent layers (LSTM/GRU), for layer-wise freezing and learning rates. */
  readonly numLayers: number;
  readonly decoding: Decoding;
  /** The Hugging Face style config.json describing this model. */
  configJson(): Record<string, unknown>;
  /** ids: [B, T] int64 token ids. */
  forward(scope: ParamScope, ids: Tensor, opts: ForwardOptions): ForwardResult;
  /** ids: [B, T] → hidden [B, T, hiddenSize] and the carried state. */
  hiddenStates(scope: ParamScope, ids: Tensor, opts: ForwardOptions): HiddenStates;
  /** The carried-state inputs and their shapes for a batch size (empty for models without state). */
  stateShapes(batch: Dim): Record<string, Dim[]>;
}

/** All-zero state for a batch: the start of a sequence (PyTorch's default h_0, c_0); empty for models without state. */
export function zeroState(model: LanguageModel, batch: number): Record<string, Float32Array> {
  return Object.fromEntries(Object.entries(model.stateShapes(batch)).map(([name, shape]) => [name, new Float32Array(shapeSize(staticShape(name, shape)))]));
}

/** The names of the model's carried-state inputs, each returned by its graphs as `<name>.out` (empty for models without state). */
export function stateNames(model: LanguageModel): string[] {
  return Object.keys(model.stateShapes(1));
}

/** Whether the model carries state from one window to the next (recurrent models). */
export function carriesState(model: LanguageModel): boolean {
  return stateNames(model).length > 0;
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

/** Inputs `ids` [B, T] (and carried state); outputs `logits` [B, T, V] and carried state, dropout off. Either size may be a symbol. */
export function buildForwardGraph(model: LanguageModel, batch: Dim, ctx: Dim): { graph: Graph; outputs: GraphOutputs } {
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
