import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { InkwellError, errorMessage } from '../utils/errors.js';
import { writeJsonAtomic } from '../utils/fs.js';

/** Where downloads live: the --cache flag, else $INKWELL_CACHE, else ~/.cache/inkwell. */
export function resolveCacheDir(flag?: string): string {
  const dir = flag ?? process.env['INKWELL_CACHE'];
  return resolve(dir && dir.length > 0 ? dir : join(homedir(), '.cache', 'inkwell'));
}

export interface ManifestEntry {
  ebook: number;
  /** File name inside the cache's gutenberg/ directory. */
  file: string;
  url: string;
  bytes: number;
  sha256: string;
  downloadedAt: string;
}

export interface Manifest {
  version: 1;
  files: Record<string, ManifestEntry>;
}

const MANIFEST = 'manifest.json';

export function readManifest(dir: string): Manifest {
  const path = join(dir, MANIFEST);
  if (!existsSync(path)) return { version: 1, files: {} };
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as Manifest;
    if (parsed.version !== 1 || typeof parsed.files !== 'object' || parsed.files === null) throw new Error('unexpected layout');
    return parsed;
  } catch (err) {
    throw new InkwellError(`cache manifest ${path} is corrupt: ${errorMessage(err)}`, 'delete it (downloads will be verified again) or pass another --cache');
  }
}

export function writeManifest(dir: string, manifest: Manifest): void {
  writeJsonAtomic(join(dir, MANIFEST), manifest);
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The cached bytes of an entry when the file is present and matches its recorded hash. */
export function readVerified(dir: string, entry: ManifestEntry): Uint8Array | undefined {
  const path = join(dir, entry.file);
  if (!existsSync(path)) return undefined;
  const bytes = readFileSync(path);
  return bytes.length === entry.bytes && sha256(bytes) === entry.sha256 ? bytes : undefined;
}
