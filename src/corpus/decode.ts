import { InkwellError } from '../utils/errors.js';

export type TextEncoding = 'utf-8' | 'latin1';

export interface DecodedText {
  text: string;
  encoding: TextEncoding;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/**
 * Turns raw file bytes into normalised text: UTF-8 (a BOM is dropped) when the
 * bytes are valid UTF-8, otherwise Latin-1 (two of NLTK's Gutenberg files are
 * Latin-1, and every byte sequence is valid Latin-1). CRLF and lone CR become
 * LF, and the result is Unicode NFC so that "é" has one spelling, unless
 * `normalize` is false (--no-clean: the text exactly as the file has it).
 * Binary input (NUL bytes or many control characters) is rejected, naming `source`.
 */
export function decodeText(bytes: Uint8Array, source: string, options: { normalize?: boolean } = {}): DecodedText {
  if (looksBinary(bytes)) {
    throw new InkwellError(`${source} looks like a binary file, not text`, 'pass plain-text files (UTF-8 or Latin-1)');
  }
  let text: string;
  let encoding: TextEncoding;
  try {
    text = strictUtf8.decode(bytes);
    encoding = 'utf-8';
  } catch {
    text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
    encoding = 'latin1';
  }
  return { text: options.normalize ?? true ? normalizeText(text) : text, encoding };
}

/** LF line endings and NFC, the form every later stage assumes. */
export function normalizeText(text: string): string {
  return text.replace(/\r\n?/g, '\n').normalize('NFC');
}

/**
 * Heuristic on the first 8 KiB: any NUL byte, or more than 10% control bytes
 * other than tab, newline, carriage return and form feed, means binary.
 */
export function looksBinary(bytes: Uint8Array): boolean {
  const n = Math.min(bytes.length, 8192);
  let control = 0;
  for (let i = 0; i < n; i++) {
    const b = bytes[i]!;
    if (b === 0) return true;
    if (b < 32 && b !== 9 && b !== 10 && b !== 13 && b !== 12) control++;
  }
  return n > 0 && control / n > 0.1;
}
