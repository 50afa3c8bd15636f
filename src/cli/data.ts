import type { Command } from 'commander';
import { InkwellError } from '../utils/errors.js';
import { createProgress } from '../utils/progress.js';
import { resolveCacheDir } from '../corpus/cache.js';
import { NLTK_GUTENBERG, findCatalogEntry } from '../corpus/catalog.js';
import { downloadEbooks, type DownloadResult } from '../corpus/download.js';
import { corpusStatistics, formatStatsTable } from '../corpus/stats.js';
import { knownWords, wordList } from '../corpus/known-words.js';
import { readFileSync } from 'node:fs';
import { corpusRecord, prepareTokenCache, readTokenCacheMeta } from '../dataset/token-cache.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadTokenizer } from '../tokenizers/io.js';
import { corpusFromFlags, corpusSourcesFromFlags, type CorpusFlags } from './corpus-option.js';
import { fractionOption, intOption } from './options.js';

/** `inkwell data download|prepare|stats|known-words`. */
export function register(program: Command): void {
  const data = program.command('data').description('download, inspect and encode text corpora');

  data.command('download')
    .description("fetch books from Project Gutenberg into the cache (default: NLTK's 18 gutenberg texts)")
    .argument('[books...]', 'NLTK ids (austen-emma) or ebook numbers (158)')
    .option('--cache <dir>', 'cache directory (default $INKWELL_CACHE or ~/.cache/inkwell)')
    .option('--mirror <url>', 'mirror base URL, or a URL template containing {id}')
    .option('--retries <n>', 'retries per URL', intOption(0, 100), 3)
    .option('--timeout <ms>', 'give up after this long without data', intOption(1, 86_400_000), 30_000)
    .option('--delay <ms>', 'pause between downloads (be polite)', intOption(0, 3_600_000), 2_000)
    .option('--force', 'download again even if cached')
    .option('--list', 'only list the catalog')
    .action(async (books: string[], opts: { cache?: string; mirror?: string; retries: number; timeout: number; delay: number; force?: boolean; list?: boolean }) => {
      if (opts.list) {
        for (const e of NLTK_GUTENBERG) console.log(`${e.id.padEnd(22)} ${String(e.ebook).padStart(5)}  ${e.title} — ${e.author}`);
        return;
      }
      const ebooks = (books.length > 0 ? books : NLTK_GUTENBERG.map((e) => e.id)).map(parseBook);
      const cacheDir = resolveCacheDir(opts.cache);
      const progress = createProgress();
      progress.start(ebooks.length, 'starting');
      let finished = 0;
      let results: DownloadResult[];
      try {
        results = await downloadEbooks(ebooks, {
          cacheDir,
          ...(opts.mirror === undefined ? {} : { mirror: opts.mirror }),
          retries: opts.retries,
          idleTimeoutMs: opts.timeout,
          politeDelayMs: opts.delay,
          force: opts.force ?? false,
          onEvent: (e) => {
            if (e.type === 'fetching') progress.update(finished, `ebook ${e.ebook}`);
            if (e.type === 'retry') process.stderr.write(`\nretrying ebook ${e.ebook}: ${e.error}\n`);
            if (e.type === 'stale-fallback') process.stderr.write(`\nusing cached ebook ${e.ebook}: ${e.error}\n`);
            if (e.type === 'done' || e.type === 'cached') progress.update(++finished, `ebook ${e.ebook}`);
          },
        });
      } finally {
        progress.stop();
      }
      for (const r of results) console.log(`${String(r.ebook).padStart(5)}  ${r.fromCache ? 'cached ' : 'fetched'}  ${r.bytes.toLocaleString('en-US').padStart(10)} B  ${r.sha256.slice(0, 16)}  ${r.path}`);
    });

  data.command('stats')
    .description('per-book and total counts: characters, words, sentences, vocabulary, type/token ratio')
    .option('--corpus <paths...>', 'files, directories, globs or .zip archives (default: $INKWELL_CORPUS, ../shared/data/gutenberg, the downloaded books, else the bundled ones)')
    .option('--cache <dir>', 'cache directory used when --corpus is absent')
    .option('--no-clean', 'keep the text as it is: Project Gutenberg boilerplate, CR line endings, no NFC')
    .option('--json', 'print JSON instead of a table')
    .action((opts: CorpusFlags & { json?: boolean }) => {
      const docs = corpusFromFlags(opts);
      const progress = createProgress();
      progress.start(docs.length, 'analysing');
      const report = corpusStatistics(docs, (done, name) => progress.update(done, name));
      progress.stop();
      console.log(opts.json ? JSON.stringify(report, null, 2) : formatStatsTable(report));
    });

  data.command('prepare')
    .description('encode a corpus once into a token cache (train.bin, val.bin, meta.json)')
    .requiredOption('--tokenizer <path>', 'tokenizer.json, or a directory containing it')
    .requiredOption('--out <dir>', 'token cache directory to write')
    .option('--corpus <paths...>', 'files, directories, globs or .zip archives (default: $INKWELL_CORPUS, ../shared/data/gutenberg, the downloaded books, else the bundled ones)')
    .option('--cache <dir>', 'cache directory used when --corpus is absent')
    .option('--no-clean', 'keep the text as it is: Project Gutenberg boilerplate, CR line endings, no NFC')
    .option('--val-fraction <f>', 'share of documents held out for validation', fractionOption, 0.1)
    .option('--seed <n>', 'seed of the train/validation split', intOption(0), 0)
    .option('--no-separator', 'do not append the eos token after each document')
    .option('--rebuild-cache', 'replace a token cache already in --out that was built from another corpus, tokenizer or settings')
    .action((opts: CorpusFlags & { tokenizer: string; out: string; valFraction: number; seed: number; separator: boolean; rebuildCache?: boolean }) => {
      const tokenizer = loadTokenizer(opts.tokenizer);
      const docs = corpusSourcesFromFlags(opts);
      if (existsSync(join(opts.out, 'meta.json')) && !opts.rebuildCache) {
        const old = readTokenCacheMeta(opts.out);
        const corpus = corpusRecord(docs, opts.clean ?? true);
        const changed = old.corpus?.files.find((f, i) => f.sha256 !== corpus.files[i]?.sha256 || f.source !== corpus.files[i]?.source)
          ?? (old.corpus && old.corpus.files.length !== corpus.files.length ? corpus.files[old.corpus.files.length] : undefined);
        const what = changed ? `corpus file ${changed.path ?? changed.source} has changed since it was built`
          : old.tokenizerHash !== tokenizer.hash() ? 'it was built with another tokenizer'
          : old.corpus?.sha256 !== corpus.sha256 || old.corpus.clean !== corpus.clean ? 'it was built from another corpus'
          : old.valFraction !== opts.valFraction || old.seed !== opts.seed || (old.separator !== null) !== (opts.separator && tokenizer.special.eos !== undefined) ? 'it was built with other settings'
          : undefined;
        if (!what) {
          console.log(`token cache ${opts.out} is up to date (same corpus, tokenizer and settings)`);
          return;
        }
        throw new InkwellError(`token cache ${opts.out} already exists and ${what}`, 'pass --rebuild-cache to encode the corpus again into it');
      }
      const progress = createProgress();
      progress.start(docs.length, 'encoding');
      const meta = prepareTokenCache(docs, tokenizer, opts.out, {
        valFraction: opts.valFraction,
        seed: opts.seed,
        separateDocuments: opts.separator,
        clean: opts.clean ?? true,
        onProgress: (done, _total, name) => progress.update(done, name),
      });
      progress.stop();
      const valDocs = meta.documents.filter((d) => d.split === 'val').map((d) => d.name);
      console.log(`train: ${meta.splits.train.tokens.toLocaleString('en-US')} tokens, val: ${meta.splits.val.tokens.toLocaleString('en-US')} tokens (${valDocs.join(', ') || 'none'}), ${meta.dtype}, in ${opts.out}`);
    });

  data.command('known-words')
    .description("the share of a text's words (e.g. a generated sample) that occur in a corpus's word list")
    .requiredOption('--text <file>', "the text to check ('-' reads standard input)")
    .option('--corpus <paths...>', 'the word list comes from these files, directories, globs or .zip archives (default as for stats)')
    .option('--cache <dir>', 'cache directory used when --corpus is absent')
    .option('--no-clean', 'keep the text as it is: Project Gutenberg boilerplate, CR line endings, no NFC')
    .option('--json', 'print JSON instead of a sentence')
    .action((opts: CorpusFlags & { text: string; json?: boolean }) => {
      let sample: string;
      try {
        sample = readFileSync(opts.text === '-' ? 0 : opts.text, 'utf8');
      } catch {
        throw new InkwellError(`--text ${opts.text}: cannot read the file`);
      }
      const report = knownWords(sample, wordList(corpusFromFlags(opts).map((d) => d.text)));
      if (report.words === 0) throw new InkwellError(`--text ${opts.text} has no words to check`);
      if (opts.json) {
        console.log(JSON.stringify(report, null, 2));
        return;
      }
      const shown = report.unknown.slice(0, 12).join(', ');
      console.log(`${report.known.toLocaleString('en-US')} of ${report.words.toLocaleString('en-US')} words (${(100 * report.share).toFixed(1)}%) occur in the corpus's word list` +
        (report.unknown.length ? `; not in it: ${shown}${report.unknown.length > 12 ? ', …' : ''}` : ''));
    });
}

function parseBook(book: string): number {
  const entry = findCatalogEntry(book);
  if (entry) return entry.ebook;
  if (/^\d+$/.test(book)) return Number(book);
  throw new InkwellError(`unknown book "${book}"`, 'use an NLTK id such as austen-emma or a Project Gutenberg ebook number (see `inkwell data download --list`)');
}
