/**
 * LSTM and GRU language models: token embedding → stacked recurrent layers
 * (dropout between layers while training) → a Linear head to the vocabulary,
 * optionally tied to the embedding.
 *
 * Parameter names, layouts and gate orders are PyTorch's (`nn.Embedding`,
 * `nn.LSTM`/`nn.GRU` with batch_first, `nn.Linear`), so a state dict moves
 * between inkwell and PyTorch unchanged:
 *   embedding.weight [V, E]
 *   rnn.weight_ih_l{k} [G·H, in], rnn.weight_hh_l{k} [G·H, H]
 *   rnn.bias_ih_l{k} [G·H], rnn.bias_hh_l{k} [G·H]
 *   head.weight [V, H] (absent when tied), head.bias [V]
 * with G = 4 gates i,f,g,o (LSTM) or 3 gates r,z,n (GRU).
 *
 * ONNX Runtime's LSTM/GRU ops have no training kernels, so the cells are
 * unrolled over time in plain ops. The input projection of all T steps is one
 * matmul per layer; only the recurrent h·W_hhᵀ runs per step.
 *
 * Recurrent state is carried between windows (truncated BPTT): the forward
 * reads graph inputs `state.h` (and `state.c` for LSTM), each [L, B, H] with
 * layer k's state at index k as PyTorch's (h_0, c_0), and returns the state
 * after the last step under the same names. The train/eval graphs expose it as
 * outputs `state.h.out` / `state.c.out`; feeding those into the next window
 * continues the sequence, and feeding zeros (`zeroState` in lm.ts) starts a new one.
 * State inputs are data, not parameters, so no gradient crosses a window.
 */
import { Graph, staticDim, type Dim, type Tensor } from '../graph/tensor.js';
import * as F from '../graph/ops/index.js';
import { normal, ParamScope, uniform, type ParamSpec, type ParamSpecs } from '../nn/params.js';
import { InkwellError } from '../utils/errors.js';
import { LIMITS } from '../utils/limits.js';
import { configCount, configNumber } from './config-json.js';
import type { BuiltGraph, Decoding, ForwardOptions, ForwardResult, HiddenStates, LanguageModel, StepChoice } from './lm.js';

export type RnnCell = 'lstm' | 'gru';

export interface RnnConfig {
  cell: RnnCell;
  vocabSize: number;
  embeddingDim: number;
  hiddenSize: number;
  numLayers: number;
  /** Dropout on the outputs of every recurrent layer but the last (PyTorch's nn.LSTM `dropout`). */
  dropout: number;
  /** Use the embedding matrix as head.weight (needs embeddingDim == hiddenSize); head.bias stays. */
  tieWeights: boolean;
}

/** Name of the graph input carrying the hidden state, [L, B, H]. */
export const STATE_H = 'state.h';
/** Name of the graph input carrying the LSTM cell state, [L, B, H]. */
export const STATE_C = 'state.c';

const GATES: Record<RnnCell, number> = { lstm: 4, gru: 3 };

export function rnnParamSpecs(c: RnnConfig): ParamSpecs {
  const G = GATES[c.cell] * c.hiddenSize;
  // PyTorch: every nn.LSTM/nn.GRU tensor ~ U(±1/√H); nn.Embedding ~ N(0, 1); nn.Linear ~ U(±1/√in).
  const k = uniform(1 / Math.sqrt(c.hiddenSize));
  const matrix = (shape: number[]): ParamSpec => ({ shape, init: k, decay: true });
  const vector = (n: number): ParamSpec => ({ shape: [n], init: k, decay: false });
  const s: Record<string, ParamSpec> = { 'embedding.weight': { shape: [c.vocabSize, c.embeddingDim], init: normal(1), decay: true } };
  for (let l = 0; l < c.numLayers; l++) {
    s[`rnn.weight_ih_l${l}`] = matrix([G, l === 0 ? c.embeddingDim : c.hiddenSize]);
    s[`rnn.weight_hh_l${l}`] = matrix([G, c.hiddenSize]);
    s[`rnn.bias_ih_l${l}`] = vector(G);
    s[`rnn.bias_hh_l${l}`] = vector(G);
  }
  if (!c.tieWeights) s['head.weight'] = matrix([c.vocabSize, c.hiddenSize]);
  s['head.bias'] = vector(c.vocabSize);
  return s;
}

export function validateRnnConfig(c: RnnConfig): void {
  if (c.cell !== 'lstm' && c.cell !== 'gru') throw new InkwellError(`RNN config: cell must be 'lstm' or 'gru', got '${String(c.cell)}'`);
  for (const [k, v] of Object.entries({ vocabSize: c.vocabSize, embeddingDim: c.embeddingDim, hiddenSize: c.hiddenSize, numLayers: c.numLayers })) {
    if (!Number.isInteger(v) || v <= 0) throw new InkwellError(`RNN config: ${k} must be a positive integer, got ${v}`);
  }
  if (!(c.dropout >= 0 && c.dropout < 1)) throw new InkwellError(`RNN config: dropout must be in [0, 1), got ${c.dropout}`);
  if (c.tieWeights && c.embeddingDim !== c.hiddenSize) {
    throw new InkwellError(
      `RNN config: tied weights need embeddingDim == hiddenSize (got ${c.embeddingDim} and ${c.hiddenSize})`,
      'set them equal or turn tieWeights off',
    );
  }
}

export class RnnLm implements LanguageModel {
  readonly specs: ParamSpecs;
  constructor(readonly config: RnnConfig) {
    validateRnnConfig(config);
    this.specs = rnnParamSpecs(config);
  }

  get kind(): RnnCell {
    return this.config.cell;
  }

  get vocabSize(): number {
    return this.config.vocabSize;
  }

  /** Unbounded: the state carries any length of text. */
  get contextLength(): null {
    return null;
  }

  get hiddenSize(): number {
    return this.config.hiddenSize;
  }

  get numLayers(): number {
    return this.config.numLayers;
  }

  /** Decoding reads a prompt in one graph, then one token per step graph, its state fed back, or takes several steps choosing their tokens in one graph. */
  get decoding(): Decoding {
    return {
      type: 'recurrent',
      buildPromptGraph: (batch, o = {}) => this.promptGraph(batch, o.scope),
      buildStepGraph: (batch, o = {}) => this.decodeGraph(batch, o.scope),
      buildChoiceGraph: (batch, steps, choice, o = {}) => this.decodeGraph(batch, o.scope, { steps, choice }),
    };
  }

  /**
   * Any number of tokens `ids` [B, seq] read by the fused LSTM/GRU kernels (one node per layer for the
   * whole prompt, where the step graph would run once per token) → the last position's `logits` [B, V]
   * and the state. The top layer's final h is its output at the last position, so the head reads only that.
   */
  private promptGraph(batch: Dim, scope?: (g: Graph) => ParamScope): BuiltGraph {
    const { numLayers: L, hiddenSize: H, tieWeights } = this.config;
    const graph = new Graph();
    const p = scope ? scope(graph) : new ParamScope(graph, this.specs);
    const { state } = this.hiddenStates(p, graph.input('ids', 'int64', [batch, 'seq']), { train: false, fused: true });
    const last = F.reshape(F.slice(state[STATE_H]!, 0, L - 1, L), [batch, H]); // B,H
    const logits = F.add(F.matmul(last, tieWeights ? p.get('embedding.weight') : p.get('head.weight'), { transB: true }), p.get('head.bias')); // B,V
    const outputs: Record<string, Tensor> = { logits };
    for (const [name, t] of Object.entries(state)) outputs[`${name}.out`] = t;
    return { graph, outputs };
  }

  /**
   * One decoding step (see Decoding): the embedding Gather, one fused LSTM/GRU node per layer chained
   * in ONNX's [1,B,H] state layout, and the head's matmul, all in that layout — at batch 1 the
   * Reshape/Squeeze nodes of the forward graph's [L,B,H] ↔ [B,H] state shuffling cost more than the
   * arithmetic. It returns the `logits`; or, given a `chunk`, it is the body of a Loop of `steps` steps
   * (one ORT call yields them all, and the body is compiled and its weights pre-packed once): the step
   * ends in an ArgMax or a draw (F.sample, with column `iter` of `draws` [B, steps]) whose token the
   * next step reads, and the Loop returns the tokens as `chunk` [steps, B, 1].
   */
  private decodeGraph(batch: Dim, scope?: (g: Graph) => ParamScope, chunk?: { steps: number; choice: StepChoice }): BuiltGraph {
    const c = this.config;
    const graph = new Graph();
    const p = scope ? scope(graph) : new ParamScope(graph, this.specs);
    const shapes = Object.entries(this.stateShapes(batch));
    // [state][layer]: 1,B,H each.
    const state = shapes.map(([name, shape]) => F.split(graph.input(name, 'float32', shape), 0, c.numLayers));
    const w = (n: string, l: number) => p.get(`rnn.${n}_l${l}`);
    let x = F.gather(p.get('embedding.weight'), F.reshape(graph.input('ids', 'int64', [batch, 1]), [1, batch])); // 1,B,E
    const next = Array.from({ length: c.numLayers }, (_, l) => {
      const h = F.rnnStep(c.cell, x, w('weight_ih', l), w('weight_hh', l), w('bias_ih', l), w('bias_hh', l), state[0]![l]!, state[1]?.[l]);
      x = h[0]!; // 1,B,H: the next layer's input
      return h;
    });
    // The head reads the 1,B,H layout as it is: at batch 1 a Reshape costs more than its work.
    const logits = F.add(F.matmul(x, c.tieWeights ? p.get('embedding.weight') : p.get('head.weight'), { transB: true }), p.get('head.bias')); // 1,B,V
    const outputs: Record<string, Tensor> = {};
    shapes.forEach(([name], i) => (outputs[`${name}.out`] = F.concat(next.map((h) => h[i]!), 0))); // L,B,H
    if (!chunk) return { graph, outputs: { logits: F.reshape(logits, [batch, c.vocabSize]), ...outputs } };
    const { steps, choice } = chunk;
    const iter = graph.input('iter', 'int64', []);
    const draw = () => F.reshape(F.gather(graph.input('draws', 'int64', [batch, steps]), iter, 1), [1, batch, 1]);
    outputs.tokens = F.reshape(choice === 'greedy' ? F.argmax(logits) : F.sample(logits, draw(), choice), [batch, 1]);
    const carry = Object.fromEntries([['ids', 'tokens'], ...shapes.map(([name]) => [name, `${name}.out`])]);
    return { graph, outputs, loop: { steps, iteration: 'iter', carry, scan: { chunk: 'tokens' } } };
  }

  /**
   * config.json: `model_type` 'lstm' or 'gru' with nn.LSTM/nn.GRU's argument
   * names and Hugging Face's vocab_size / tie_word_embeddings.
   */
  configJson(): Record<string, unknown> {
    const c = this.config;
    return {
      model_type: c.cell,
      vocab_size: c.vocabSize,
      embedding_dim: c.embeddingDim,
      hidden_size: c.hiddenSize,
      num_layers: c.numLayers,
      dropout: c.dropout,
      tie_word_embeddings: c.tieWeights,
    };
  }

  static fromConfigJson(j: Record<string, unknown>, source: string): RnnLm {
    if (j.model_type !== 'lstm' && j.model_type !== 'gru') throw new InkwellError(`${source}: model_type '${String(j.model_type)}' is not an RNN`);
    return new RnnLm({
      cell: j.model_type,
      vocabSize: configCount(j, 'vocab_size', source, LIMITS.vocab),
      embeddingDim: configCount(j, 'embedding_dim', source, LIMITS.width),
      hiddenSize: configCount(j, 'hidden_size', source, LIMITS.width),
      numLayers: configCount(j, 'num_layers', source, LIMITS.layers),
      dropout: configNumber(j, 'dropout', source, 0, { min: 0, max: 1, maxExclusive: true }),
      tieWeights: Boolean(j.tie_word_embeddings ?? false),
    });
  }

  /** The carried-state inputs and their shapes for a batch size (static or symbolic): `state.h` (and `state.c`), each [L, B, H]. */
  stateShapes<B extends Dim>(batch: B): Record<string, [number, B, number]> {
    const { numLayers: L, hiddenSize: H, cell } = this.config;
    return cell === 'lstm' ? { [STATE_H]: [L, batch, H], [STATE_C]: [L, batch, H] } : { [STATE_H]: [L, batch, H] };
  }

  forward(p: ParamScope, ids: Tensor, opts: ForwardOptions): ForwardResult {
    const { hidden, state } = this.hiddenStates(p, ids, opts);
    const w = this.config.tieWeights ? p.get('embedding.weight') : p.get('head.weight');
    const logits = F.add(F.matmul(hidden, w, { transB: true }), p.get('head.bias')); // B,T,V
    return { logits, state };
  }

  /** The last recurrent layer's outputs, B,T,H (what the LM head reads, and task heads can read too), and the carried state. */
  hiddenStates(p: ParamScope, ids: Tensor, { train, fused }: ForwardOptions): HiddenStates {
    const c = this.config;
    const B = ids.shape[0]!;
    const inputs = Object.entries(this.stateShapes(B)).map(([name, shape]) => ids.graph.input(name, 'float32', shape));
    const perLayer = inputs.map((s) => F.split(s, 0, c.numLayers).map((t) => F.reshape(t, [B, c.hiddenSize]))); // [state][layer]: B,H
    const stack = (ts: Tensor[]) => F.concat(ts.map((t) => F.reshape(t, [1, B, c.hiddenSize])), 0); // n × (B,H) → n,B,H

    // Time-major from here on, so each step's slice of the input projection is contiguous.
    let x = F.gather(p.get('embedding.weight'), F.transpose(ids, [1, 0])); // T,B,E
    const final: Tensor[][] = inputs.map(() => []); // [state][layer]: B,H
    for (let l = 0; l < c.numLayers; l++) {
      if (l > 0) x = F.dropout(x, train ? c.dropout : 0);
      const [h0, c0] = [perLayer[0]![l]!, perLayer[1]?.[l]];
      if (fused) {
        const w = (n: string) => p.get(`rnn.${n}_l${l}`);
        const [y, ...state] = F.rnnSequence(c.cell, x, w('weight_ih'), w('weight_hh'), w('bias_ih'), w('bias_hh'), h0, c0);
        state.forEach((s, i) => final[i]!.push(s));
        x = y!; // T,B,H
        continue;
      }
      const { ys, state } = c.cell === 'lstm' ? this.lstmLayer(p, l, x, h0, c0!) : this.gruLayer(p, l, x, h0);
      state.forEach((s, i) => final[i]!.push(s));
      x = stack(ys); // T,B,H
    }
    const state = Object.fromEntries(inputs.map((s, i) => [s.name, stack(final[i]!)])); // L,B,H each
    return { hidden: F.transpose(x, [1, 0, 2]), state }; // B,T,H
  }

  /**
   * W_ih·x + b_ih for every step at once (x: T,B,in), as one [T·B, in] @ [in, G·H]
   * matmul, split into T per-step [B, G·H] slices. `extraBias` folds in a bias
   * that would otherwise be added at every step.
   */
  private inputProjection(p: ParamScope, l: number, x: Tensor, extraBias: Tensor | null): Tensor[] {
    const B = x.shape[1]!;
    // The cells are unrolled, one set of nodes per step, so the sequence length must be known.
    const T = staticDim('RNN sequence length', x.shape[0]);
    const bias = extraBias ? F.add(p.get(`rnn.bias_ih_l${l}`), extraBias) : p.get(`rnn.bias_ih_l${l}`);
    const proj = F.add(F.matmul(x, p.get(`rnn.weight_ih_l${l}`), { transB: true }), bias); // T,B,G·H
    return F.split(proj, 0, T).map((t) => F.reshape(t, [B, proj.shape[2]!]));
  }

  /** W_hhᵀ transposed once per layer, not once per step. */
  private recurrentWeight(p: ParamScope, l: number): Tensor {
    return F.transpose(p.get(`rnn.weight_hh_l${l}`), [1, 0]); // H,G·H
  }

  /** PyTorch's LSTM: gates i,f,g,o; c' = f⊙c + i⊙g; h' = o⊙tanh(c'). */
  private lstmLayer(p: ParamScope, l: number, x: Tensor, h0: Tensor, c0: Tensor): { ys: Tensor[]; state: Tensor[] } {
    // Both biases enter the gates as a plain sum, so b_hh joins the one-off input projection.
    const xs = this.inputProjection(p, l, x, p.get(`rnn.bias_hh_l${l}`));
    const whh = this.recurrentWeight(p, l);
    let [h, cell] = [h0, c0];
    const ys: Tensor[] = [];
    for (const xt of xs) {
      const [i, f, g, o] = F.split(F.add(xt, F.matmul(h, whh)), 1, 4) as [Tensor, Tensor, Tensor, Tensor]; // B,H each
      cell = F.add(F.mul(F.sigmoid(f), cell), F.mul(F.sigmoid(i), F.tanh(g)));
      h = F.mul(F.sigmoid(o), F.tanh(cell));
      ys.push(h);
    }
    return { ys, state: [h, cell] };
  }

  /** PyTorch's GRU: gates r,z,n; n = tanh(W_in·x + b_in + r⊙(W_hn·h + b_hn)); h' = (1−z)⊙n + z⊙h. */
  private gruLayer(p: ParamScope, l: number, x: Tensor, h0: Tensor): { ys: Tensor[]; state: Tensor[] } {
    // b_hn sits inside r⊙(…), so b_hh cannot be folded into the input projection.
    const xs = this.inputProjection(p, l, x, null);
    const whh = this.recurrentWeight(p, l);
    const bhh = p.get(`rnn.bias_hh_l${l}`);
    let h = h0;
    const ys: Tensor[] = [];
    for (const xt of xs) {
      const [xr, xz, xn] = F.split(xt, 1, 3) as [Tensor, Tensor, Tensor]; // B,H each
      const [hr, hz, hn] = F.split(F.add(F.matmul(h, whh), bhh), 1, 3) as [Tensor, Tensor, Tensor];
      const r = F.sigmoid(F.add(xr, hr));
      const z = F.sigmoid(F.add(xz, hz));
      const n = F.tanh(F.add(xn, F.mul(r, hn)));
      h = F.add(n, F.mul(z, F.sub(h, n))); // = (1−z)⊙n + z⊙h
      ys.push(h);
    }
    return { ys, state: [h] };
  }
}
