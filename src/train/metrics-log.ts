/**
 * metrics.jsonl, one JSON record a line: opened once and appended to, made
 * durable at each checkpoint, and on resume cut back to the checkpoint's step
 * by an atomic rewrite (a kill mid-rewrite leaves the old file, never an empty
 * one). A torn last line — a kill mid-append — is dropped with a warning.
 */
import fs from 'node:fs';
import path from 'node:path';
import { InkwellError, errorMessage } from '../utils/errors.js';
import { makeDirs, writeFileAtomic } from '../utils/fs.js';

export const METRICS_FILE = 'metrics.jsonl';

export class MetricsLog {
  private fd: number | undefined;

  constructor(readonly file: string) {}

  append(record: Record<string, unknown>): void {
    try {
      if (this.fd === undefined) {
        makeDirs(path.dirname(this.file));
        this.fd = fs.openSync(this.file, 'a');
      }
      fs.writeSync(this.fd, JSON.stringify(record) + '\n');
    } catch (err) {
      throw new InkwellError(`cannot write ${this.file}: ${errorMessage(err)}`);
    }
  }

  /** Flushes appended lines to disk: called before each checkpoint, so the curve up to a checkpoint outlives it. */
  sync(): void {
    if (this.fd === undefined) return;
    try {
      fs.fsyncSync(this.fd);
    } catch (err) {
      throw new InkwellError(`cannot write ${this.file}: ${errorMessage(err)}`);
    }
  }

  close(): void {
    if (this.fd === undefined) return;
    const fd = this.fd;
    this.fd = undefined;
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  }
}

/**
 * Keeps the records of steps up to `step` (the lost tail of a killed run goes),
 * skipping lines that are not JSON records with a warning; a no-op when the
 * file does not exist.
 */
export function truncateMetrics(file: string, step: number, warn: (message: string) => void = (m) => process.stderr.write(`warning: ${m}\n`)): void {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new InkwellError(`cannot read ${file}: ${errorMessage(err)}`);
  }
  const lines = text.split('\n');
  const kept: string[] = [];
  lines.forEach((line, i) => {
    if (line === '') return;
    let s: unknown;
    try {
      s = (JSON.parse(line) as { step?: unknown } | null)?.step;
    } catch {
      s = undefined;
    }
    if (typeof s !== 'number') {
      const torn = i === lines.length - 1 || (i === lines.length - 2 && lines[i + 1] === '');
      warn(`${file}: skipping ${torn ? 'a torn last line' : `line ${i + 1}, which is not a metrics record`} (${JSON.stringify(line.slice(0, 60))})`);
      return;
    }
    if (s <= step) kept.push(line + '\n');
  });
  const out = kept.join('');
  if (out !== text) writeFileAtomic(file, out);
}
