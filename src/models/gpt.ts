/**
 * GPT-2: token + learned position embeddings, n_layer pre-LayerNorm blocks of
 * causal self-attention and a tanh-GELU MLP with residuals, a final LayerNorm,
 * and an output projection tied to the token embedding.
 *
 * Parameter names and layouts are Hugging Face GPT-2's (Conv1D weights stored
 * [in, out]), so a checkpoint loads in transformers as GPT2LMHeadModel.
 */
import { Graph, staticDim, type Tensor } from '../graph/tensor.js';
import * as F from '../graph/ops/index.js';
import { normal, ones, zeros, ParamScope, type ParamSpec, type ParamSpecs } from '../nn/params.js';
import { InkwellError } from '../utils/errors.js';
import { LIMITS } from '../utils/limits.js';
import { configCount, configNumber, type FieldRange } from './config-json.js';
import type { BuiltGraph, DecodeGraphOptions, Decoding, ForwardOptions, ForwardResult, HiddenStates, LanguageModel } from './lm.js';

export interface GptConfig {
  vocabSize: number;
  /** Context length (GPT-2's n_positions, nanoGPT's block_size). */
  nPositions: number;
  nEmbd: number;
  nLayer: number;
  nHead: number;
  /** Biases in Linear layers and LayerNorms (GPT-2 has them). */
  bias: boolean;
  dropout: number;
  layerNormEps: number;
}

export function gptParamSpecs(c: GptConfig): ParamSpecs {
  const C = c.nEmbd;
  const w = (shape: number[], std = 0.02): ParamSpec => ({ shape, init: normal(std), decay: true });
  const b = (n: number): ParamSpec => ({ shape: [n], init: zeros, decay: false });
  const g = (n: number): ParamSpec => ({ shape: [n], init: ones, decay: false });
  // GPT-2 scales the init of the projections that write into the residual stream by 1/√(2·n_layer).
  const residStd = 0.02 / Math.sqrt(2 * c.nLayer);
  const s: Record<string, ParamSpec> = {
    'transformer.wte.weight': w([c.vocabSize, C]),
    'transformer.wpe.weight': w([c.nPositions, C]),
  };
  const linear = (name: string, nIn: number, nOut: number, std = 0.02) => {
    s[`${name}.weight`] = w([nIn, nOut], std);
    if (c.bias) s[`${name}.bias`] = b(nOut);
  };
  const norm = (name: string) => {
    s[`${name}.weight`] = g(C);
    if (c.bias) s[`${name}.bias`] = b(C);
  };
  for (let i = 0; i < c.nLayer; i++) {
    const h = `transformer.h.${i}`;
    norm(`${h}.ln_1`);
    linear(`${h}.attn.c_attn`, C, 3 * C);
    linear(`${h}.attn.c_proj`, C, C, residStd);
    norm(`${h}.ln_2`);
    linear(`${h}.mlp.c_fc`, C, 4 * C);
    linear(`${h}.mlp.c_proj`, 4 * C, C, residStd);
  }
  norm('transformer.ln_f');
  return s;
}

export function validateGptConfig(c: GptConfig): void {
  if (c.nEmbd % c.nHead !== 0) throw new InkwellError(`n_embd (${c.nEmbd}) must be divisible by n_head (${c.nHead})`);
  for (const [k, v] of Object.entries({ vocabSize: c.vocabSize, nPositions: c.nPositions, nEmbd: c.nEmbd, nLayer: c.nLayer, nHead: c.nHead })) {
    if (!Number.isInteger(v) || v <= 0) throw new InkwellError(`GPT config: ${k} must be a positive integer, got ${v}`);
  }
}

export class Gpt implements LanguageModel {
  readonly kind = 'gpt';
  readonly specs: ParamSpecs;
  constructor(readonly config: GptConfig) {
    validateGptConfig(config);
    this.specs = gptParamSpecs(config);
  }

  get vocabSize(): number {
    return this.config.vocabSize;
  }

  get contextLength(): number {
    return this.config.nPositions;
  }

  get hiddenSize(): number {
    return this.config.nEmbd;
  }

  get numLayers(): number {
    return this.config.nLayer;
  }

  /** A GPT decodes over its key/value cache. */
  get decoding(): Decoding {
    const c = this.config;
    return { type: 'kv-cache', layers: c.nLayer, heads: c.nHead, width: c.nEmbd, buildGraph: (o) => this.buildDecodeGraph(o) };
  }

  /** A GPT carries no state between windows. */
  stateShapes(): Record<string, never> {
    return {};
  }

  /** A GPT-2 config.json: transformers loads the checkpoint as GPT2LMHeadModel. */
  configJson(): Record<string, unknown> {
    const c = this.config;
    return {
      model_type: 'gpt2',
      architectures: ['GPT2LMHeadModel'],
      vocab_size: c.vocabSize,
      n_positions: c.nPositions,
      n_ctx: c.nPositions,
      n_embd: c.nEmbd,
      n_layer: c.nLayer,
      n_head: c.nHead,
      n_inner: null,
      activation_function: 'gelu_new',
      resid_pdrop: c.dropout,
      embd_pdrop: c.dropout,
      attn_pdrop: c.dropout,
      layer_norm_epsilon: c.layerNormEps,
      initializer_range: 0.02,
      tie_word_embeddings: true,
      scale_attn_weights: true,
      // Not GPT-2 fields: transformers ignores them; inkwell reads them back.
      inkwell_bias: c.bias,
    };
  }

  static fromConfigJson(j: Record<string, unknown>, source: string): Gpt {
    const num = (k: string, fallback: number, range: FieldRange): number => configNumber(j, k, source, fallback, range);
    if (j.activation_function !== undefined && j.activation_function !== 'gelu_new') {
      throw new InkwellError(`${source}: activation_function ${JSON.stringify(j.activation_function)} is not supported (inkwell's GPT uses gelu_new)`);
    }
    const nEmbd = configCount(j, 'n_embd', source, LIMITS.width);
    const nHead = configCount(j, 'n_head', source, nEmbd);
    if (nEmbd % nHead !== 0) throw new InkwellError(`${source}: 'n_head' (${nHead}) must divide 'n_embd' (${nEmbd})`);
    return new Gpt({
      vocabSize: configCount(j, 'vocab_size', source, LIMITS.vocab),
      nPositions: configCount(j, 'n_positions', source, LIMITS.context),
      nEmbd,
      nLayer: configCount(j, 'n_layer', source, LIMITS.layers),
      nHead,
      bias: j.inkwell_bias === undefined ? true : Boolean(j.inkwell_bias),
      dropout: num('resid_pdrop', 0, { min: 0, max: 1, maxExclusive: true }),
      // An epsilon ≤ 0 divides by zero in LayerNorm; one above 1 swamps the variance it guards.
      layerNormEps: num('layer_norm_epsilon', 1e-5, { min: 0, minExclusive: true, max: 1 }),
    });
  }

  forward(p: ParamScope, ids: Tensor, opts: ForwardOptions): ForwardResult {
    return { logits: this.lmHead(p, this.hiddenStates(p, ids, opts).hidden) };
  }

  /** B,T → B,T,C: the final LayerNorm's output, which the tied LM head reads and task heads (e.g. sequence classification) can read too. */
  hiddenStates(p: ParamScope, ids: Tensor, { train }: ForwardOptions): HiddenStates {
    const c = this.config;
    const T = staticDim('GPT training sequence', ids.shape[1]);
    if (T > c.nPositions) throw new InkwellError(`sequence length ${T} exceeds the model's context of ${c.nPositions}`);
    const drop = (x: Tensor) => F.dropout(x, train ? c.dropout : 0);
    const posEmb = F.slice(p.get('transformer.wpe.weight'), 0, 0, T); // T,C
    const x = drop(F.add(F.gather(p.get('transformer.wte.weight'), ids), posEmb)); // B,T,C
    const causal = causalBias(ids, T);
    const [B, C, H] = [ids.shape[0]!, c.nEmbd, c.nHead];
    const attend = (_layer: number, qkv: Tensor) => {
      // Split heads (B,T,3C → 3 × B,H,T,D), attend, merge heads (→ B,T,C).
      const [q, k, v] = F.split(qkv, -1, 3).map((t) => F.transpose(F.reshape(t, [B, T, H, C / H]), [0, 2, 1, 3])) as [Tensor, Tensor, Tensor];
      return F.reshape(F.transpose(this.attend(q, k, v, causal, train), [0, 2, 1, 3]), [B, T, C]);
    };
    return { hidden: this.trunk(p, x, attend, drop), state: {} };
  }

  /**
   * The incremental-decoding graph: `input_ids`, `attention_mask` (over past + new
   * tokens), `position_ids` and each layer's key/value cache → `logits` and the
   * cache's update. Batch, new-token count and past length are symbolic, so one
   * compiled session serves the prompt, every later token, and a zero-length past.
   * - `cache: 'heads'` (default), the layout Hugging Face and transformers.js use:
   *   `past_key_values.{i}.key|value` [batch, n_head, past, head_dim] →
   *   `present.{i}.key|value` [batch, n_head, past+seq, head_dim].
   * - `cache: 'append'`: `cache.{i}.key|value` [batch, past, n_embd], heads merged, and
   *   `attention_bias` [batch, 1, seq, past+seq] (see attentionBias) in place of the mask: its
   *   caller (a batch-1 decoder, every slot filled) makes it in JavaScript, as the ~15 small nodes
   *   that derive it from a mask cost ~8% of a decoding step.
   * Both also return `new` [batch, 2·n_layer·seq, n_embd], the new tokens' rows alone
   * (per sequence, layer i's keys as rows [2i·seq, (2i+1)·seq), its values next), for a
   * caller that keeps the cache itself (KvCacheDecoder, KvCacheSlotDecoder) and fetches
   * only those: onnxruntime-node copies every returned output into a fresh JavaScript
   * buffer, and copying the whole cache out costs more per token than attending over it
   * (2.4× the time at a past of 100). One output, not two a layer: each fetched output
   * costs its own crossing (13 → 2 outputs for 6 layers: q4 and q8 tokens 2.5–9% faster,
   * float32 1–2.5%).
   * `scope` lets a wrapper (LoRA) substitute its view of the weights.
   */
  buildDecodeGraph(opts: DecodeGraphOptions = {}): BuiltGraph {
    const c = this.config;
    const H = c.nHead;
    const D = c.nEmbd / H;
    const layout = opts.cache ?? 'heads';
    if (layout !== 'heads' && layout !== 'append') throw new InkwellError(`buildDecodeGraph: cache must be 'heads' or 'append', got ${String(layout)}`);
    const perHead = layout === 'heads';
    const g = new Graph();
    const p = opts.scope ? opts.scope(g) : new ParamScope(g, this.specs);
    const ids = g.input('input_ids', 'int64', ['batch', 'seq']);
    const bias = perHead ? attentionBias(ids, g.input('attention_mask', 'int64', ['batch', 'past+seq'])) : g.input('attention_bias', 'float32', ['batch', 1, 'seq', 'past+seq']);
    const positionIds = g.input('position_ids', 'int64', ['batch', 'seq']);
    const [cacheName, cacheShape] = perHead ? ['past_key_values', ['batch', H, 'past', D]] : ['cache', ['batch', 'past', c.nEmbd]];
    const past = Array.from({ length: c.nLayer }, (_, i) => ({
      key: g.input(`${cacheName}.${i}.key`, 'float32', cacheShape),
      value: g.input(`${cacheName}.${i}.value`, 'float32', cacheShape),
    }));

    const outputs: Record<string, Tensor> = {};
    const fresh: Tensor[] = []; // each layer's new key and value rows, batch,seq,C each
    const attend = (i: number, qkv: Tensor) => {
      const [q, k, v] = F.split(qkv, -1, 3) as [Tensor, Tensor, Tensor]; // batch,seq,C each
      const heads = (t: Tensor) => F.transpose(F.reshape(t, ['batch', 'seq', H, D]), [0, 2, 1, 3]); // batch,H,seq,D
      const key = perHead ? F.concat([past[i]!.key, heads(k)], 2) : F.concat([past[i]!.key, k], 1);
      const value = perHead ? F.concat([past[i]!.value, heads(v)], 2) : F.concat([past[i]!.value, v], 1);
      fresh.push(k, v);
      if (perHead) Object.assign(outputs, { [`present.${i}.key`]: key, [`present.${i}.value`]: value });
      return F.multiHeadAttention(q, key, value, bias, H);
    };
    const x = F.add(F.gather(p.get('transformer.wte.weight'), ids), F.gather(p.get('transformer.wpe.weight'), positionIds));
    const logits = this.lmHead(p, this.trunk(p, x, attend, (t) => t));
    // Along seq, so that one Concat is the only node added (a leading layer axis needs a Reshape for each input).
    return { graph: g, outputs: { logits, new: F.concat(fresh, 1), ...outputs } };
  }

  /** The blocks and final LayerNorm, shared by training and decoding: B,T,C → B,T,C. */
  private trunk(p: ParamScope, x: Tensor, attend: AttendFn, drop: (t: Tensor) => Tensor): Tensor {
    for (let i = 0; i < this.config.nLayer; i++) {
      const h = `transformer.h.${i}`;
      // Causal self-attention: project to q, k, v (B,T,3C) and attend (→ B,T,C).
      const y = attend(i, this.linear(p, `${h}.attn.c_attn`, this.ln(p, `${h}.ln_1`, x)));
      x = F.add(x, drop(this.linear(p, `${h}.attn.c_proj`, y)));
      x = F.add(x, drop(this.mlp(p, h, this.ln(p, `${h}.ln_2`, x))));
    }
    return this.ln(p, 'transformer.ln_f', x);
  }

  /** lm_head is tied to wte: logits = x · wteᵀ, B,T,C → B,T,vocab. */
  private lmHead(p: ParamScope, x: Tensor): Tensor {
    return F.matmul(x, p.get('transformer.wte.weight'), { transB: true });
  }

  /** softmax(q·kᵀ/√D + causal) · v: B,H,T,D each → B,H,T,D, with `causal` the additive mask of causalBias. */
  private attend(q: Tensor, k: Tensor, v: Tensor, causal: Tensor, train: boolean): Tensor {
    const D = staticDim('head size', q.shape[3]);
    let att = F.mul(F.matmul(q, k, { transB: true }), 1 / Math.sqrt(D)); // B,H,T,T
    att = F.add(att, causal);
    att = F.dropout(F.softmax(att), train ? this.config.dropout : 0);
    return F.matmul(att, v);
  }

  private ln(p: ParamScope, name: string, x: Tensor): Tensor {
    return F.layerNorm(x, p.get(`${name}.weight`), p.maybe(`${name}.bias`), this.config.layerNormEps);
  }

  private linear(p: ParamScope, name: string, x: Tensor): Tensor {
    const y = F.matmul(x, p.get(`${name}.weight`));
    const b = p.maybe(`${name}.bias`);
    return b ? F.add(y, b) : y;
  }

  private mlp(p: ParamScope, h: string, x: Tensor): Tensor {
    return this.linear(p, `${h}.mlp.c_proj`, F.gelu(this.linear(p, `${h}.mlp.c_fc`, x)));
  }
}

export type { KvCacheLayout } from './lm.js';

/** Attention of layer i: its c_attn output, queries, keys and values side by side (B,T,3C) → B,T,C. */
type AttendFn = (layer: number, qkv: Tensor) => Tensor;


/**
 * [T, T] additive mask: 0 where query t may attend to key s ≤ t, -1e9 where not. Added rather than
 * selected with Where: the scores' gradient then passes through unchanged (softmax's gradient is exactly
 * 0 at a masked score), where a Where costs a full pass over B·H·T·T scores each way (~4% of a
 * 6×384 GPT's training step). After softmax the two agree bit for bit: exp(x − 1e9 − max) is 0.
 */
function causalBias(ref: Tensor, T: number): Tensor {
  const m = new Float32Array(T * T).fill(-1e9);
  for (let t = 0; t < T; t++) for (let s = 0; s <= t; s++) m[t * T + s] = 0;
  return ref.graph.constant(m, 'float32', [T, T]);
}

/**
 * One additive mask for every layer and head, [batch, 1, seq, past+seq]: 0 where a query may look, -1e9
 * where not. Query t sits at slot past + t of the cache; it may see slots s ≤ past + t that `mask` keeps.
 */
function attentionBias(ids: Tensor, mask: Tensor): Tensor {
  const slots = F.arange(mask, 1); // past+seq
  const querySlot = F.add(F.arange(ids, 1), F.sub(F.dimSize(mask, 1), F.dimSize(ids, 1))); // seq
  const causal = F.cast(F.less(slots, F.reshape(F.add(querySlot, 1), ['seq', 1])), 'float32'); // seq, past+seq
  const keep = F.cast(F.reshape(F.greater(mask, 0), ['batch', 1, 1, 'past+seq']), 'float32');
  return F.mul(F.sub(F.mul(causal, keep), 1), 1e9);
}
