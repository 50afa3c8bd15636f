import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { InkwellError } from '../utils/errors.js';
import { resolveCacheDir } from '../data/cache.js';
import { readCorpus, type Document } from '../data/corpus.js';

export interface CorpusFlags {
  corpus?: string[];
  cache?: string;
  clean?: boolean;
}

/** The documents named by --corpus, or by default the books `inkwell data download` put in the cache. */
export function corpusFromFlags(flags: CorpusFlags): Document[] {
  if (flags.corpus && flags.corpus.length > 0) return readCorpus(flags.corpus, { clean: flags.clean ?? true });
  const downloaded = join(resolveCacheDir(flags.cache), 'gutenberg');
  if (!existsSync(downloaded)) {
    throw new InkwellError(`no --corpus given and nothing downloaded in ${downloaded}`, 'pass --corpus PATH (file, directory, glob or .zip) or run `inkwell data download`');
  }
  return readCorpus(downloaded, { clean: flags.clean ?? true });
}
