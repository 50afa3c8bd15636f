import { join } from 'node:path';
import { resolveCacheDir } from '../corpus/cache.js';
import { readCorpus, type Document } from '../corpus/corpus.js';
import { listCorpus, type CorpusDocument } from '../corpus/documents.js';
import { resolveCorpusSpecs } from '../corpus/default-corpus.js';
import { InkwellError } from '../utils/errors.js';

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
  return fromFlags(flags, (specs, clean) => readCorpus(specs, { clean }));
}

/** As corpusFromFlags, but streamed: the documents are scanned, not held in memory (for commands that build token caches). */
export function corpusSourcesFromFlags(flags: CorpusFlags): CorpusDocument[] {
  return fromFlags(flags, (specs, clean) => listCorpus(specs, { clean }));
}

function fromFlags<T>(flags: CorpusFlags, read: (specs: string[], clean: boolean) => T): T {
  const resolved = resolveCorpusSpecs(flags.corpus, { cacheDir: join(resolveCacheDir(flags.cache), 'gutenberg') });
  if (resolved.origin !== 'flag') process.stderr.write(`corpus: ${resolved.description}\n`);
  try {
    return read(resolved.specs, flags.clean ?? true);
  } catch (err) {
    // The readers name the flag; a corpus from the environment should name the variable.
    if (err instanceof InkwellError && resolved.origin === 'env') throw new InkwellError(err.message.replace(/--corpus\b/g, '$INKWELL_CORPUS'), err.hint);
    throw err;
  }
}
