import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync, mkdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';

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
    mkdirSync(dirname(path), { recursive: true });
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
      throw err;
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
      throw err;
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
