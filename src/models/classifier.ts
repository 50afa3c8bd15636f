/**
 * Sequence classification on a pretrained GPT or LSTM/GRU, as Hugging Face's
 * GPT2ForSequenceClassification: the base model's hidden states, pooled over
 * each sequence, feed a linear `score` head (no bias for GPT-2, as HF; with a
 * bias for RNNs, as nn.Linear). Sequences are right-padded, so with causal
 * attention (or a left-to-right RNN) real tokens never see padding, and the
 * pooling reads the attention mask:
 *   last: the hidden state of each sequence's last real token (HF's choice);
 *   mean: the average over its real tokens.
 * Optional LoRA adapters wrap the base weights through the parameter scope.
 */
import { Graph, type Tensor } from '../graph/tensor.js';
import * as F from '../graph/ops/index.js';
import { gradients } from '../graph/autodiff.js';
import { normal, ParamScope, zeros, type ParamSpec, type ParamSpecs, type Weights } from '../nn/params.js';
import { InkwellError } from '../utils/errors.js';
import { GRAD_PREFIX, type BuiltGraph, type LanguageModel } from './lm.js';
import { LoraModel, type LoraConfig } from './lora.js';
import { FrozenScope, pickSpecs } from './scopes.js';

export type Pooling = 'last' | 'mean';

export interface ClassifierConfig {
  /** Label names by class index (HF's id2label). */
  labels: string[];
  pooling: Pooling;
  /** Longest sequence, in tokens; longer texts are truncated. */
  maxLength: number;
  padTokenId: number;
}

/** By the base's model_type: the Hugging Face architecture name, and whether the score head has a bias (GPT-2's has none; an RNN's is an nn.Linear). */
const HEADS: Record<string, { architecture: string; bias: boolean }> = {
  gpt2: { architecture: 'GPT2ForSequenceClassification', bias: false },
  lstm: { architecture: 'LSTMForSequenceClassification', bias: true },
  gru: { architecture: 'GRUForSequenceClassification', bias: true },
};

function headOf(base: LanguageModel): { architecture: string; bias: boolean } {
  const type = String(base.configJson().model_type);
  const head = HEADS[type];
  if (!head) throw new InkwellError(`a classifier needs a GPT or LSTM/GRU base model, got '${type}'`);
  return head;
}

export class SequenceClassifier {
  readonly specs: ParamSpecs;
  readonly lora: LoraModel | null;

  constructor(readonly base: LanguageModel, readonly config: ClassifierConfig, lora?: LoraConfig) {
    const head = headOf(base);
    if (config.labels.length < 2) throw new InkwellError(`a classifier needs at least 2 labels, got ${config.labels.length}`);
    if (config.pooling !== 'last' && config.pooling !== 'mean') throw new InkwellError(`pooling must be 'last' or 'mean', got '${String(config.pooling)}'`);
    if (base.contextLength !== null && config.maxLength > base.contextLength) {
      throw new InkwellError(`--max-length ${config.maxLength} exceeds the model's context of ${base.contextLength}`);
    }
    this.lora = lora ? new LoraModel(base, lora) : null;
    const K = config.labels.length;
    const score: Record<string, ParamSpec> = { 'score.weight': { shape: [K, base.hiddenSize], init: normal(0.02), decay: true } };
    if (head.bias) score['score.bias'] = { shape: [K], init: zeros, decay: false };
    this.specs = { ...this.languageModel.specs, ...score };
  }

  /** The language model under the head (the base with any LoRA adapters): it decodes and evaluates as its base does. */
  get languageModel(): LanguageModel {
    return this.lora ?? this.base;
  }

  get numLabels(): number {
    return this.config.labels.length;
  }

  /** The head's parameters: what a frozen base trains. */
  get headNames(): string[] {
    return Object.keys(this.specs).filter((n) => n.startsWith('score.'));
  }

  /** input_ids, attention_mask [B, L] int64 → logits [B, numLabels]. */
  logits(p: ParamScope, ids: Tensor, attentionMask: Tensor, train: boolean): Tensor {
    const h = this.languageModel.hiddenStates(p, ids, { train }).hidden; // B,L,C
    const [B, L, C] = h.shape as [number, number, number];
    const mask = F.cast(attentionMask, 'float32'); // B,L
    let w: Tensor;
    if (this.config.pooling === 'last') {
      // Right padding: mask[t] − mask[t+1] is 1 exactly at the last real token.
      w = F.sub(mask, F.pad(F.slice(mask, 1, 1, L), 1, 0, 1));
    } else {
      // An all-padding row (a filler in a short last batch) divides by 1, not 0.
      w = F.div(mask, F.add(F.reduceSum(mask, [1], true), F.cast(F.equal(F.reduceSum(mask, [1], true), 0), 'float32')));
    }
    const pooled = F.reshape(F.matmul(F.reshape(w, [B, 1, L]), h), [B, C]); // B,C
    const logits = F.matmul(pooled, p.get('score.weight'), { transB: true });
    const bias = p.maybe('score.bias');
    return bias ? F.add(logits, bias) : logits;
  }

  /**
   * Inputs `input_ids`, `attention_mask` [B, L] (and `labels` [B] with `train`);
   * outputs `logits` [B, K], and with labels `loss` (mean cross-entropy) and
   * `grad.<name>` for each of `trainable` (default all).
   */
  buildGraph(batch: number, length: number, o: { train: boolean; withLoss: boolean; trainable?: readonly string[] }): BuiltGraph {
    const graph = new Graph();
    const trainableSpecs = o.trainable ? pickSpecs(this.specs, o.trainable) : this.specs;
    const own = new ParamScope(graph, trainableSpecs);
    const scope = o.trainable ? new FrozenScope(own, this.specs) : own;
    const ids = graph.input('input_ids', 'int64', [batch, length]);
    const mask = graph.input('attention_mask', 'int64', [batch, length]);
    const logits = this.logits(scope, ids, mask, o.train);
    const outputs: Record<string, Tensor> = { logits };
    if (o.withLoss) {
      const labels = graph.input('labels', 'int64', [batch]);
      const loss = F.crossEntropy(F.reshape(logits, [batch, 1, this.numLabels]), F.reshape(labels, [batch, 1]));
      outputs.loss = loss;
      if (o.train) {
        const params = Object.keys(trainableSpecs).map((n) => own.get(n));
        gradients(loss, params).forEach((d, i) => (outputs[GRAD_PREFIX + params[i]!.name] = d));
      }
    }
    return { graph, outputs };
  }

  /** Base and head weights with any LoRA adapters merged in: what is saved. */
  exportWeights(weights: Weights): Weights {
    const out = this.lora ? this.lora.merge(weights) : new Map([...weights].filter(([n]) => n in this.base.specs));
    for (const n of this.headNames) out.set(n, weights.get(n)!);
    return out;
  }

  /** The saved classifier (adapters merged): base params and the head. */
  exportSpecs(): ParamSpecs {
    return Object.fromEntries(Object.entries(this.specs).filter(([n]) => n in this.base.specs || n.startsWith('score.')));
  }

  /** A Hugging Face style config: the base config with architectures, id2label/label2id and pad_token_id. */
  configJson(): Record<string, unknown> {
    const c = this.config;
    return {
      ...this.base.configJson(),
      architectures: [headOf(this.base).architecture],
      num_labels: c.labels.length,
      id2label: Object.fromEntries(c.labels.map((l, i) => [String(i), l])),
      label2id: Object.fromEntries(c.labels.map((l, i) => [l, i])),
      pad_token_id: c.padTokenId,
      // GPT-2 pools the last token; inkwell also offers mean pooling and records its choice and length.
      inkwell_pooling: c.pooling,
      inkwell_max_length: c.maxLength,
    };
  }

  /** Reads what `configJson` wrote: `base` is the model built from the same config.json. */
  static fromConfigJson(base: LanguageModel, j: Record<string, unknown>, source: string): SequenceClassifier {
    const id2label = j.id2label as Record<string, string> | undefined;
    if (!id2label || typeof id2label !== 'object') throw new InkwellError(`${source}: no id2label: not a sequence classifier`, 'train one with `inkwell classify train`');
    const labels = Object.keys(id2label).sort((a, b) => Number(a) - Number(b)).map((k) => String(id2label[k]));
    return new SequenceClassifier(base, {
      labels,
      pooling: (j.inkwell_pooling as Pooling | undefined) ?? 'last',
      maxLength: Number(j.inkwell_max_length ?? base.contextLength ?? 128),
      padTokenId: Number(j.pad_token_id ?? 0),
    });
  }
}
