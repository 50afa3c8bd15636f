/** ONNX Runtime's telemetry is off in inkwell's processes unless the user turns it on (ort-backend.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** A module of the compiled source, as a URL the child can import. */
const src = (...parts: string[]) => pathToFileURL(path.resolve(fileURLToPath(import.meta.url), '..', '..', '..', 'src', ...parts)).href;
const [SESSION, GRAPH] = [src('runtime', 'session.js'), src('graph', 'index.js')];

/** Variables under which ORT's telemetry stays off by itself (a CI machine's; the names its library checks). */
const CI_VARIABLES = ['CI', 'TF_BUILD', 'GITHUB_ACTIONS', 'GITLAB_CI', 'CIRCLECI', 'JENKINS_URL', 'CODEBUILD_BUILD_ID', 'BUILDKITE', 'TEAMCITY_VERSION', 'BITBUCKET_BUILD_NUMBER'];

/** Runs one session in a fresh process whose home and temp folder are `dir`, as on a user's machine (no CI variables); returns what ORT left there. */
function filesLeftBy(env: Record<string, string | undefined>): string[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inkwell-telemetry-'));
  try {
    const code = `const { CompiledGraph } = await import(${JSON.stringify(SESSION)}); const { Graph, F } = await import(${JSON.stringify(GRAPH)});
      const g = new Graph(); const c = await CompiledGraph.compile(g, { y: F.tanh(g.input('x', 'float32', [2])) });
      console.log((await c.run({ x: new Float32Array([1, 2]) })).y.length);`;
    const merged = { ...process.env, ...Object.fromEntries(CI_VARIABLES.map((k) => [k, undefined])), HOME: dir, TMPDIR: dir, ...env };
    const childEnv = Object.fromEntries(Object.entries(merged).filter(([, v]) => v !== undefined));
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8', env: childEnv });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), '2');
    return fs.readdirSync(dir, { recursive: true }).map(String).sort();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test("a session leaves no telemetry store or log behind; ORT_DISABLE_TELEMETRY=0 (the user's choice) lets ORT's telemetry run", () => {
  assert.deepEqual(filesLeftBy({ ORT_DISABLE_TELEMETRY: undefined }), []);
  // The same check sees ORT's telemetry when it runs: its event store under ~/.cache and its per-process log in the temp folder.
  const on = filesLeftBy({ ORT_DISABLE_TELEMETRY: '0' });
  assert.ok(on.some((f) => f.startsWith(path.join('.cache', 'Microsoft'))), `files: ${on.join(', ')}`);
  assert.ok(on.some((f) => /^mat-debug-\d+\.log$/.test(f)), `files: ${on.join(', ')}`);
});
