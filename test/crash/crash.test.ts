/** A short run of the crash harness (the full one is `npm run crash`): SIGKILLed writers, concurrent readers, exact resumes. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCrashHarness } from './harness.js';

test('6 SIGKILLs across train, classify train and finetune: every checkpoint one committed set, final outputs identical', async () => {
  const c = await runCrashHarness({ kills: 6, maxSeconds: 240, seed: 7 });
  assert.deepEqual(c.failures, []);
  assert.equal(c.kills, 6);
  assert.equal(c.mixedStatesFound, 0);
  assert.equal(c.runsBitIdentical, c.runsCompleted);
  assert.ok(c.killsWithReader >= 3);
});
