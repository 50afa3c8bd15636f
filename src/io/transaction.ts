/**
 * All-or-nothing replacement of several files in one directory (a checkpoint's
 * weights, optimizer state and trainer state must never disagree).
 *
 * 1. every file is written and fsynced as `.<name>.pending`, together with a
 *    new `manifest.json` (each file's size and sha256);
 * 2. a `.commit` marker listing them is written atomically — the commit point;
 * 3. each pending file is renamed over its target; 4. the marker is removed.
 *
 * Only the directory's one writer (it holds the run lock, see run-lock.ts)
 * calls `recover`, which finishes a commit interrupted after step 2 (roll
 * forward) and deletes the pending files of one interrupted before it (roll
 * back). Readers never write: `readCommitted` reads the committed version of a
 * file — the pending one while a marker lists it — and `verifyManifest` checks
 * files against the manifest committed with them, so a mix of two commits is
 * refused, never accepted.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { InkwellError, errorMessage } from '../utils/errors.js';
import { AtomicFileWriter, makeDirs, writeJsonAtomic } from '../utils/fs.js';
import { READ_BYTES, readBuffer } from '../utils/float-scan.js';

const MARKER = '.commit';
export const MANIFEST = 'manifest.json';
const pendingName = (name: string) => `.${name}.pending`;

export interface ManifestEntry {
  size: number;
  sha256: string;
}

/** A file or a check that disagrees with the manifest committed beside it: corrupt, or a mix of two commits. */
export class ManifestMismatchError extends InkwellError {}

export function writeFilesAtomically(dir: string, files: ReadonlyMap<string, Uint8Array | string>): void {
  makeDirs(dir);
  recover(dir);
  for (const name of files.keys()) checkName(name, `a file to write in ${dir}`);
  const bytes = new Map([...files].map(([k, v]) => [k, typeof v === 'string' ? Buffer.from(v, 'utf8') : v]));
  // Entries of files this commit leaves alone stay; the manifest describes the directory, not one commit.
  const entries: Record<string, ManifestEntry> = {};
  let old: Record<string, ManifestEntry> = {};
  try {
    old = committedManifest(dir) ?? {};
  } catch {
    // A damaged manifest is replaced by this commit's.
  }
  for (const [name, e] of Object.entries(old)) if (!bytes.has(name) && fs.existsSync(path.join(dir, name))) entries[name] = e;
  for (const [name, data] of bytes) entries[name] = { size: data.length, sha256: createHash('sha256').update(data).digest('hex') };
  bytes.set(MANIFEST, Buffer.from(JSON.stringify({ version: 1, files: entries }, null, 2) + '\n', 'utf8'));
  const names = [...bytes.keys()];
  try {
    for (const name of names) {
      const w = new AtomicFileWriter(path.join(dir, pendingName(name)));
      w.write(bytes.get(name)!);
      w.commit();
    }
    writeJsonAtomic(path.join(dir, MARKER), names);
  } catch (err) {
    // Before the commit point (e.g. a full disk): the old set stands, and no pending file is left behind.
    if (!fs.existsSync(path.join(dir, MARKER))) for (const name of names) fs.rmSync(path.join(dir, pendingName(name)), { force: true });
    throw err;
  }
  recover(dir);
}

/** The writer's recovery after a crash (call it only holding the directory's lock); a no-op when nothing was interrupted. */
export function recover(dir: string): void {
  if (!fs.existsSync(dir)) return;
  const names = readMarker(dir);
  if (names) {
    for (const name of names) {
      const pending = path.join(dir, pendingName(name));
      if (fs.existsSync(pending)) fs.renameSync(pending, path.join(dir, name));
    }
    fs.rmSync(path.join(dir, MARKER));
  }
  for (const f of fs.readdirSync(dir)) {
    if (f.startsWith('.') && f.endsWith('.pending')) fs.rmSync(path.join(dir, f));
    // An AtomicFileWriter's temp file whose process died mid-write (`.<name>.<pid>.<hex>.tmp`).
    const tmp = /^\..*\.(\d+)\.[0-9a-f]+\.tmp$/.exec(f);
    if (tmp && !running(Number(tmp[1]))) fs.rmSync(path.join(dir, f), { force: true });
  }
}

/**
 * The committed bytes of `dir/name`: the pending file while a commit marker
 * lists it (the commit point has passed), else the file itself. A writer may
 * rename the pending file away between the two steps; the read is retried.
 */
export function readCommitted(dir: string, name: string): Buffer {
  for (let attempt = 0; ; attempt++) {
    const file = committedPath(dir, name);
    try {
      return fs.readFileSync(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || file === path.join(dir, name) || attempt >= 200) throw err;
      pause(5);
    }
  }
}

/** Where the committed version of `dir/name` is now (see readCommitted; a file read from this path may be renamed away). */
export function committedPath(dir: string, name: string): string {
  const names = readMarker(dir);
  if (names?.includes(name)) {
    const pending = path.join(dir, pendingName(name));
    if (fs.existsSync(pending)) return pending;
  }
  return path.join(dir, name);
}

/** The committed manifest of `dir` (name → size and hash), or null when it has none (not written by this inkwell). */
export function committedManifest(dir: string): Record<string, ManifestEntry> | null {
  let text: string;
  try {
    text = readCommitted(dir, MANIFEST).toString('utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new InkwellError(`cannot read ${path.join(dir, MANIFEST)}: ${errorMessage(err)}`);
  }
  const fail = () => new ManifestMismatchError(`${path.join(dir, MANIFEST)} is not an inkwell manifest`, 'the directory is damaged; restore it or train again');
  let m: { version?: unknown; files?: Record<string, Partial<ManifestEntry>> };
  try {
    m = JSON.parse(text) as typeof m;
  } catch {
    throw fail();
  }
  if (m.version !== 1 || !m.files || typeof m.files !== 'object') throw fail();
  for (const [name, e] of Object.entries(m.files)) {
    if (!plainName(name) || !e || !Number.isInteger(e.size) || typeof e.sha256 !== 'string') throw fail();
  }
  return m.files as Record<string, ManifestEntry>;
}

/**
 * What a caller reads of a committed file in the pass that hashes it, so that a large file is read once:
 * given the open descriptor first (e.g. to read a header), it returns what sees every chunk in order
 * (or nothing, to only hash). Chunks are whole reads of CHUNK bytes but the last, at multiples of CHUNK;
 * each is valid during its call only (the next read reuses the buffer).
 */
export type FileScan = (fd: number, file: string) => ((chunk: Uint8Array, position: number) => void) | undefined;

/**
 * Read size of the streamed pass: float-scan.ts's read buffer, whole (a weights file's finite check then
 * runs where it was read); a multiple of 4, so float32 data at 4-aligned offsets never straddles two chunks.
 */
const CHUNK = READ_BYTES;

/**
 * Checks the committed versions of `names` (default: every file in the
 * manifest) against `dir`'s manifest: size first, then sha256. A directory
 * without a manifest (Hugging Face, a hand-made folder) has nothing to check;
 * a listed file that is missing or differs is refused. A file with a `scans`
 * entry is streamed through it in the same pass — also when there is nothing
 * to compare, so the scan always runs on an existing file.
 */
export function verifyManifest(dir: string, names?: readonly string[], scans?: ReadonlyMap<string, FileScan>): void {
  const manifest = committedManifest(dir);
  for (const name of names ?? Object.keys(manifest ?? {})) {
    const want = manifest?.[name];
    const scan = scans?.get(name);
    // A file the manifest does not list was not written by a commit (e.g. copied in by hand): nothing to compare.
    if (!want) {
      if (scan) streamCommitted(dir, name, scan, false);
      continue;
    }
    const got = streamCommitted(dir, name, scan, true);
    const file = path.join(dir, name);
    if (!got) throw new ManifestMismatchError(`${file} is missing, but ${MANIFEST} lists it`, 'the checkpoint is incomplete; restore it or train again');
    if (got.size !== want.size || got.sha256 !== want.sha256) {
      throw new ManifestMismatchError(
        `${file} does not match ${MANIFEST} (${got.size !== want.size ? `${got.size} bytes, expected ${want.size}` : 'sha256 differs'}): it is corrupt or from another checkpoint`,
        'restore the directory from a backup or train again',
      );
    }
  }
}

/**
 * Streams the committed version of `dir/name` once (a large model is not held twice): through `scan`
 * when given, and into its size and sha256 when `hash`; null when it does not exist.
 */
function streamCommitted(dir: string, name: string, scan: FileScan | undefined, hash: boolean): ManifestEntry | null {
  for (let attempt = 0; ; attempt++) {
    const file = committedPath(dir, name);
    let fd: number;
    try {
      fd = fs.openSync(file, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      if (file === path.join(dir, name)) return null;
      if (attempt >= 200) throw err;
      pause(5);
      continue;
    }
    // Once open, a rename by the writer does not change what this descriptor reads.
    try {
      const visit = scan?.(fd, file);
      const sha = hash ? createHash('sha256') : undefined;
      const buf = readBuffer(CHUNK);
      let size = 0;
      for (let n; (n = fillChunk(fd, buf, size)) > 0; size += n) {
        const chunk = buf.subarray(0, n);
        sha?.update(chunk);
        visit?.(chunk, size);
      }
      return { size, sha256: sha ? sha.digest('hex') : '' };
    } finally {
      fs.closeSync(fd);
    }
  }
}

/** Reads from `position` until `buf` is full or the file ends (a read may return less than asked). */
function fillChunk(fd: number, buf: Uint8Array, position: number): number {
  let n = 0;
  for (let got; n < buf.length && (got = fs.readSync(fd, buf, n, buf.length - n, position + n)) > 0; ) n += got;
  return n;
}

/** The names a commit marker lists, or null when there is none; a marker naming anything but a plain file of `dir` is refused. */
function readMarker(dir: string): string[] | null {
  const marker = path.join(dir, MARKER);
  let text: string;
  try {
    text = fs.readFileSync(marker, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new InkwellError(`cannot read ${marker}: ${errorMessage(err)}`);
  }
  let names: unknown;
  try {
    names = JSON.parse(text);
  } catch {
    names = undefined;
  }
  if (!Array.isArray(names)) throw new InkwellError(`${marker} is not an inkwell commit marker`, `it was not written by inkwell; remove it`);
  for (const n of names) checkName(n, `a name in ${marker}`);
  return names as string[];
}

/** A plain file name inside the directory: not empty, no separator, no `.`/`..`, not hidden (pending files, the marker and the lock are). */
function plainName(n: unknown): n is string {
  return typeof n === 'string' && n !== '' && !n.startsWith('.') && !/[/\\\0]/.test(n) && path.basename(n) === n;
}

function checkName(n: unknown, what: string): asserts n is string {
  if (!plainName(n)) throw new InkwellError(`${what} is ${JSON.stringify(n)}, not a plain file name`, 'a commit only names files of its own directory; remove the marker if inkwell did not write it');
}

function running(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));
/** A short synchronous wait (readers are synchronous; the writer needs only moments to finish its renames). */
export function pause(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}
