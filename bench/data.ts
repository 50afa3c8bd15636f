import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readCorpus } from '../src/corpus/corpus.js';
import { openTokenCacheSplit, prepareTokenCache } from '../src/dataset/token-cache.js';
import { WindowBatcher } from '../src/dataset/batches.js';
import { trainByteLevelBpe } from '../src/tokenizers/bpe-trainer.js';

/** The local Gutenberg corpus: $INKWELL_BENCH_CORPUS, else ../shared/data/gutenberg beside the repository. */
function corpusDir(): string | undefined {
  const repoRoot = resolve(fileURLToPath(import.meta.url), '..', '..', '..');
  const dir = process.env['INKWELL_BENCH_CORPUS'] ?? join(repoRoot, '..', 'shared', 'data', 'gutenberg');
  return existsSync(dir) ? dir : undefined;
}

const seconds = (since: number) => Number(((performance.now() - since) / 1000).toFixed(3));

/**
 * Data pipeline benchmark on the whole local Gutenberg corpus: read + clean,
 * train an 8,000-token byte-level BPE, encode every book (MB/s), check the
 * encode→decode round trip is lossless for each book, build the token cache
 * and time random batch reads.
 */
export async function benchData(): Promise<object> {
  const dir = corpusDir();
  if (!dir) return { skipped: 'no corpus: set INKWELL_BENCH_CORPUS or provide ../shared/data/gutenberg' };

  let t = performance.now();
  const docs = readCorpus(dir);
  const readSeconds = seconds(t);
  const texts = docs.map((d) => d.text);
  const bytes = texts.reduce((n, s) => n + Buffer.byteLength(s, 'utf8'), 0);

  t = performance.now();
  const tokenizer = trainByteLevelBpe(texts, { vocabSize: 8000 });
  const trainSeconds = seconds(t);

  t = performance.now();
  const encoded = texts.map((s) => tokenizer.encode(s));
  const encodeSeconds = seconds(t);
  const tokens = encoded.reduce((n, ids) => n + ids.length, 0);

  t = performance.now();
  const lossless = encoded.map((ids, i) => ({ book: docs[i]!.name, lossless: tokenizer.decode(ids) === texts[i] }));
  const decodeSeconds = seconds(t);

  const cacheDir = mkdtempSync(join(tmpdir(), 'inkwell-bench-'));
  try {
    t = performance.now();
    const meta = prepareTokenCache(docs, tokenizer, cacheDir, { valFraction: 0.1, seed: 0 });
    const prepareSeconds = seconds(t);
    const batcher = new WindowBatcher(openTokenCacheSplit(cacheDir, 'train', tokenizer), { batchSize: 32, contextLength: 256, seed: 0 });
    t = performance.now();
    for (let i = 0; i < 200; i++) batcher.next();
    const batchMs = Number(((performance.now() - t) / 200).toFixed(4));
    return {
      corpus: { dir, books: docs.length, megabytes: Number((bytes / 1e6).toFixed(3)), readSeconds },
      bpe: {
        vocabSize: tokenizer.vocabSize,
        trainSeconds,
        encodeSeconds,
        encodeMBps: Number((bytes / 1e6 / encodeSeconds).toFixed(2)),
        decodeMBps: Number((bytes / 1e6 / decodeSeconds).toFixed(2)),
        tokens,
        bytesPerToken: Number((bytes / tokens).toFixed(3)),
        losslessBooks: lossless.filter((b) => b.lossless).length,
        lossyBooks: lossless.filter((b) => !b.lossless).map((b) => b.book),
      },
      tokenCache: { prepareSeconds, trainTokens: meta.splits.train.tokens, valTokens: meta.splits.val.tokens, dtype: meta.dtype },
      batches: { batchSize: 32, contextLength: 256, msPerBatch: batchMs },
    };
  } finally {
    rmSync(cacheDir, { recursive: true, force: true });
  }
}
