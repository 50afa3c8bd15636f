import { readFileSync, readdirSync, statSync, type Stats } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import { unzipSync } from 'fflate';
import { InkwellError, errorMessage } from '../utils/errors.js';
import { decodeText, type TextEncoding } from './decode.js';
import { cleanGutenbergText, type BookMetadata } from './clean.js';
import { globFiles, isGlob } from './glob.js';

/** One text of a corpus after decoding and boilerplate removal. */
export interface Document {
  /** Short stable name, e.g. "austen-emma" (file name without .txt). */
  name: string;
  /** Where it came from: a path, or "archive.zip:member". */
  source: string;
  text: string;
  encoding: TextEncoding;
  metadata: BookMetadata;
}

export interface ReadCorpusOptions {
  /** Normalise line endings and NFC, remove Project Gutenberg headers/footers and NLTK title lines (default true); false keeps the text as it is. */
  clean?: boolean;
}

/**
 * Reads every document named by `specs`: a text file, a directory (its *.txt
 * files, sorted), a glob such as "books/**\/*.txt", or a zip archive such as
 * NLTK's gutenberg.zip (its *.txt members). Documents come back sorted by
 * name within each spec; a spec that matches nothing is an error, as is a
 * corpus with no text at all.
 */
export function readCorpus(specs: string | readonly string[], options: ReadCorpusOptions = {}): Document[] {
  const list = typeof specs === 'string' ? [specs] : specs;
  if (list.length === 0) throw new InkwellError('no corpus given', 'pass --corpus PATH (a file, directory, glob or .zip)');
  const docs: Document[] = [];
  for (const spec of list) docs.push(...readSpec(spec, options.clean ?? true));
  const totalChars = docs.reduce((n, d) => n + d.text.trim().length, 0);
  if (totalChars === 0) throw new InkwellError(`corpus ${list.join(', ')} is empty`, 'the files contain no text');
  return docs;
}

/** What one --corpus spec names: text files (sorted within the spec), or a zip archive. */
export type SpecEntry = { kind: 'file'; path: string } | { kind: 'zip'; path: string };

export function specEntries(spec: string): SpecEntry[] {
  if (isGlob(spec)) {
    const files = globFiles(spec);
    if (files.length === 0) throw new InkwellError(`--corpus ${spec} matches no files`);
    return files.map((path) => ({ kind: 'file', path }));
  }
  const path = resolve(spec);
  const stats = statOrThrow(path, spec);
  if (stats.isDirectory()) {
    const files = readdirSync(path).filter((f) => f.endsWith('.txt')).sort();
    if (files.length === 0) throw new InkwellError(`--corpus ${spec}: directory has no .txt files`);
    return files.map((f) => ({ kind: 'file', path: join(path, f) }));
  }
  return [{ kind: extname(path).toLowerCase() === '.zip' ? 'zip' : 'file', path }];
}

function readSpec(spec: string, clean: boolean): Document[] {
  return specEntries(spec).flatMap((e) => (e.kind === 'zip' ? readZip(e.path, clean) : [readTextFile(e.path, clean)]));
}

function statOrThrow(path: string, spec: string): Stats {
  try {
    return statSync(path);
  } catch {
    throw new InkwellError(`--corpus ${spec}: no such file or directory`);
  }
}

function readTextFile(path: string, clean: boolean): Document {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new InkwellError(`cannot read ${path}: ${errorMessage(err)}`);
  }
  return toDocument(bytes, path, basename(path, extname(path)), clean);
}

export function readZip(path: string, clean: boolean): Document[] {
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(readFileSync(path), { filter: (f) => f.name.endsWith('.txt') });
  } catch (err) {
    throw new InkwellError(`cannot read zip archive ${path}: ${errorMessage(err)}`);
  }
  const names = Object.keys(entries).sort();
  if (names.length === 0) throw new InkwellError(`zip archive ${path} has no .txt members`);
  return names.map((member) => {
    const name = basename(member, '.txt');
    return toDocument(entries[member]!, `${path}:${member}`, name, clean);
  });
}

/**
 * Decodes one text's bytes; `clean` normalises it (LF, NFC) and strips PG
 * boilerplate, while clean = false keeps the text exactly as written, so a
 * char tokenizer trained on it round-trips the file, \r included.
 */
export function toDocument(bytes: Uint8Array, source: string, name: string, clean = true): Document {
  const { text, encoding } = decodeText(bytes, source, { normalize: clean });
  if (!clean) return { name, source, text, encoding, metadata: {} };
  const cleaned = cleanGutenbergText(text);
  return { name, source, text: cleaned.body, encoding, metadata: cleaned.metadata };
}

