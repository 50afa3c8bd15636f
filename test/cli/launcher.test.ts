/** The `inkwell` command's launcher line (main.ts, launcher.ts): the shell execs node on the same file, with glibc's malloc settings. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLI_GLIBC_TUNABLES, cliEnvironment } from '../../src/cli/launcher.js';

const MAIN = path.resolve(fileURLToPath(import.meta.url), '..', '..', '..', 'src', 'cli', 'main.js');

/** Runs main.js as a program — executed itself, as npm's bin link runs it (its #! line names /bin/sh) — with `node` on PATH being `nodeDir`'s; returns the status and output. */
function launch(nodeDir: string, args: string[], tunables?: string) {
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${nodeDir}${path.delimiter}${process.env.PATH ?? ''}` };
  delete env.GLIBC_TUNABLES;
  if (tunables !== undefined) env.GLIBC_TUNABLES = tunables;
  return spawnSync(MAIN, args, { encoding: 'utf8', env });
}

test('the launcher execs node on main.js with the arguments as given and CLI_GLIBC_TUNABLES, the user\'s own GLIBC_TUNABLES after them', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inkwell-launcher-'));
  try {
    // A stand-in `node` that prints what it was started with, one item a line.
    fs.writeFileSync(path.join(dir, 'node'), '#!/bin/sh\nprintf \'%s\\n\' "$GLIBC_TUNABLES" "$@"\n', { mode: 0o755 });
    const args = ['generate', '--prompt', 'two words', ''];
    const plain = launch(dir, args);
    assert.equal(plain.status, 0, plain.stderr);
    assert.deepEqual(plain.stdout.split('\n').slice(0, -1), [CLI_GLIBC_TUNABLES, MAIN, ...args]);
    const own = launch(dir, ['--help'], 'glibc.malloc.hugetlb=0');
    assert.deepEqual(own.stdout.split('\n').slice(0, -1), [`${CLI_GLIBC_TUNABLES}:glibc.malloc.hugetlb=0`, MAIN, '--help']);
    assert.equal(cliEnvironment({ GLIBC_TUNABLES: 'glibc.malloc.hugetlb=0' }).GLIBC_TUNABLES, `${CLI_GLIBC_TUNABLES}:glibc.malloc.hugetlb=0`);
    assert.equal(cliEnvironment({}).GLIBC_TUNABLES, CLI_GLIBC_TUNABLES);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the build leaves main.js executable (npm links it as the bin), and run as a program the launcher starts the real CLI', () => {
  fs.accessSync(MAIN, fs.constants.X_OK);
  const r = launch(path.dirname(process.execPath), ['--help']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^Usage: inkwell/);
});
