import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitSentences, tokenizeWords, textStats, mergeStats } from '../../src/corpus/nlp.js';
import { corpusStatistics, formatStatsTable } from '../../src/corpus/stats.js';
import type { Document } from '../../src/corpus/corpus.js';

const TEXT = 'Emma cried. She didn\'t stop the dogs!\n\nThe dogs were running.';

test('splits sentences and words like spaCy (contractions apart, no whitespace tokens)', () => {
  assert.deepEqual(splitSentences(TEXT), ['Emma cried.', "She didn't stop the dogs!", 'The dogs were running.']);
  assert.deepEqual(tokenizeWords('She didn\'t stop.'), ['She', 'did', "n't", 'stop', '.']);
});

test('lowercasing, stop-word removal, lemmas and punctuation filtering', () => {
  assert.deepEqual(tokenizeWords('The Dogs were running.', { lowercase: true }), ['the', 'dogs', 'were', 'running', '.']);
  assert.deepEqual(tokenizeWords('The dogs were running.', { removeStopWords: true, punctuation: false }), ['dogs', 'running']);
  assert.deepEqual(tokenizeWords('The dogs were running.', { lemmatize: true, punctuation: false }), ['the', 'dog', 'be', 'run']);
});

test('per-text stats and corpus totals use the union vocabulary', () => {
  const a = textStats('The dog ran. The dog sat.');
  assert.deepEqual({ words: a.words, sentences: a.sentences, vocabulary: a.vocabulary }, { words: 6, sentences: 2, vocabulary: 4 });
  assert.equal(a.characters, 25);
  assert.equal(a.typeTokenRatio, 4 / 6);
  const b = textStats('A cat ran.');
  const total = mergeStats([a, b]);
  assert.equal(total.words, 9);
  assert.equal(total.vocabulary, 6);
});

test('stats report: table with a total row, and JSON-ready books', () => {
  const docs: Document[] = [
    { name: 'one', source: 'one.txt', text: 'The dog ran.', encoding: 'utf-8', metadata: { titleLine: 'One by Me 1900' } },
    { name: 'two', source: 'two.txt', text: 'A cat sat. It slept.', encoding: 'utf-8', metadata: {} },
  ];
  const report = corpusStatistics(docs);
  assert.equal(report.books[0]!.title, 'One by Me 1900');
  assert.equal(report.total.sentences, 3);
  assert.ok(!('vocabularySet' in report.books[0]!), 'books must serialise without internal sets');
  const table = formatStatsTable(report).split('\n');
  assert.match(table[0]!, /^book\s+characters\s+words\s+sentences\s+vocabulary\s+TTR$/);
  assert.match(table[table.length - 1]!, /^TOTAL\s+32\s+8\s+3\s+8\s+1\.0000$/);
});
