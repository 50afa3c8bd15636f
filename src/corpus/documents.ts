/**
 * A corpus as documents that are read when needed rather than held in
 * memory: each plain file is scanned once (size, sha256, encoding) and
 * measured once (its cleaned length), then streamed again by whoever
 * consumes it (the tokenizer sample, the token cache). A file up to the
 * chunk size is read whole and cleaned exactly as readCorpus does; a larger
 * one flows through the streaming cleaner in chunks. Zip members are
 * decompressed in memory (archives are small; bring plain files for corpora
 * beyond memory).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { InkwellError, errorMessage } from '../utils/errors.js';
import { StreamingCleaner, findBodyStart } from './clean-stream.js';
import { readZip, specEntries, toDocument, type Document } from './corpus.js';
import { DEFAULT_CHUNK_BYTES, fileText, scanFile, type FileScan } from './file-text.js';

export interface CorpusDocument {
  readonly name: string;
  /** Where it came from: a path, or "archive.zip:member". */
  readonly source: string;
  /** The plain file behind it, when there is one (what a changed corpus is checked against). */
  readonly path?: string;
  /** Size and sha256 of the raw bytes (the file; a zip member's or an in-memory text's UTF-8). */
  readonly bytes: number;
  readonly sha256: string;
  /** Length of the cleaned text in UTF-16 units (String#length). */
  readonly chars: number;
  /** Offset of the last line break before the text's final character, or -1 (where a lone document's split may cut). */
  readonly lastInnerNewline: number;
  /** The cleaned text holds only whitespace. */
  readonly blank: boolean;
  /** The cleaned text in pieces (ending at line breaks where the file has them); concatenated, the document's text. */
  pieces(): Iterable<string>;
}

export interface ListCorpusOptions {
  clean?: boolean;
  /** Bytes read at a time; larger files are streamed (default 16 MiB). */
  chunkBytes?: number;
}

/** The documents of `specs` (as readCorpus names them), scanned and measured but not held in memory. */
export function listCorpus(specs: string | readonly string[], options: ListCorpusOptions = {}): CorpusDocument[] {
  const list = typeof specs === 'string' ? [specs] : specs;
  if (list.length === 0) throw new InkwellError('no corpus given', 'pass --corpus PATH (a file, directory, glob or .zip)');
  const clean = options.clean ?? true;
  const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  if (!(Number.isInteger(chunkBytes) && chunkBytes >= 16)) throw new RangeError(`chunkBytes must be an integer ≥ 16, got ${chunkBytes}`);
  const docs: CorpusDocument[] = [];
  for (const spec of list) {
    for (const e of specEntries(spec)) {
      if (e.kind === 'zip') docs.push(...readZip(e.path, clean).map((d) => memoryDocument(d)));
      else docs.push(new FileDocument(e.path, clean, chunkBytes));
    }
  }
  if (docs.every((d) => d.blank)) throw new InkwellError(`corpus ${list.join(', ')} is empty`, 'the files contain no text');
  return docs;
}

/** An in-memory document (readCorpus, the library API) as a CorpusDocument. */
export function memoryDocument(doc: Document): CorpusDocument {
  const raw = Buffer.from(doc.text, 'utf8');
  return {
    name: doc.name,
    source: doc.source,
    bytes: raw.length,
    sha256: createHash('sha256').update(raw).digest('hex'),
    ...measure([doc.text]),
    pieces: () => [doc.text],
  };
}

export function isCorpusDocument(d: Document | CorpusDocument): d is CorpusDocument {
  return typeof (d as CorpusDocument).pieces === 'function';
}

interface Measure {
  chars: number;
  lastInnerNewline: number;
  blank: boolean;
}

function measure(pieces: Iterable<string>): Measure {
  let chars = 0;
  let last = -1;
  let previous = -1;
  let blank = true;
  for (const piece of pieces) {
    const i = piece.lastIndexOf('\n');
    if (i >= 0) {
      const j = i > 0 ? piece.lastIndexOf('\n', i - 1) : -1;
      previous = j >= 0 ? chars + j : last;
      last = chars + i;
    }
    if (blank && piece.trim() !== '') blank = false;
    chars += piece.length;
  }
  return { chars, lastInnerNewline: last === chars - 1 ? previous : last, blank };
}

class FileDocument implements CorpusDocument {
  readonly name: string;
  readonly source: string;
  readonly path: string;
  readonly bytes: number;
  readonly sha256: string;
  readonly chars: number;
  readonly lastInnerNewline: number;
  readonly blank: boolean;
  private readonly scan: FileScan;
  private readonly bodyStart: number | undefined;

  constructor(path: string, private readonly clean: boolean, private readonly chunkBytes: number) {
    this.path = path;
    this.source = path;
    this.name = basename(path, extname(path));
    this.scan = scanFile(path, chunkBytes);
    this.bytes = this.scan.bytes;
    this.sha256 = this.scan.sha256;
    this.bodyStart = clean && !this.whole ? findBodyStart(fileText(path, this.scan.encoding, chunkBytes, true)) : undefined;
    const m = measure(this.pieces());
    this.chars = m.chars;
    this.lastInnerNewline = m.lastInnerNewline;
    this.blank = m.blank;
  }

  private get whole(): boolean {
    return this.scan.bytes <= this.chunkBytes;
  }

  *pieces(): Generator<string> {
    if (this.whole) {
      let bytes: Buffer;
      try {
        bytes = readFileSync(this.path);
      } catch (err) {
        throw new InkwellError(`cannot read ${this.path}: ${errorMessage(err)}`);
      }
      yield toDocument(bytes, this.path, this.name, this.clean).text;
      return;
    }
    const text = fileText(this.path, this.scan.encoding, this.chunkBytes, this.clean);
    if (!this.clean) {
      yield* text;
      return;
    }
    const cleaner = new StreamingCleaner(this.bodyStart);
    for (const piece of text) yield* cleaner.push(piece);
    yield* cleaner.finish();
  }
}
