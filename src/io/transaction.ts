/**
 * All-or-nothing replacement of several files in one directory (a checkpoint's
 * weights, optimizer state and trainer state must never disagree).
 *
 * 1. every file is written and fsynced as `.<name>.pending`;
 * 2. a `.commit` marker listing them is written atomically — the commit point;
 * 3. each pending file is renamed over its target; 4. the marker is removed.
 * `recover` finishes a commit interrupted after step 2 (roll forward) and
 * deletes pending files of one interrupted before it (roll back), so readers
 * always see the old set or the new set.
 */
import fs from 'node:fs';
import path from 'node:path';
import { AtomicFileWriter, writeJsonAtomic } from '../utils/fs.js';

const MARKER = '.commit';
const pendingName = (name: string) => `.${name}.pending`;

export function writeFilesAtomically(dir: string, files: ReadonlyMap<string, Uint8Array | string>): void {
  fs.mkdirSync(dir, { recursive: true });
  recover(dir);
  const names = [...files.keys()];
  for (const name of names) {
    const data = files.get(name)!;
    const w = new AtomicFileWriter(path.join(dir, pendingName(name)));
    w.write(typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
    w.commit();
  }
  writeJsonAtomic(path.join(dir, MARKER), names);
  recover(dir);
}

/** Brings `dir` to a consistent state after a crash; a no-op when nothing was interrupted. */
export function recover(dir: string): void {
  if (!fs.existsSync(dir)) return;
  const marker = path.join(dir, MARKER);
  if (fs.existsSync(marker)) {
    const names = JSON.parse(fs.readFileSync(marker, 'utf8')) as string[];
    for (const name of names) {
      const pending = path.join(dir, pendingName(name));
      if (fs.existsSync(pending)) fs.renameSync(pending, path.join(dir, name));
    }
    fs.rmSync(marker);
  }
  for (const f of fs.readdirSync(dir)) {
    if (f.startsWith('.') && f.endsWith('.pending')) fs.rmSync(path.join(dir, f));
  }
}
