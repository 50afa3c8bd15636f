import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '../../src/utils/rng.js';
import { AtomicFileWriter, writeFileAtomic, writeJsonAtomic } from '../../src/utils/fs.js';
import { tempDir } from '../helpers/books.js';

test('Rng: seeded, uniform-ish, unbiased ints, resumable state', () => {
  const a = new Rng(42), b = new Rng(42);
  const seqA = Array.from({ length: 5 }, () => a.nextUint32());
  assert.deepEqual(Array.from({ length: 5 }, () => b.nextUint32()), seqA);
  assert.notDeepEqual(Array.from({ length: 5 }, () => new Rng(43).nextUint32()), seqA);
  assert.equal(new Rng('seed').nextUint32(), new Rng('seed').nextUint32());
  const state = a.getState();
  const next = [a.float(), a.int(10), a.int(7)];
  const c = new Rng(0);
  c.setState(state);
  assert.deepEqual([c.float(), c.int(10), c.int(7)], next);
  const counts = new Array<number>(10).fill(0);
  for (let i = 0; i < 20000; i++) counts[a.int(10)]!++;
  assert.ok(counts.every((n) => n > 1800 && n < 2200), String(counts));
  const perm = a.shuffle(Array.from({ length: 50 }, (_, i) => i));
  assert.deepEqual([...perm].sort((x, y) => x - y), Array.from({ length: 50 }, (_, i) => i));
  assert.throws(() => a.int(0), RangeError);
});

test('atomic writes replace whole files and leave no temp files, even when aborted', () => {
  const dir = tempDir();
  const path = join(dir, 'sub', 'out.json');
  writeJsonAtomic(path, { a: 1 });
  assert.deepEqual(JSON.parse(readFileSync(path, 'utf8')), { a: 1 });
  writeFileAtomic(path, 'second');
  assert.equal(readFileSync(path, 'utf8'), 'second');
  const writer = new AtomicFileWriter(path);
  writer.write(Buffer.from('partial'));
  assert.equal(readFileSync(path, 'utf8'), 'second', 'target untouched before commit');
  writer.abort();
  assert.deepEqual(readdirSync(join(dir, 'sub')), ['out.json']);
});
