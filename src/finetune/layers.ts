/**
 * Which layer each parameter belongs to, for freezing and discriminative
 * (layer-wise) learning rates. Depth runs from the embeddings (-1) through
 * the blocks / recurrent layers (0 … L−1) to the top (L: final LayerNorm and
 * head), by the Hugging Face / PyTorch names the models use.
 */
import { InkwellError } from '../utils/errors.js';

export const EMBEDDINGS = -1;

/** The depth of a parameter: -1 embeddings, 0 … L−1 blocks, L top (final LayerNorm, heads, anything after the last block). */
export function layerOf(name: string, layers: number): number {
  if (/^(transformer\.)?(wte|wpe)\.weight$/.test(name) || name === 'embedding.weight') return EMBEDDINGS;
  const block = /(?:^|\.)h\.(\d+)\./.exec(name) ?? /^rnn\.\w+_l(\d+)$/.exec(name);
  return block ? Number(block[1]) : layers;
}

export interface LayerPlan {
  freezeEmbeddings?: boolean;
  /** Freeze blocks 0 … k−1. */
  freezeLayers?: number;
  /** Layer i gets lr·decay^(L−1−i); the embeddings lr·decay^L; the top the full lr. */
  layerLrDecay?: number;
}

/** The trainable names and lr multipliers that a plan gives `names` (all of the model's parameters, in order). */
export function planLayers(names: readonly string[], layers: number, plan: LayerPlan): { trainable: string[]; lrScale: Record<string, number> } {
  const k = plan.freezeLayers ?? 0;
  if (!Number.isInteger(k) || k < 0 || k > layers) throw new InkwellError(`--freeze-layers must be an integer in [0, ${layers}], got ${k}`);
  const decay = plan.layerLrDecay ?? 1;
  if (!(decay > 0 && decay <= 1)) throw new InkwellError(`--layer-lr-decay must be in (0, 1], got ${decay}`);
  const trainable: string[] = [];
  const lrScale: Record<string, number> = {};
  for (const n of names) {
    const l = layerOf(n, layers);
    if ((l === EMBEDDINGS && plan.freezeEmbeddings) || (l >= 0 && l < k)) continue;
    trainable.push(n);
    if (decay !== 1) lrScale[n] = decay ** (layers - 1 - Math.min(l, layers - 1));
  }
  if (trainable.length === 0) throw new InkwellError('every parameter is frozen: nothing to fine-tune');
  return { trainable, lrScale };
}
