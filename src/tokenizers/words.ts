/**
 * Word segmentation for word-level tokenizers: wink-nlp's English lite model
 * (contractions split like spaCy: "didn't" → "did", "n't"). The text
 * preprocessing in data/nlp.ts builds on the same engine.
 */
import { createRequire } from 'node:module';
import type { WinkMethods } from 'wink-nlp';

let cached: WinkMethods | undefined;

/**
 * wink-nlp instance, created on first use. Loading the library and its model
 * takes ~0.4 s, so they are required here rather than imported at the top:
 * every CLI command imports this module, few of them tokenise words.
 */
export function wink(): WinkMethods {
  if (!cached) {
    const require = createRequire(import.meta.url);
    const winkNLP = require('wink-nlp') as typeof import('wink-nlp').default;
    cached = winkNLP(require('wink-eng-lite-web-model') as Parameters<typeof winkNLP>[0]);
  }
  return cached;
}

/** Token kinds that are layout, not words: runs of spaces, tabs and newlines. */
export const LAYOUT_TYPES: ReadonlySet<string> = new Set(['tabCRLF', 'spacing']);

/** The words and punctuation of `text`, as written (layout left out). */
export function splitWords(text: string): string[] {
  const { its } = wink();
  const tokens = wink().readDoc(text).tokens();
  const values = tokens.out(its.value);
  const types = tokens.out(its.type);
  return values.filter((_, i) => !LAYOUT_TYPES.has(types[i]!));
}
