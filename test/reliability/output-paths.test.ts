/**
 * Every command that writes, pointed at every kind of bad output path: a
 * missing folder (made, the command works), a file where a folder should be,
 * a folder under a file, /proc, a read-only mount and a full disk (tmpfs, as
 * root). Each failure is one `error:` line naming the path, exit status 1, no
 * stack trace, no hang — and a full disk keeps no temporary file.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gutenbergWrapped, tempDir } from '../helpers/books.js';
import { syntheticText } from '../helpers/corpus.js';
import { runCli, type CliResult } from '../helpers/run-cli.js';

const root = tempDir('inkwell-out-paths-');
const at = (...p: string[]) => path.join(root, ...p);
const run = at('run');

const book = Buffer.from(gutenbergWrapped(syntheticText(30, 5)), 'utf8');
const server = createServer((_req, res) => res.writeHead(200, { 'content-length': book.length }).end(book));

/** Each command with OUT where its output path goes (the tiny run and the fixtures made in `before`). */
function commands(port: number): Record<string, string[]> {
  return {
    train: ['train', '--preset', 'char-gpt', '--config', at('tiny.json'), '--corpus', at('a.txt'), '--threads', '1', '--out', 'OUT'],
    finetune: ['finetune', '--from', run, '--corpus', at('b.txt'), '--steps', '2', '--context', '16', '--batch-size', '2', '--eval-interval', '1', '--eval-batches', '1', '--threads', '1', '--out', 'OUT'],
    'classify train': ['classify', 'train', '--from', run, '--train', at('t.tsv'), '--eval', at('t.tsv'), '--steps', '2', '--batch-size', '2', '--max-length', '16', '--eval-interval', '1', '--threads', '1', '--out', 'OUT'],
    transfer: ['transfer', '--corpus', at('a.txt'), at('b.txt'), '--holdout', 'b.txt', '--preset', 'char-gpt', '--pretrain-steps', '2', '--steps', '2', '--eval-interval', '1', '--threads', '1', '--out', 'OUT'],
    'data prepare': ['data', 'prepare', '--tokenizer', run, '--corpus', at('a.txt'), '--out', 'OUT'],
    'data download': ['data', 'download', '--cache', 'OUT', '--mirror', `http://127.0.0.1:${port}/{id}.txt`, '--retries', '0', '--delay', '0'],
    'tokenizer train': ['tokenizer', 'train', '--type', 'char', '--corpus', at('a.txt'), '--out', 'OUT'],
    export: ['export', '--model', run, '--format', 'onnx', '--out', 'OUT'],
    plot: ['plot', run, '--out', 'OUT/loss.png'],
    'eval --markdown': ['eval', '--model', run, '--max-tokens', '200', '--passages', '1', '--threads', '1', '--markdown', 'OUT/report.md'],
    'eval --plot': ['eval', '--model', run, '--max-tokens', '200', '--passages', '1', '--threads', '1', '--plot', 'OUT/positions.png'],
  };
}

const asRoot = process.platform === 'linux' && process.getuid?.() === 0 && spawnSync('mount', ['--version']).status === 0;
const mounts: string[] = [];
// Mount points live outside `root`: they must be unmounted before anything under them is removed.
const mountRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'inkwell-mounts-'));

/** A tmpfs at a fresh folder: read-only, or 64 KiB filled to the last byte. */
function tmpfs(kind: 'ro' | 'full'): string {
  const dir = fs.mkdtempSync(path.join(mountRoot, `${kind}-`));
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', kind === 'ro' ? 'ro,size=64k' : 'size=64k', 'tmpfs', dir]);
  assert.equal(r.status, 0, String(r.stderr));
  mounts.push(dir);
  if (kind === 'full') {
    const fd = fs.openSync(path.join(dir, 'filler'), 'w');
    try {
      for (;;) fs.writeSync(fd, Buffer.alloc(4096, 1));
    } catch (err) {
      assert.equal((err as NodeJS.ErrnoException).code, 'ENOSPC');
    } finally {
      fs.closeSync(fd);
    }
  }
  return dir;
}

let cmds: Record<string, string[]>;

before(async () => {
  fs.writeFileSync(at('a.txt'), syntheticText(400, 1));
  fs.writeFileSync(at('b.txt'), syntheticText(600, 2));
  fs.writeFileSync(at('t.tsv'), 'sentence\tlabel\nthe good one\t1\nthe bad one\t0\na good day\t1\na bad day\t0\n');
  fs.writeFileSync(at('tiny.json'), JSON.stringify({
    model: { type: 'gpt', nPositions: 32, nEmbd: 16, nLayer: 1, nHead: 2 },
    train: { batchSize: 4, contextLength: 16, maxSteps: 2, evalInterval: 1, evalBatches: 1, checkpointInterval: 1, logInterval: 1 },
  }));
  fs.writeFileSync(at('a-file'), 'not a folder\n');
  const made = await runCli(commands(0).train!.map((a) => (a === 'OUT' ? run : a)));
  assert.equal(made.code, 0, made.stderr);
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  cmds = commands((server.address() as AddressInfo).port);
});

after(() => {
  server.closeAllConnections();
  server.close();
  for (const m of mounts) spawnSync('umount', [m]);
  fs.rmSync(mountRoot, { recursive: true, force: true });
});

/** Runs `[name, out]` pairs a few at a time (two cores; each is a Node process with ONNX Runtime). */
async function runAll(cases: Array<[string, string]>): Promise<CliResult[]> {
  const results: CliResult[] = [];
  for (let i = 0; i < cases.length; i += 4) {
    const batch = cases.slice(i, i + 4).map(([name, out]) => runCli(cmds[name]!.map((a) => a.replace('OUT', out))));
    results.push(...(await Promise.all(batch)));
  }
  return results;
}

function assertOneLine(r: CliResult, what: string, pattern: RegExp, names: string): void {
  assert.equal(r.code, 1, `${what}: exit status (stderr: ${r.stderr})`);
  assert.doesNotMatch(r.stderr, /^\s+at /m, `${what}: no stack trace`);
  const errors = r.stderr.split('\n').filter((l) => l.startsWith('error: '));
  assert.equal(errors.length, 1, `${what}: one error line in ${r.stderr}`);
  assert.match(errors[0]!, pattern, what);
  assert.ok(errors[0]!.includes(names), `${what}: the error names ${names}: ${errors[0]}`);
}

test('a missing output folder is made, with its parents, and the command works', async () => {
  const names = Object.keys(cmds);
  const results = await runAll(names.map((n, i) => [n, at('missing', String(i), 'deeper', 'out')]));
  results.forEach((r, i) => {
    assert.equal(r.code, 0, `${names[i]}: ${r.stderr}`);
    assert.ok(fs.existsSync(at('missing', String(i), 'deeper', 'out')), names[i]);
  });
});

test('a file where the output folder should be, or above it, is refused in one line', async () => {
  const names = Object.keys(cmds);
  const results = await runAll(names.flatMap((n) => [[n, at('a-file')], [n, at('a-file', 'sub')]] as Array<[string, string]>));
  results.forEach((r, i) => assertOneLine(r, `${names[i >> 1]} --out ${i % 2 ? 'a-file/sub' : 'a-file'}`, /file|not a directory|exists/, 'a-file'));
});

test('/proc refuses new folders: a clear line, not a hang', { skip: process.platform !== 'linux' }, async () => {
  const names = Object.keys(cmds);
  const results = await runAll(names.map((n) => [n, '/proc/inkwell-out']));
  results.forEach((r, i) => assertOneLine(r, `${names[i]} --out /proc/inkwell-out`, /proc/, '/proc'));
});

test('a read-only mount is refused in one line naming it', { skip: asRoot ? undefined : 'mounting a tmpfs needs root on Linux' }, async () => {
  const ro = tmpfs('ro');
  const names = Object.keys(cmds);
  const results = await runAll(names.map((n) => [n, path.join(ro, 'out')]));
  results.forEach((r, i) => assertOneLine(r, `${names[i]} on a read-only mount`, /read-only/, ro));
});

test('a full disk: one line naming the file, and no temporary or pending file is left', { skip: asRoot ? undefined : 'mounting a tmpfs needs root on Linux' }, async () => {
  const names = Object.keys(cmds);
  const disks = names.map(() => tmpfs('full'));
  const results = await runAll(names.map((n, i) => [n, path.join(disks[i]!, 'out')]));
  results.forEach((r, i) => {
    assertOneLine(r, `${names[i]} on a full disk`, /no space left/, disks[i]!);
    const left = (fs.readdirSync(disks[i]!, { recursive: true }) as string[]).filter((f) => /\.(tmp|pending)$|\.lock|\.commit|\.export-/.test(f));
    assert.deepEqual(left, [], `${names[i]}: nothing temporary left on the full disk`);
  });
});
