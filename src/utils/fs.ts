import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { InkwellError } from './errors.js';

/**
 * `mkdir -p`, one level at a time. Node's own recursive mkdir never returns
 * under /proc (it retries ENOENT forever) and names only the deepest path in
 * its errors; this one stops at the first directory that cannot be made and
 * says which, so `--out /proc/x` or a read-only mount fails at once, in one line.
 */
export function makeDirs(dir: string): void {
  const missing: string[] = [];
  for (let d = resolve(dir); ; d = dirname(d)) {
    let isDir: boolean;
    try {
      isDir = statSync(d).isDirectory();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if ((code !== 'ENOENT' && code !== 'ENOTDIR') || dirname(d) === d) throw err;
      missing.push(d);
      continue;
    }
    if (!isDir) throw new InkwellError(`cannot create ${dir}: ${d} is a file, not a directory`, 'choose a path whose parent folders are directories');
    break;
  }
  for (const d of missing.reverse()) {
    try {
      mkdirSync(d);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code === 'EEXIST' && statSync(d).isDirectory()) continue; // made by another process meanwhile
      // ENOENT for a directory whose parent exists: a file system that takes no new entries (/proc, /sys).
      if (e.code === 'ENOENT') throw new InkwellError(`cannot create ${dir}: ${dirname(d)} does not accept new directories`, 'choose a location on a normal, writable disk');
      throw err;
    }
  }
}

/** Adds the file's path to a write error that has only a descriptor (writeSync, fsync), so the user is told which file. */
export function withPath(err: unknown, path: string): unknown {
  const e = err as NodeJS.ErrnoException;
  if (err instanceof Error && typeof e.code === 'string' && e.path === undefined) e.path = path;
  return err;
}

/**
 * A file written so that readers see either the old file or the complete new
 * one, never a partial write: bytes go to a temporary file in the same
 * directory (same filesystem, so the final rename is atomic); `commit()`
 * fsyncs it and renames it over the target; `abort()` (or any failed write)
 * removes it. Use it directly to stream large outputs, or through
 * writeFileAtomic for data already in memory.
 */
export class AtomicFileWriter {
  readonly path: string;
  private readonly tmp: string;
  private fd: number | undefined;

  constructor(path: string) {
    this.path = path;
    makeDirs(dirname(path));
    this.tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    this.fd = openSync(this.tmp, 'w');
  }

  write(bytes: Uint8Array): void {
    if (this.fd === undefined) throw new Error(`AtomicFileWriter(${this.path}) is closed`);
    try {
      let written = 0;
      while (written < bytes.length) written += writeSync(this.fd, bytes, written, bytes.length - written);
    } catch (err) {
      this.abort();
      throw withPath(err, this.path);
    }
  }

  commit(): void {
    if (this.fd === undefined) throw new Error(`AtomicFileWriter(${this.path}) is closed`);
    try {
      fsyncSync(this.fd);
      closeSync(this.fd);
      this.fd = undefined;
      renameSync(this.tmp, this.path);
    } catch (err) {
      this.abort();
      throw withPath(err, this.path);
    }
    fsyncDir(dirname(this.path));
  }

  /** Discards the temporary file; safe to call more than once. */
  abort(): void {
    if (this.fd !== undefined) {
      try { closeSync(this.fd); } catch { /* already failing; removal below matters more */ }
      this.fd = undefined;
    }
    rmSync(this.tmp, { force: true });
  }
}

/** Atomically replaces `path` with `data` (temp file in the same directory, fsync, rename). */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const writer = new AtomicFileWriter(path);
  writer.write(typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
  writer.commit();
}

/** Atomic JSON write with a trailing newline and two-space indentation. */
export function writeJsonAtomic(path: string, value: unknown): void {
  writeFileAtomic(path, JSON.stringify(value, null, 2) + '\n');
}

/** Makes a completed rename durable; directories cannot be fsynced on every platform, so failure is ignored. */
function fsyncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try { fsyncSync(fd); } finally { closeSync(fd); }
  } catch {
    // Not supported (e.g. Windows); the rename itself is still atomic.
  }
}
