/**
 * Writing an export folder all at once: every file goes into a hidden sibling
 * directory, which is renamed onto `--out` only when complete, so a failed or
 * interrupted export leaves no half-written folder behind (at worst a hidden
 * `.NAME.export-*` directory, removed on failure).
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { InkwellError } from '../utils/errors.js';
import { makeDirs, withPath } from '../utils/fs.js';

/** Relative path (with `/` between folders) → contents. */
export type ExportFiles = Map<string, Uint8Array | string>;

/** Refuses a non-empty `out` unless `force`, so an export never silently mixes with or replaces other files. */
export function checkOutDir(out: string, force: boolean): void {
  if (!fs.existsSync(out)) return;
  if (!fs.statSync(out).isDirectory()) throw new InkwellError(`--out ${out} exists and is not a directory`);
  if (fs.readdirSync(out).length > 0 && !force) throw new InkwellError(`--out ${out} is not empty`, 'choose another directory or pass --force to replace it');
}

export function writeExportDir(out: string, files: ExportFiles, force: boolean): void {
  checkOutDir(out, force);
  const parent = path.dirname(path.resolve(out));
  makeDirs(parent);
  // A read-only or special parent is refused naming --out, before anything is made.
  fs.accessSync(parent, fs.constants.W_OK);
  const tag = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const tmp = path.join(parent, `.${path.basename(out)}.export-${tag}`);
  try {
    for (const [name, data] of files) {
      const target = path.join(tmp, name);
      if (!target.startsWith(tmp + path.sep)) throw new Error(`export file name ${name} leaves the folder`);
      makeDirs(path.dirname(target));
      const fd = fs.openSync(target, 'w');
      try {
        fs.writeSync(fd, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
        fs.fsyncSync(fd);
      } catch (err) {
        throw withPath(err, target);
      } finally {
        fs.closeSync(fd);
      }
    }
    // An old folder (--force) is moved aside first and removed once the new one is in place.
    const old = fs.existsSync(out) ? path.join(parent, `.${path.basename(out)}.old-${tag}`) : undefined;
    if (old) fs.renameSync(out, old);
    fs.renameSync(tmp, out);
    if (old) fs.rmSync(old, { recursive: true, force: true });
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    // The hidden folder is ours, not the user's: a file error names --out's path instead.
    const e = err as NodeJS.ErrnoException;
    if (typeof e.path === 'string' && e.path.startsWith(tmp)) e.path = out + e.path.slice(tmp.length);
    throw err;
  }
}
