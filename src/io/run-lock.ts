/**
 * One writer per run directory: RUN/.lock, created exclusively, holds the
 * writer's pid, host and start time. A second writer is refused with who holds
 * it; a lock whose process is gone (killed, crashed) is taken over with a note.
 * The lock is released when its last holder lets go, and at process exit.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { InkwellError } from '../utils/errors.js';
import { makeDirs, withPath } from '../utils/fs.js';

export const LOCK_FILE = '.lock';

interface Holder {
  pid: number;
  host: string;
  started: string;
  /** Tells this lock from an older one by the same pid (a copied run directory, a reused pid). */
  id: string;
}

export interface RunLock {
  readonly dir: string;
  /** Another holder of the same lock (e.g. the Trainer a pipeline hands it to); each holder releases once. */
  retain(): RunLock;
  /** Lets go of this holder's share; the file goes when no holder is left. Safe to call twice. */
  release(): void;
}

/** Locks held by this process, by real path: a second writer in this process is refused too. */
const held = new Map<string, { file: string; holder: Holder; count: number }>();
let exitHook = false;

/** Takes the lock on `dir` (created if missing) or throws an InkwellError naming its holder. */
export function lockRun(dir: string): RunLock {
  makeDirs(dir);
  const key = fs.realpathSync(dir);
  const file = path.join(dir, LOCK_FILE);
  const current = held.get(key);
  if (current) throw inUse(dir, current.holder);
  const holder: Holder = { pid: process.pid, host: os.hostname(), started: new Date().toISOString(), id: randomBytes(6).toString('hex') };
  for (let attempt = 0; ; attempt++) {
    if (create(file, holder)) break;
    const other = readHolder(file);
    if (other === undefined) continue; // it went away between the two calls
    if (alive(other) || attempt >= 3) throw inUse(dir, other);
    takeOver(file, other);
  }
  held.set(key, { file, holder, count: 1 });
  if (!exitHook) {
    exitHook = true;
    // A process that ends without releasing (an uncaught error, process.exit) leaves no lock behind.
    process.on('exit', () => {
      for (const k of [...held.keys()]) drop(k);
    });
  }
  return handle(key, dir);
}

/** Runs `fn` holding the lock on `dir`; whatever `fn` retained stays held after it returns. */
export function withRunLock<T>(dir: string, fn: (lock: RunLock) => T): T {
  const lock = lockRun(dir);
  try {
    return fn(lock);
  } finally {
    lock.release();
  }
}

function handle(key: string, dir: string): RunLock {
  let released = false;
  return {
    dir,
    retain() {
      const h = held.get(key);
      if (!h || released) throw new Error(`the lock on ${dir} is not held`);
      h.count++;
      return handle(key, dir);
    },
    release() {
      if (released) return;
      released = true;
      const h = held.get(key);
      if (h && --h.count === 0) drop(key);
    },
  };
}

function drop(key: string): void {
  const h = held.get(key)!;
  held.delete(key);
  // Only our own file: a lock taken over after ours was judged stale belongs to someone else.
  if (readHolder(h.file)?.id === h.holder.id) fs.rmSync(h.file, { force: true });
}

/** Creates the lock with its content complete (a hard link of a finished temp file): no reader ever sees it empty. */
function create(file: string, holder: Holder): boolean {
  const tmp = `${file}.${holder.pid}.${holder.id}.tmp`;
  try {
    fs.writeFileSync(tmp, JSON.stringify(holder) + '\n');
    fs.linkSync(tmp, file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    // A full disk or a read-only mount is said by the CLI's file-error mapping, naming the run directory.
    throw withPath(err, path.dirname(file));
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

function readHolder(file: string): Holder | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const h = JSON.parse(text) as Partial<Holder>;
    if (Number.isInteger(h.pid) && typeof h.host === 'string' && typeof h.started === 'string') return { pid: h.pid!, host: h.host, started: h.started, id: String(h.id ?? '') };
  } catch {
    // A lock file nobody can read names no live process: stale.
  }
  return { pid: 0, host: os.hostname(), started: 'unknown', id: '' };
}

function alive(h: Holder): boolean {
  // Another machine's process cannot be checked from here (a shared filesystem): assume it runs.
  if (h.host !== os.hostname()) return true;
  if (h.pid <= 0) return false;
  // Our own pid on a lock this process does not hold: a copied run directory, or a pid reused after a crash.
  if (h.pid === process.pid) return false;
  try {
    process.kill(h.pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes a stale lock, unless another process replaced it meanwhile (then it is put back). */
function takeOver(file: string, stale: Holder): void {
  const aside = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.stale`;
  try {
    fs.renameSync(file, aside);
  } catch {
    return; // someone else moved it first; try again
  }
  const moved = readHolder(aside);
  if (moved && (moved.id !== stale.id || moved.pid !== stale.pid)) {
    try {
      fs.linkSync(aside, file);
    } catch {
      // A third writer created a lock meanwhile; it stands.
    }
  } else {
    process.stderr.write(`note: ${file} was left by inkwell process ${stale.pid} (started ${stale.started}), which is no longer running; taking it over\n`);
  }
  fs.rmSync(aside, { force: true });
}

function inUse(dir: string, h: Holder): InkwellError {
  const where = h.host === os.hostname() ? '' : ` on ${h.host}`;
  return new InkwellError(
    `${dir} is in use by inkwell process ${h.pid}${where} (started ${h.started})`,
    `wait for it to finish, or stop it; if no such process runs, remove ${path.join(dir, LOCK_FILE)}`,
  );
}
