import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { InkwellError } from '../utils/errors.js';
import { writeFileAtomic } from '../utils/fs.js';
import { NLTK_GUTENBERG } from './catalog.js';
import { readManifest, readVerified, sha256, writeManifest, type ManifestEntry } from './cache.js';
import { fetchBytes, FetchError } from './http.js';

/** Project Gutenberg's plain-text URLs, tried in order. */
export const GUTENBERG_URLS: readonly string[] = [
  'https://www.gutenberg.org/cache/epub/{id}/pg{id}.txt',
  'https://www.gutenberg.org/files/{id}/{id}-0.txt',
];

export type DownloadEvent =
  | { type: 'cached'; ebook: number }
  | { type: 'fetching'; ebook: number; url: string; attempt: number }
  | { type: 'bytes'; ebook: number; received: number; total: number | undefined }
  | { type: 'retry'; ebook: number; error: string; delayMs: number }
  | { type: 'stale-fallback'; ebook: number; error: string }
  | { type: 'done'; ebook: number; bytes: number };

export interface DownloadOptions {
  /** Cache root (see resolveCacheDir); books go to `<cacheDir>/gutenberg/`. */
  cacheDir: string;
  /** URL template with `{id}`, or a base URL to which `/cache/epub/{id}/pg{id}.txt` is appended. */
  mirror?: string;
  idleTimeoutMs?: number;
  /** Extra attempts per URL after the first, for retryable failures. */
  retries?: number;
  /** First back-off delay; doubles after each failed attempt. */
  retryDelayMs?: number;
  /** Pause between consecutive network downloads, to be polite to Project Gutenberg. */
  politeDelayMs?: number;
  /** Download again even when a verified copy is cached. */
  force?: boolean;
  onEvent?: (event: DownloadEvent) => void;
}

export interface DownloadResult {
  ebook: number;
  path: string;
  bytes: number;
  sha256: string;
  fromCache: boolean;
}

/**
 * Makes each ebook available in the cache: a copy whose size and sha256 match
 * the manifest is reused without touching the network (so a warm cache works
 * offline); anything else is fetched with retries and written atomically, and
 * the manifest is updated after every book so an interrupted run keeps what it
 * finished. When a forced re-download fails, a verified cached copy is used.
 */
export async function downloadEbooks(ebooks: readonly number[], options: DownloadOptions): Promise<DownloadResult[]> {
  const dir = join(options.cacheDir, 'gutenberg');
  const manifest = readManifest(dir);
  const emit = options.onEvent ?? (() => undefined);
  const results: DownloadResult[] = [];
  let networkUsed = false;
  for (const ebook of ebooks) {
    if (!Number.isInteger(ebook) || ebook <= 0) throw new InkwellError(`invalid ebook number ${ebook}`);
    const entry = manifest.files[String(ebook)];
    const cached = entry ? readVerified(dir, entry) : undefined;
    if (entry && cached && !options.force) {
      emit({ type: 'cached', ebook });
      results.push({ ebook, path: join(dir, entry.file), bytes: entry.bytes, sha256: entry.sha256, fromCache: true });
      continue;
    }
    if (networkUsed && (options.politeDelayMs ?? 2000) > 0) await sleep(options.politeDelayMs ?? 2000);
    networkUsed = true;
    let fetched: { bytes: Uint8Array; url: string };
    try {
      fetched = await fetchEbook(ebook, options, emit);
    } catch (err) {
      if (!(err instanceof InkwellError) || !entry || !cached) throw err;
      emit({ type: 'stale-fallback', ebook, error: err.message });
      results.push({ ebook, path: join(dir, entry.file), bytes: entry.bytes, sha256: entry.sha256, fromCache: true });
      continue;
    }
    const file = fileNameFor(ebook);
    writeFileAtomic(join(dir, file), fetched.bytes);
    const record: ManifestEntry = {
      ebook,
      file,
      url: fetched.url,
      bytes: fetched.bytes.length,
      sha256: sha256(fetched.bytes),
      downloadedAt: new Date().toISOString(),
    };
    manifest.files[String(ebook)] = record;
    writeManifest(dir, manifest);
    emit({ type: 'done', ebook, bytes: record.bytes });
    results.push({ ebook, path: join(dir, file), bytes: record.bytes, sha256: record.sha256, fromCache: false });
  }
  return results;
}

/** NLTK's name for catalog books (so the cache reads like NLTK's corpus), else "pg<N>.txt". */
function fileNameFor(ebook: number): string {
  const known = NLTK_GUTENBERG.find((e) => e.ebook === ebook);
  return known ? `${known.id}.txt` : `pg${ebook}.txt`;
}

export function urlsFor(ebook: number, mirror?: string): string[] {
  const templates = mirror === undefined
    ? GUTENBERG_URLS
    : [mirror.includes('{id}') ? mirror : `${mirror.replace(/\/+$/, '')}/cache/epub/{id}/pg{id}.txt`];
  return templates.map((t) => t.replaceAll('{id}', String(ebook)));
}

async function fetchEbook(
  ebook: number,
  options: DownloadOptions,
  emit: (e: DownloadEvent) => void,
): Promise<{ bytes: Uint8Array; url: string }> {
  const retries = options.retries ?? 3;
  const errors: string[] = [];
  for (const url of urlsFor(ebook, options.mirror)) {
    let delay = options.retryDelayMs ?? 1000;
    for (let attempt = 0; attempt <= retries; attempt++) {
      emit({ type: 'fetching', ebook, url, attempt });
      try {
        const bytes = await fetchBytes(url, {
          idleTimeoutMs: options.idleTimeoutMs ?? 30_000,
          onBytes: (received, total) => emit({ type: 'bytes', ebook, received, total }),
        });
        return { bytes, url };
      } catch (err) {
        if (!(err instanceof FetchError)) throw err;
        errors.push(err.message);
        if (!err.retryable || attempt === retries) break;
        emit({ type: 'retry', ebook, error: err.message, delayMs: delay });
        await sleep(delay);
        delay *= 2;
      }
    }
  }
  throw new InkwellError(
    `could not download ebook ${ebook}: ${errors[errors.length - 1] ?? 'no URL to try'}`,
    'check the network or pass --mirror URL; books already in the cache are used offline',
  );
}
