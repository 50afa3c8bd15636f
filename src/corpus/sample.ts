/**
 * The text a tokenizer is trained on, bounded whatever the corpus size.
 * Character vocabularies count every character of the whole corpus as it
 * streams past (the distinct code points are few, and a rare character left
 * out would become <unk>). Word and BPE training keep per-word counts whose
 * size grows with the text, so they see a bounded sample: the whole corpus
 * while it holds at most SAMPLE_CHARS characters (then the tokenizer is the
 * same as from the whole text), else the opening share of each document in
 * proportion to its length, cut at a space.
 */
import type { CorpusDocument } from './documents.js';

export const SAMPLE_CHARS = 32 * 1024 * 1024;

export function tokenizerTexts(docs: readonly CorpusDocument[], kind: 'char' | 'word' | 'bpe', sampleChars = SAMPLE_CHARS): Iterable<string> {
  if (kind === 'char') return allPieces(docs);
  const total = docs.reduce((n, d) => n + d.chars, 0);
  return docs.map((d) => prefix(d, total <= sampleChars ? Infinity : Math.floor((sampleChars * d.chars) / total)));
}

function* allPieces(docs: readonly CorpusDocument[]): Generator<string> {
  for (const d of docs) yield* d.pieces();
}

/** The document's text up to `budget` characters (cut at its last space), or all of it. */
function prefix(doc: CorpusDocument, budget: number): string {
  const parts: string[] = [];
  let length = 0;
  for (const piece of doc.pieces()) {
    if (length + piece.length > budget) {
      const part = piece.slice(0, budget - length);
      const space = part.lastIndexOf(' ');
      parts.push(space > 0 ? part.slice(0, space) : part);
      break;
    }
    parts.push(piece);
    length += piece.length;
  }
  return parts.join('');
}
