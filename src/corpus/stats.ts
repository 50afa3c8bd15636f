import type { Document } from './corpus.js';
import { mergeStats, textStats, type TextStats } from './nlp.js';

export interface BookStats extends TextStats {
  name: string;
  /** NLTK's bracketed title line or a PG "Title:", when known. */
  title?: string;
}

export interface CorpusStatsReport {
  books: BookStats[];
  total: TextStats;
}

/** Per-document and total NLP counts (the total vocabulary is the union of the books'). */
export function corpusStatistics(docs: readonly Document[], onBook?: (done: number, name: string) => void): CorpusStatsReport {
  const parts = docs.map((doc, i) => {
    const s = textStats(doc.text);
    onBook?.(i + 1, doc.name);
    return s;
  });
  const books = parts.map(({ vocabularySet: _unused, ...s }, i): BookStats => {
    const doc = docs[i]!;
    const title = doc.metadata.titleLine ?? doc.metadata.title;
    return title === undefined ? { name: doc.name, ...s } : { name: doc.name, title, ...s };
  });
  return { books, total: mergeStats(parts) };
}

/** Fixed-width text table with a TOTAL row. */
export function formatStatsTable(report: CorpusStatsReport): string {
  const header = ['book', 'characters', 'words', 'sentences', 'vocabulary', 'TTR'];
  const row = (name: string, s: TextStats) => [
    name, s.characters.toLocaleString('en-US'), s.words.toLocaleString('en-US'),
    s.sentences.toLocaleString('en-US'), s.vocabulary.toLocaleString('en-US'), s.typeTokenRatio.toFixed(4),
  ];
  const rows = [header, ...report.books.map((b) => row(b.name, b)), row('TOTAL', report.total)];
  const widths = header.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const line = (r: string[]) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ');
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(header), rule, ...rows.slice(1, -1).map(line), rule, line(rows[rows.length - 1]!)].join('\n');
}
