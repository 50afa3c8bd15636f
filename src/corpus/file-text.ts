/**
 * A text file read in fixed-size chunks, so that a corpus of any size passes
 * through decoding in bounded memory: a first pass checks it (binary or not,
 * UTF-8 or Latin-1) and hashes it; later passes decode it into pieces that
 * end at line breaks, so CRLF pairs, UTF-8 sequences and NFC compositions are
 * never cut (a line break is a safe boundary for all three).
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { isUtf8 } from 'node:buffer';
import { createHash } from 'node:crypto';
import { InkwellError, errorMessage } from '../utils/errors.js';
import { looksBinary, type TextEncoding } from './decode.js';

/** Bytes read at a time (and the size up to which a file is read whole). */
export const DEFAULT_CHUNK_BYTES = 16 * 1024 * 1024;

/** A line longer than this is cut before an ASCII character (which never composes with what precedes it under NFC). */
const LINE_LIMIT = 1024 * 1024;

export interface FileScan {
  bytes: number;
  sha256: string;
  encoding: TextEncoding;
}

/** The file's chunks, each a view of one reused buffer. */
export function* fileChunks(path: string, chunkBytes: number): Generator<Buffer> {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw new InkwellError(`cannot read ${path}: ${errorMessage(err)}`);
  }
  try {
    const buf = Buffer.allocUnsafe(chunkBytes);
    for (;;) {
      const n = readSync(fd, buf, 0, chunkBytes, null);
      if (n === 0) return;
      yield buf.subarray(0, n);
    }
  } finally {
    closeSync(fd);
  }
}

/** Size, sha256 and encoding of a file in one streamed pass; binary files are refused as decodeText refuses them. */
export function scanFile(path: string, chunkBytes: number): FileScan {
  const hash = createHash('sha256');
  let bytes = 0;
  let head = Buffer.alloc(0);
  let carry = Buffer.alloc(0);
  let utf8 = true;
  for (const chunk of fileChunks(path, chunkBytes)) {
    hash.update(chunk);
    if (head.length < 8192) head = Buffer.concat([head, chunk.subarray(0, 8192 - head.length)]);
    bytes += chunk.length;
    if (!utf8) continue;
    const data = carry.length > 0 ? Buffer.concat([carry, chunk]) : chunk;
    const tail = incompleteTail(data);
    utf8 = isUtf8(data.subarray(0, data.length - tail));
    carry = Buffer.from(data.subarray(data.length - tail));
  }
  if (looksBinary(head)) throw new InkwellError(`${path} looks like a binary file, not text`, 'pass plain-text files (UTF-8 or Latin-1)');
  return { bytes, sha256: hash.digest('hex'), encoding: utf8 && carry.length === 0 ? 'utf-8' : 'latin1' };
}

/** Bytes at the end of `buf` that start a UTF-8 sequence the chunk does not finish. */
function incompleteTail(buf: Uint8Array): number {
  for (let i = buf.length - 1; i >= Math.max(0, buf.length - 4); i--) {
    const b = buf[i]!;
    if ((b & 0xc0) === 0x80) continue;
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return buf.length - i < need ? buf.length - i : 0;
  }
  return 0;
}

/**
 * The decoded text in pieces; concatenated they equal decodeText() of the
 * whole file. With `normalize`, each piece ends at a line break (CR, LF
 * and NFC as decodeText does them, done per piece).
 */
export function* fileText(path: string, encoding: TextEncoding, chunkBytes: number, normalize: boolean): Generator<string> {
  const decoder = encoding === 'utf-8' ? new TextDecoder('utf-8', { ignoreBOM: false }) : undefined;
  const decode = (chunk: Buffer | undefined): string =>
    decoder ? decoder.decode(chunk, { stream: chunk !== undefined }) : (chunk?.toString('latin1') ?? '');
  let carry = '';
  for (const chunk of fileChunks(path, chunkBytes)) {
    const text = carry + decode(chunk);
    if (!normalize) {
      carry = '';
      if (text.length > 0) yield text;
      continue;
    }
    const cut = safeLineCut(text);
    carry = text.slice(cut);
    if (cut > 0) yield normalizePiece(text.slice(0, cut));
  }
  const rest = carry + decode(undefined);
  if (rest.length > 0) yield normalize ? normalizePiece(rest) : rest;
}

function normalizePiece(text: string): string {
  return text.replace(/\r\n?/g, '\n').normalize('NFC');
}

/** After the last line break; a line over LINE_LIMIT is cut before its last ASCII character that is not LF. */
function safeLineCut(text: string): number {
  const lf = text.lastIndexOf('\n');
  if (lf >= 0) return lf + 1;
  if (text.length <= LINE_LIMIT) return 0;
  for (let i = text.length - 1; i > 0; i--) if (text.charCodeAt(i) < 0x80 && text.charCodeAt(i) !== 10) return i;
  return 0;
}
