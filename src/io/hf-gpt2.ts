/**
 * Hugging Face GPT-2 checkpoints as inkwell weights. transformers saves
 * GPT2LMHeadModel's tensors with the `transformer.` prefix, but the Hub's
 * GPT-2 files (and GPT2Model saves) name them without it (`wte.weight`,
 * `h.0.attn.c_attn.weight`, …); older files also carry each block's causal
 * mask (`h.N.attn.bias`) and `h.N.attn.masked_bias` as buffers, and may store
 * `lm_head.weight`, a copy of the tied token embedding. Those are recomputed
 * by inkwell's graph, so they are checked or dropped, never loaded.
 */
import type { Weights } from '../nn/params.js';
import { InkwellError } from '../utils/errors.js';

const BUFFER = /^(transformer\.)?h\.\d+\.attn\.(bias|masked_bias)$/;

/** GPT-2 config fields inkwell's GPT cannot honour, with the values it implements. */
const UNSUPPORTED: Record<string, unknown> = { scale_attn_by_inverse_layer_idx: true, reorder_and_upcast_attn: true, add_cross_attention: true };

export function checkGpt2Config(config: Record<string, unknown>, source: string): void {
  for (const [k, bad] of Object.entries(UNSUPPORTED)) {
    if (config[k] === bad) throw new InkwellError(`${source}: ${k}=${String(bad)} is not supported by inkwell's GPT-2`);
  }
  const inner = config.n_inner;
  if (inner !== undefined && inner !== null && inner !== 4 * (config.n_embd as number)) {
    throw new InkwellError(`${source}: n_inner=${JSON.stringify(inner)} is not supported (inkwell's MLP is 4·n_embd wide)`);
  }
}

/** inkwell's name → the checkpoint's, for every tensor that is loaded (not the mask buffers, nor the tied lm_head copy). */
export function gpt2TensorNames(names: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const name of names) {
    if (BUFFER.test(name) || name === 'lm_head.weight') continue;
    out.set(name.startsWith('transformer.') ? name : `transformer.${name}`, name);
  }
  return out;
}

/** Renames a GPT-2 checkpoint's tensors to inkwell's names, dropping the mask buffers and the tied lm_head copy. */
export function normalizeGpt2Weights(weights: Weights, source: string): Weights {
  const out: Weights = new Map();
  for (const [ours, theirs] of gpt2TensorNames([...weights.keys()])) out.set(ours, weights.get(theirs)!);
  const lmHead = weights.get('lm_head.weight');
  const wte = out.get('transformer.wte.weight');
  if (lmHead && wte && (lmHead.length !== wte.length || lmHead.some((v, i) => v !== wte[i]))) {
    throw new InkwellError(`${source}: lm_head.weight differs from wte.weight`, "inkwell's GPT-2 ties the output head to the token embedding, as GPT-2 does");
  }
  return out;
}
