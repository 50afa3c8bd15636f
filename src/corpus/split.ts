import { Rng } from '../utils/rng.js';
import type { Document } from './corpus.js';

export interface DocumentSplit {
  train: Document[];
  val: Document[];
}

/** How a corpus is split, computed from lengths alone so that streamed documents split as in-memory ones do. */
export type SplitPlan =
  | { kind: 'documents'; isVal: boolean[] }
  /** A lone document: train is its text before `cut`, validation the rest. */
  | { kind: 'single'; target: number; atLineBreak: boolean };

/**
 * Train/validation split by whole documents, so no text is in both. A seeded
 * shuffle picks validation documents until they hold `valFraction` of the
 * characters; each split keeps at least one document. A single document
 * cannot be split that way, so its last `valFraction` (cut after the first
 * line break at or past the target, unless that is its last character)
 * becomes validation — the nanoGPT convention, still without overlap.
 * `lastInnerNewline` is that document's last line break before its final character.
 */
export function planSplit(lengths: readonly number[], valFraction: number, seed: number, lastInnerNewline = -1): SplitPlan {
  if (!(valFraction >= 0 && valFraction < 1)) throw new RangeError(`valFraction must be in [0, 1), got ${valFraction}`);
  if (valFraction === 0 || lengths.length === 0) return { kind: 'documents', isVal: lengths.map(() => false) };
  if (lengths.length === 1) {
    const target = Math.floor(lengths[0]! * (1 - valFraction));
    return { kind: 'single', target, atLineBreak: lastInnerNewline >= target };
  }
  const total = lengths.reduce((n, l) => n + l, 0);
  const order = new Rng(seed).shuffle(lengths.map((_, i) => i));
  const isVal = new Array<boolean>(lengths.length).fill(false);
  let valChars = 0;
  let valCount = 0;
  for (const i of order) {
    if (valChars >= valFraction * total || valCount === lengths.length - 1) break;
    isVal[i] = true;
    valChars += lengths[i]!;
    valCount++;
  }
  return { kind: 'documents', isVal };
}

/** Where a single document's split falls in `text` (the plan's rule applied to the text itself). */
export function singleCut(text: string, plan: { target: number; atLineBreak: boolean }): number {
  return plan.atLineBreak ? text.indexOf('\n', plan.target) + 1 : plan.target;
}

export function splitDocuments(docs: readonly Document[], valFraction: number, seed: number): DocumentSplit {
  const only = docs.length === 1 ? docs[0]!.text : '';
  const lastInner = only.length >= 2 ? only.lastIndexOf('\n', only.length - 2) : -1;
  const plan = planSplit(docs.map((d) => d.text.length), valFraction, seed, lastInner);
  if (plan.kind === 'documents') return { train: docs.filter((_, i) => !plan.isVal[i]), val: docs.filter((_, i) => plan.isVal[i]) };
  const doc = docs[0]!;
  const cut = singleCut(doc.text, plan);
  return {
    train: [{ ...doc, name: `${doc.name}#train`, text: doc.text.slice(0, cut) }],
    val: [{ ...doc, name: `${doc.name}#val`, text: doc.text.slice(cut) }],
  };
}
