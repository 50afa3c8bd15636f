/**
 * Labelled text for classification: tab-separated files with a header naming
 * a `sentence` (or `text`) column and a `label` column, as GLUE's SST-2; and
 * their batches, right-padded to a length bucket so a few static-shape graphs
 * serve every batch.
 */
import fs from 'node:fs';
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import { InkwellError, errorMessage } from '../utils/errors.js';

export interface LabelledText {
  text: string;
  label: string;
}

export function readTsv(file: string, flag: string): LabelledText[] {
  let raw: string;
  try {
    raw = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new InkwellError(`${flag} ${file}: cannot read it: ${errorMessage(err)}`);
  }
  const lines = raw.split('\n').map((l) => l.replace(/\r$/, ''));
  const header = lines[0]!.split('\t');
  const textCol = header.findIndex((h) => h === 'sentence' || h === 'text');
  const labelCol = header.indexOf('label');
  if (textCol < 0 || labelCol < 0) {
    throw new InkwellError(`${flag} ${file}: the first line must be a tab-separated header with 'sentence' (or 'text') and 'label' columns, got ${JSON.stringify(lines[0]!.slice(0, 80))}`);
  }
  const rows: LabelledText[] = [];
  lines.slice(1).forEach((line, i) => {
    if (line.trim() === '') return;
    const cells = line.split('\t');
    if (cells.length !== header.length || cells[labelCol]!.trim() === '') {
      throw new InkwellError(`${flag} ${file}:${i + 2}: expected ${header.length} tab-separated fields (${header.join(', ')}), got ${cells.length}`);
    }
    rows.push({ text: cells[textCol]!.trim(), label: cells[labelCol]!.trim() });
  });
  if (rows.length === 0) throw new InkwellError(`${flag} ${file}: no examples after the header`);
  return rows;
}

export interface Example {
  ids: number[];
  label: number;
}

/** Token ids truncated to `maxLength` (at least one token: an empty text becomes the pad token). */
export function encodeExamples(rows: readonly LabelledText[], labels: readonly string[], tokenizer: Tokenizer, maxLength: number, padTokenId: number, source: string): Example[] {
  const index = new Map(labels.map((l, i) => [l, i]));
  return rows.map((r, i) => {
    const label = index.get(r.label);
    if (label === undefined) throw new InkwellError(`${source}: example ${i + 1} has label '${r.label}', which the training set does not have`, `labels: ${labels.join(', ')}`);
    const ids = tokenizer.encode(r.text).slice(0, maxLength);
    return { ids: ids.length ? ids : [padTokenId], label };
  });
}

export interface ClassBatch {
  batch: number;
  length: number;
  inputIds: BigInt64Array;
  attentionMask: BigInt64Array;
  labels: BigInt64Array;
  /** Rows that hold real examples (a short last batch is filled with empty rows). */
  real: number;
}

/** The smallest of 16, 32, 64, … (capped at maxLength) that fits the longest example. */
export function bucketLength(longest: number, maxLength: number): number {
  let L = 16;
  while (L < longest && L < maxLength) L *= 2;
  return Math.min(L, maxLength);
}

export function makeBatch(examples: readonly Example[], batch: number, maxLength: number, padTokenId: number): ClassBatch {
  const length = bucketLength(Math.max(...examples.map((e) => e.ids.length)), maxLength);
  const inputIds = new BigInt64Array(batch * length).fill(BigInt(padTokenId));
  const attentionMask = new BigInt64Array(batch * length);
  const labels = new BigInt64Array(batch);
  examples.forEach((e, b) => {
    e.ids.forEach((id, t) => {
      inputIds[b * length + t] = BigInt(id);
      attentionMask[b * length + t] = 1n;
    });
    labels[b] = BigInt(e.label);
  });
  return { batch, length, inputIds, attentionMask, labels, real: examples.length };
}
