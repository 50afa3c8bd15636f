/**
 * Which corpus a command reads when the user names none. The order runs from
 * the most deliberate choice to the least: --corpus, then $INKWELL_CORPUS,
 * then the project's shared data beside the clone (../shared/data/gutenberg,
 * NLTK's 17-book selection), then the books `inkwell data download` put in
 * the cache, and last the few public-domain books bundled in the repository
 * (corpus/gutenberg), so that a fresh clone works offline.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type CorpusOrigin = 'flag' | 'env' | 'shared' | 'cache' | 'bundled';

export interface ResolvedCorpus {
  specs: string[];
  origin: CorpusOrigin;
  /** One line saying where the text comes from, for the user. */
  description: string;
}

export interface CorpusLocations {
  /** $INKWELL_CORPUS (default: the process environment's). */
  env?: string;
  /** The shared data folder (default: ../shared/data/gutenberg beside the package). */
  sharedDir?: string;
  /** The download cache's book folder (CACHE/gutenberg). */
  cacheDir: string;
  /** The bundled books (default: corpus/gutenberg in the package). */
  bundledDir?: string;
}

/** The repository (package) root: this file is dist/src/corpus/default-corpus.js. */
const PACKAGE_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export const BUNDLED_CORPUS_DIR = join(PACKAGE_ROOT, 'corpus', 'gutenberg');
export const SHARED_CORPUS_DIR = join(PACKAGE_ROOT, '..', 'shared', 'data', 'gutenberg');

export function resolveCorpusSpecs(flag: readonly string[] | undefined, where: CorpusLocations): ResolvedCorpus {
  if (flag && flag.length > 0) return { specs: [...flag], origin: 'flag', description: `--corpus ${flag.join(' ')}` };
  const env = where.env ?? process.env['INKWELL_CORPUS'];
  if (env !== undefined && env !== '') return { specs: [env], origin: 'env', description: `$INKWELL_CORPUS (${env})` };
  const shared = where.sharedDir ?? SHARED_CORPUS_DIR;
  if (hasText(shared)) return { specs: [shared], origin: 'shared', description: `the shared Gutenberg books in ${shared}` };
  if (hasText(where.cacheDir)) return { specs: [where.cacheDir], origin: 'cache', description: `the downloaded Gutenberg books in ${where.cacheDir}` };
  const bundled = where.bundledDir ?? BUNDLED_CORPUS_DIR;
  return { specs: [bundled], origin: 'bundled', description: `the Gutenberg books bundled with inkwell in ${bundled} (\`inkwell data download\` fetches the full selection)` };
}

/** A directory holding at least one .txt file (a cache folder that a failed download left empty does not count). */
function hasText(dir: string): boolean {
  try {
    return existsSync(dir) && statSync(dir).isDirectory() && readdirSync(dir).some((f) => f.endsWith('.txt'));
  } catch {
    return false;
  }
}
