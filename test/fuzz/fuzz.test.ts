/** A brief run of the reader fuzzer (npm run fuzz runs it for minutes): every reader returns or throws an InkwellError. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fuzzReader, readers } from './readers.js';

test('fuzzed readers return a result or throw an InkwellError, in bounded memory', () => {
  for (const r of readers()) {
    const { tried, failure } = fuzzReader(r, 300, 42);
    assert.equal(failure, undefined, `${r.name}: ${failure}`);
    assert.equal(tried, 300);
  }
  assert.ok(process.resourceUsage().maxRSS < 1024 * 1024, 'peak RSS under 1 GiB');
});
