/**
 * The crash harness (`npm run crash [-- --kills N --max-seconds S --seed K]`):
 * SIGKILLs `inkwell train`, `inkwell classify train` and `inkwell finetune`
 * child processes at random moments (half of them while a reader loops
 * `inkwell generate` / `classify predict` on the same directory), checks after
 * each kill that what is on disk is one committed checkpoint (manifest
 * verified, weights and trainer state of one step, models load), resumes, and
 * at the end compares the final weights and metrics.jsonl with an
 * uninterrupted run's byte for byte (metrics without their wall-clock fields,
 * which no two runs share). Prints the counts as JSON.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadClassifier } from '../../src/finetune/classifier-io.js';
import { loadModel, MODEL_FILE } from '../../src/io/model-dir.js';
import { readSafetensorsHeader } from '../../src/io/safetensors.js';
import { committedPath, verifyManifest } from '../../src/io/transaction.js';
import { checkpointInfo } from '../../src/train/trainer.js';
import { Rng } from '../../src/utils/rng.js';
import { syntheticText } from '../helpers/corpus.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

export interface CrashCounts {
  kills: number;
  killsWithReader: number;
  resumes: number;
  restartsBeforeFirstCheckpoint: number;
  checkpointsVerified: number;
  mixedStatesFound: number;
  readerRuns: number;
  readerFailures: number;
  runsCompleted: number;
  runsBitIdentical: number;
  failures: string[];
  seconds: number;
}

type Kind = 'train' | 'classify' | 'finetune';

interface Workload {
  kind: Kind;
  /** The command of a new run into `dir`, and of its resumption. */
  start(dir: string): string[];
  resume(dir: string): string[];
  /** The directory holding the resumable checkpoint. */
  checkpoint(dir: string): string;
  /** Files compared byte for byte with the uninterrupted run. */
  outputs: string[];
  reader(dir: string): string[];
}

export async function runCrashHarness(o: { kills: number; maxSeconds?: number; seed?: number; log?: (line: string) => void }): Promise<CrashCounts> {
  const t0 = performance.now();
  const log = o.log ?? (() => {});
  const rng = new Rng(`crash:${o.seed ?? 1}`);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'inkwell-crash-'));
  const c: CrashCounts = { kills: 0, killsWithReader: 0, resumes: 0, restartsBeforeFirstCheckpoint: 0, checkpointsVerified: 0, mixedStatesFound: 0, readerRuns: 0, readerFailures: 0, runsCompleted: 0, runsBitIdentical: 0, failures: [], seconds: 0 };
  try {
    const w = workloads(root);
    // Uninterrupted references (also the base model the classifier and the fine-tuning start from).
    // Also when each first saves something: most kills land after it, in training, where commits happen.
    const refs = new Map<Kind, { dir: string; ms: number; firstStepMs: number }>();
    for (const wl of w) {
      const dir = path.join(root, `ref-${wl.kind}`);
      const started = performance.now();
      const r = await run(wl.start(dir));
      if (r.code !== 0) throw new Error(`the reference ${wl.kind} run failed: ${r.stderr}`);
      const ms = performance.now() - started;
      refs.set(wl.kind, { dir, ms, firstStepMs: r.firstStepMs ?? ms / 2 });
    }
    for (let n = 0; c.kills < o.kills; n++) {
      if (o.maxSeconds && (performance.now() - t0) / 1000 > o.maxSeconds) {
        c.failures.push(`stopped after ${o.maxSeconds} s with ${c.kills} of ${o.kills} kills`);
        break;
      }
      const wl = w[n % w.length]!;
      const ref = refs.get(wl.kind)!;
      const dir = path.join(root, `run-${n}`);
      // Up to 4 kills a run, then it finishes; kills land anywhere in a process's life, start-up included.
      const budget = Math.min(4, o.kills - c.kills);
      let args = wl.start(dir);
      for (let k = 0; ; k++) {
        const kill = k < budget;
        const withReader = kill && c.kills % 2 === 0;
        const reader = withReader ? readLoop(wl.reader(dir), c) : undefined;
        // One kill in five anywhere before training (start-up, caching); the rest timed from this process's own first
        // step line, so a loaded machine's slower start-up does not push them all before the first checkpoint.
        const plan: KillPlan = rng.float() < 0.2 ? { atMs: rng.float() * ref.firstStepMs } : { afterFirstStepMs: rng.float() * (ref.ms - ref.firstStepMs) * 1.05 };
        const r = await run(args, kill ? plan : undefined);
        await reader?.stop();
        if (!kill || r.signal !== 'SIGKILL') {
          // Killed after its last checkpoint, a train run is complete: resuming it says so (exit status 1) and changes nothing.
          const finished = r.code === 1 && /is already at step (\d+) of \1\b/.test(r.stderr);
          if (r.code !== 0 && !finished) c.failures.push(`${wl.kind} ${args.join(' ')} failed: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
          break;
        }
        c.kills++;
        if (withReader) c.killsWithReader++;
        check(wl, dir, c);
        const ckpt = wl.checkpoint(dir);
        const resumable = fs.existsSync(committedPath(ckpt, 'trainer_state.json'));
        const resume = resumable ? wl.resume(dir) : null;
        if (resume) {
          c.resumes++;
          args = resume;
        } else {
          if (!resumable) c.restartsBeforeFirstCheckpoint++;
          fs.rmSync(dir, { recursive: true, force: true });
          args = wl.start(dir);
        }
      }
      c.runsCompleted++;
      const same = wl.outputs.every((f) => equalOutput(path.join(ref.dir, f), path.join(dir, f)));
      if (same) c.runsBitIdentical++;
      else c.failures.push(`${wl.kind} run ${n}: the final ${wl.outputs.join(', ')} differ from the uninterrupted run`);
      log(`${wl.kind} run ${n}: ${c.kills} kills so far, ${same ? 'identical' : 'DIFFERENT'}`);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
  c.seconds = Math.round((performance.now() - t0) / 100) / 10;
  return c;
}

function workloads(root: string): Workload[] {
  const corpus = path.join(root, 'corpus.txt');
  const other = path.join(root, 'other.txt');
  fs.writeFileSync(corpus, syntheticText(200, 1));
  fs.writeFileSync(other, syntheticText(120, 2));
  const spec = path.join(root, 'spec.json');
  fs.writeFileSync(spec, JSON.stringify({ model: { nLayer: 1, nEmbd: 16, nHead: 2 }, train: { batchSize: 4, evalBatches: 2, checkpointInterval: 1, evalInterval: 3, logInterval: 1, threads: 1 } }));
  for (const [name, seed] of [['train.tsv', 3], ['dev.tsv', 4]] as const) {
    const rows = syntheticText(40, seed).trim().split('\n').map((s) => `${s}\t${/cat|dog|bird/.test(s) ? 1 : 0}`);
    fs.writeFileSync(path.join(root, name), ['sentence\tlabel', ...rows].join('\n') + '\n');
  }
  const base = path.join(root, 'ref-train', 'best');
  const threads = ['--threads', '1'];
  return [
    {
      kind: 'train',
      start: (d) => ['train', '--preset', 'char-gpt', '--config', spec, '--corpus', corpus, '--out', d, '--steps', '30', '--context', '16', '--seed', '5', '--force', ...threads],
      resume: (d) => ['train', '--resume', d],
      checkpoint: (d) => d,
      outputs: [MODEL_FILE, 'optimizer.safetensors', path.join('best', MODEL_FILE), 'metrics.jsonl'],
      reader: (d) => ['generate', '--model', d, '--prompt', 'the', '--max-new-tokens', '4', '--seed', '1', ...threads],
    },
    {
      kind: 'classify',
      start: (d) => ['classify', 'train', '--from', base, '--train', path.join(root, 'train.tsv'), '--eval', path.join(root, 'dev.tsv'), '--out', d, '--steps', '20', '--batch-size', '8', '--eval-interval', '1', '--patience', '0', '--warmup', '2', ...threads],
      resume: (d) => ['classify', 'train', '--resume', d, ...threads],
      checkpoint: (d) => path.join(d, 'checkpoint'),
      outputs: [MODEL_FILE, path.join('checkpoint', MODEL_FILE), path.join('checkpoint', 'optimizer.safetensors'), 'metrics.jsonl'],
      reader: (d) => ['classify', 'predict', '--model', d, '--text', 'the cat sees the moon'],
    },
    {
      kind: 'finetune',
      start: (d) => ['finetune', '--from', base, '--corpus', other, '--out', d, '--steps', '16', '--batch-size', '4', '--context', '16', '--eval-interval', '2', '--eval-batches', '2', '--warmup', '2', ...threads],
      resume: (d) => ['finetune', '--resume', d, ...threads],
      checkpoint: (d) => d,
      outputs: [MODEL_FILE, 'optimizer.safetensors', path.join('best', MODEL_FILE), 'metrics.jsonl'],
      reader: (d) => ['generate', '--model', path.join(d, 'best'), '--prompt', 'the', '--max-new-tokens', '4', '--seed', '1', ...threads],
    },
  ];
}

/** After a kill: whatever checkpoint is on disk is one committed set, and every model there loads. */
function check(wl: Workload, dir: string, c: CrashCounts): void {
  const ckpt = wl.checkpoint(dir);
  try {
    if (fs.existsSync(committedPath(ckpt, 'trainer_state.json'))) {
      verifyManifest(ckpt);
      const { step } = checkpointInfo(ckpt);
      const stamp = readSafetensorsHeader(committedPath(ckpt, MODEL_FILE)).metadata.step;
      const opt = readSafetensorsHeader(committedPath(ckpt, 'optimizer.safetensors')).metadata.step;
      if (stamp !== String(step) || opt !== String(step)) {
        c.mixedStatesFound++;
        c.failures.push(`${ckpt}: trainer state at step ${step}, weights ${stamp}, optimizer ${opt}`);
      }
      c.checkpointsVerified++;
    }
    if (wl.kind === 'classify') {
      if (fs.existsSync(path.join(dir, 'config.json'))) loadClassifier(dir);
    } else {
      if (fs.existsSync(path.join(dir, 'config.json'))) void loadModel(dir).weights;
      if (fs.existsSync(path.join(dir, 'best', 'config.json'))) void loadModel(path.join(dir, 'best')).weights;
    }
  } catch (err) {
    c.mixedStatesFound++;
    c.failures.push(`${dir} after a kill: ${(err as Error).message}`);
  }
}

/** Runs the reader command over and over until stopped; a failure other than "nothing saved there yet" counts. */
function readLoop(args: string[], c: CrashCounts): { stop(): Promise<void> } {
  let stopped = false;
  let child: ChildProcess | undefined;
  const loop = (async () => {
    while (!stopped) {
      const r = await run(args, undefined, (p) => (child = p));
      if (stopped && r.signal) break;
      c.readerRuns++;
      const notYet = /does not exist|no config\.json there|cannot read .*config\.json|missing tensor|tokenizer .* does not exist/.test(r.stderr);
      if (r.code !== 0 && !notYet) {
        c.readerFailures++;
        c.failures.push(`reader ${args.join(' ')}: ${r.stderr.trim().split('\n').slice(-2).join(' | ')}`);
      }
      if (notYet) await new Promise((res) => setTimeout(res, 100));
    }
  })();
  return {
    async stop() {
      stopped = true;
      child?.kill('SIGKILL');
      await loop;
    },
  };
}

/** When to SIGKILL a child: so long after it starts, or so long after it prints its first training step. */
type KillPlan = { atMs: number } | { afterFirstStepMs: number };
const STEP_LINE = /^step \d+/m;

function run(args: string[], kill?: KillPlan, onSpawn?: (p: ChildProcess) => void): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string; firstStepMs?: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    onSpawn?.(child);
    let stderr = '';
    let firstStepMs: number | undefined;
    let timer: NodeJS.Timeout | undefined;
    const killIn = (ms: number) => (timer = setTimeout(() => child.kill('SIGKILL'), ms));
    if (kill && 'atMs' in kill) killIn(kill.atMs);
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      if (firstStepMs === undefined && STEP_LINE.test(stderr)) {
        firstStepMs = performance.now() - started;
        if (kill && 'afterFirstStepMs' in kill) killIn(kill.afterFirstStepMs);
      }
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stderr, firstStepMs });
    });
  });
}

/** Byte equality; metrics.jsonl line by line without its wall-clock fields. */
function equalOutput(a: string, b: string): boolean {
  if (!fs.existsSync(a) || !fs.existsSync(b)) return false;
  if (!a.endsWith('.jsonl')) return fs.readFileSync(a).equals(fs.readFileSync(b));
  const strip = (f: string) => fs.readFileSync(f, 'utf8').trim().split('\n').map((l) => {
    const { tokens_per_s: _t, elapsed_s: _e, ...rest } = JSON.parse(l) as Record<string, unknown>;
    return JSON.stringify(rest);
  }).join('\n');
  return strip(a) === strip(b);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const arg = (name: string, dflt: number) => {
    const i = process.argv.indexOf(name);
    const v = i < 0 ? dflt : Number(process.argv[i + 1]);
    if (!Number.isInteger(v) || v < 1) throw new Error(`${name} must be a positive integer`);
    return v;
  };
  const counts = await runCrashHarness({ kills: arg('--kills', 200), maxSeconds: arg('--max-seconds', 1800), seed: arg('--seed', 1), log: (l) => process.stderr.write(l + '\n') });
  console.log(JSON.stringify(counts, null, 2));
  process.exitCode = counts.failures.length ? 1 : 0;
}
