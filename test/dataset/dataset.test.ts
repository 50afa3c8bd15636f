import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Document } from '../../src/corpus/corpus.js';
import { splitDocuments } from '../../src/corpus/split.js';
import { prepareTokenCache, readTokenCacheMeta, openTokenCacheSplit } from '../../src/dataset/token-cache.js';
import { openTokenSource, type TokenSource } from '../../src/dataset/token-source.js';
import { WindowBatcher, toInt64 } from '../../src/dataset/batches.js';
import { Dataset, splitInputTarget } from '../../src/dataset/tf-dataset.js';
import { trainWordLevel } from '../../src/tokenizers/word-level.js';
import { InkwellError } from '../../src/utils/errors.js';
import { tempDir } from '../helpers/books.js';

const doc = (name: string, text: string): Document => ({ name, source: `${name}.txt`, text, encoding: 'utf-8', metadata: {} });
const DOCS = Array.from({ length: 8 }, (_, i) => doc(`book${i}`, `Book ${i}: ${'abcdefgh'.repeat(20 + i)}\n`));
const charTok = trainWordLevel(DOCS.map((d) => d.text), 'char');

/** A TokenSource over 0..n-1, so each token's value is its position. */
function counting(n: number): TokenSource {
  return { length: n, read: (s, c, out, o) => { for (let i = 0; i < c; i++) out[o + i] = s + i; }, close() {} };
}

test('splits by whole documents: seeded, disjoint, complete, never empty', () => {
  const { train, val } = splitDocuments(DOCS, 0.25, 7);
  const names = (ds: Document[]) => ds.map((d) => d.name);
  assert.equal(names(train).filter((n) => names(val).includes(n)).length, 0);
  assert.equal(train.length + val.length, DOCS.length);
  assert.ok(val.length >= 2 && train.length >= 1);
  assert.deepEqual(splitDocuments(DOCS, 0.25, 7), { train, val });
  assert.notDeepEqual(names(splitDocuments(DOCS, 0.25, 8).val), names(val));
  const single = splitDocuments([doc('solo', 'line one\nline two\nline three\nline four\n')], 0.3, 0);
  assert.equal(single.train[0]!.text + single.val[0]!.text, 'line one\nline two\nline three\nline four\n');
  assert.equal(single.val[0]!.text, 'line four\n');
});

test('token cache: uint16 bins + sidecar; documents end with eos; offsets add up', () => {
  const dir = tempDir();
  const meta = prepareTokenCache(DOCS, charTok, dir, { valFraction: 0.25, seed: 1 });
  assert.equal(meta.dtype, 'uint16');
  assert.equal(meta.tokenizerHash, charTok.hash());
  const train = openTokenCacheSplit(dir, 'train', charTok);
  assert.equal(train.length, meta.splits.train.tokens);
  const first = meta.documents.find((d) => d.split === 'train')!;
  const ids = new Int32Array(first.tokens);
  train.read(first.offset, first.tokens, ids, 0);
  const source = DOCS.find((d) => d.name === first.name)!;
  assert.equal(charTok.decode(ids.subarray(0, -1)), source.text);
  assert.equal(ids[ids.length - 1], charTok.special.eos);
  assert.equal(readFileSync(join(dir, 'train.bin')).length, meta.splits.train.tokens * 2);
  assert.deepEqual(readdirSync(dir).sort(), ['meta.json', 'train.bin', 'val.bin']);
});

test('stale or damaged caches are detected with clear errors', () => {
  const dir = tempDir();
  prepareTokenCache(DOCS, charTok, dir);
  const otherTok = trainWordLevel(['different text entirely'], 'char');
  assert.throws(() => readTokenCacheMeta(dir, otherTok), (e: unknown) => e instanceof InkwellError && /is stale/.test(e.message));
  truncateSync(join(dir, 'val.bin'), 3);
  assert.throws(() => readTokenCacheMeta(dir, charTok), (e: unknown) => e instanceof InkwellError && /val\.bin has 3 bytes, expected/.test(e.message));
  writeFileSync(join(dir, 'meta.json'), '{"version": 1, "spl');
  assert.throws(() => readTokenCacheMeta(dir), (e: unknown) => e instanceof InkwellError && /meta\.json is not valid JSON/.test(e.message));
  assert.throws(() => readTokenCacheMeta(tempDir()), (e: unknown) => e instanceof InkwellError && /no token cache/.test(e.message));
});

test('streaming reads (fs.readSync at offsets) equal in-memory reads, uint16 and uint32', () => {
  const dir = tempDir();
  const tokens = Uint32Array.from({ length: 5000 }, (_, i) => (i * 7919) % 70000);
  writeFileSync(join(dir, 'big.bin'), tokens);
  writeFileSync(join(dir, 'small.bin'), Uint16Array.from(tokens, (t) => t % 65536));
  for (const [file, dtype] of [['big.bin', 'uint32'], ['small.bin', 'uint16']] as const) {
    const memory = openTokenSource(join(dir, file), dtype);
    const stream = openTokenSource(join(dir, file), dtype, 0);
    const a = new Int32Array(300), b = new Int32Array(300);
    memory.read(1234, 300, a, 0);
    stream.read(1234, 300, b, 0);
    assert.deepEqual(a, b);
    assert.equal(a[0], dtype === 'uint32' ? tokens[1234] : tokens[1234]! % 65536);
    stream.close();
  }
});

test('random batches: [batch, ctx+1] windows, x/y shifted, seeded, and resumable mid-epoch', () => {
  const opts = { batchSize: 4, contextLength: 8, seed: 3 };
  const a = new WindowBatcher(counting(1000), opts);
  const batch = a.next();
  assert.equal(batch.windows.length, 4 * 9);
  for (let row = 0; row < 4; row++) {
    const w = batch.windows.subarray(row * 9, row * 9 + 9);
    for (let i = 1; i < 9; i++) assert.equal(w[i], w[0]! + i, 'windows are consecutive tokens');
    assert.deepEqual(batch.x.subarray(row * 8, row * 8 + 8), w.subarray(0, 8));
    assert.deepEqual(batch.y.subarray(row * 8, row * 8 + 8), w.subarray(1));
  }
  assert.equal(batch.newEpoch, true);
  const b = new WindowBatcher(counting(1000), opts);
  assert.deepEqual(b.next().windows, batch.windows, 'same seed, same data');
  for (let i = 0; i < 5; i++) a.next();
  const saved = JSON.parse(JSON.stringify(a.state()));
  const expected = [a.next().windows, a.next().windows];
  const resumed = new WindowBatcher(counting(1000), opts);
  resumed.restore(saved);
  assert.deepEqual([resumed.next().windows, resumed.next().windows], expected);
  const other = new WindowBatcher(counting(1000), { ...opts, seed: 4 });
  assert.notDeepEqual(other.next().windows, batch.windows);
  assert.deepEqual(toInt64(Int32Array.from([1, -2])), BigInt64Array.from([1n, -2n]));
});

test('random mode covers each window at most once per epoch, then reshuffles', () => {
  const batcher = new WindowBatcher(counting(500), { batchSize: 3, contextLength: 10, seed: 1 });
  const starts = [...batcher.remainingInEpoch()].flatMap((bt) => [0, 1, 2].map((r) => bt.windows[r * 11]!));
  assert.equal(new Set(starts).size, starts.length);
  assert.ok(starts.length >= 3 * batcher.batchesPerEpoch);
  assert.equal(batcher.state().epoch, 1);
  const next = batcher.next();
  assert.equal(next.epoch, 1);
  assert.equal(next.newEpoch, true);
});

test('sequential batches continue each row across batches (truncated BPTT)', () => {
  const batcher = new WindowBatcher(counting(1003), { batchSize: 4, contextLength: 10, mode: 'sequential' });
  assert.equal(batcher.batchesPerEpoch, Math.floor((Math.floor(1003 / 4) - 1) / 10));
  const b0 = batcher.next(), b1 = batcher.next();
  for (let row = 0; row < 4; row++) {
    assert.equal(b1.x[row * 10], b0.x[row * 10 + 9]! + 1, 'row continues the same stream');
    assert.equal(b0.x[row * 10], row * Math.floor(1003 / 4));
  }
  const rest = [...batcher.remainingInEpoch()];
  assert.equal(rest.length + 2, batcher.batchesPerEpoch);
  assert.equal(batcher.next().newEpoch, true);
});

test('too little data for one batch is a clear error', () => {
  assert.throws(() => new WindowBatcher(counting(20), { batchSize: 4, contextLength: 8 }), /too few for one batch of 4 × 9/);
});

test("the tutorial's fromTensorSlices → batch → map → shuffle → batch flow", () => {
  const ids = Array.from({ length: 101 }, (_, i) => i);
  const sequences = Dataset.fromTensorSlices(ids).batch(11, true).map(splitInputTarget);
  const pipeline = sequences.shuffle(100, 42).batch(3, true);
  const epoch1 = pipeline.toArray();
  assert.equal(epoch1.length, 3);
  for (const batch of epoch1) for (const [input, target] of batch) assert.deepEqual(target, input.map((v) => v + 1));
  const firsts = epoch1.flat().map(([input]) => input[0]);
  assert.equal(new Set(firsts).size, 9);
  assert.ok(firsts.every((f) => f! % 11 === 0));
  const epoch2 = pipeline.toArray();
  assert.notDeepEqual(epoch2, epoch1, 'reshuffles each iteration');
  assert.deepEqual(sequences.shuffle(100, 42).batch(3, true).toArray(), epoch1, 'seeded');
  assert.deepEqual(Dataset.fromTensorSlices(Int32Array.from([5, 6, 7])).take(2).toArray(), [5, 6]);
});
