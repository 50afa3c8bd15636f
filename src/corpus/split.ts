import { Rng } from '../utils/rng.js';
import type { Document } from './corpus.js';

export interface DocumentSplit {
  train: Document[];
  val: Document[];
}

/**
 * Train/validation split by whole documents, so no text is in both. A seeded
 * shuffle picks validation documents until they hold `valFraction` of the
 * characters; each split keeps at least one document. A single document
 * cannot be split that way, so its last `valFraction` (cut at a line break)
 * becomes validation — the nanoGPT convention, still without overlap.
 */
export function splitDocuments(docs: readonly Document[], valFraction: number, seed: number): DocumentSplit {
  if (!(valFraction >= 0 && valFraction < 1)) throw new RangeError(`valFraction must be in [0, 1), got ${valFraction}`);
  if (valFraction === 0 || docs.length === 0) return { train: [...docs], val: [] };
  if (docs.length === 1) return splitSingle(docs[0]!, valFraction);
  const total = docs.reduce((n, d) => n + d.text.length, 0);
  const order = new Rng(seed).shuffle(docs.map((_, i) => i));
  const isVal = new Array<boolean>(docs.length).fill(false);
  let valChars = 0;
  let valCount = 0;
  for (const i of order) {
    if (valChars >= valFraction * total || valCount === docs.length - 1) break;
    isVal[i] = true;
    valChars += docs[i]!.text.length;
    valCount++;
  }
  return { train: docs.filter((_, i) => !isVal[i]), val: docs.filter((_, i) => isVal[i]) };
}

function splitSingle(doc: Document, valFraction: number): DocumentSplit {
  const target = Math.floor(doc.text.length * (1 - valFraction));
  const lineBreak = doc.text.indexOf('\n', target);
  const cut = lineBreak >= 0 && lineBreak < doc.text.length - 1 ? lineBreak + 1 : target;
  return {
    train: [{ ...doc, name: `${doc.name}#train`, text: doc.text.slice(0, cut) }],
    val: [{ ...doc, name: `${doc.name}#val`, text: doc.text.slice(cut) }],
  };
}
