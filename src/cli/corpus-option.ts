import { join } from 'node:path';
import { resolveCacheDir } from '../data/cache.js';
import { readCorpus, type Document } from '../data/corpus.js';
import { resolveCorpusSpecs } from '../data/default-corpus.js';

export interface CorpusFlags {
  corpus?: string[];
  cache?: string;
  clean?: boolean;
}

/**
 * The documents named by --corpus, or else the first corpus found by
 * resolveCorpusSpecs ($INKWELL_CORPUS, ../shared, the download cache, the
 * bundled books); a default choice is announced on stderr.
 */
export function corpusFromFlags(flags: CorpusFlags): Document[] {
  const resolved = resolveCorpusSpecs(flags.corpus, { cacheDir: join(resolveCacheDir(flags.cache), 'gutenberg') });
  if (resolved.origin !== 'flag') process.stderr.write(`corpus: ${resolved.description}\n`);
  return readCorpus(resolved.specs, { clean: flags.clean ?? true });
}
