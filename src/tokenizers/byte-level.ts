/**
 * GPT-2's byte-level building blocks. Every UTF-8 byte is shown as one
 * printable Unicode character (bytes that are printable Latin-1 map to
 * themselves; the rest — controls, space, soft hyphen — to U+0100 onwards), so
 * BPE works on strings yet can represent any byte sequence, and decoding is
 * lossless.
 */

function buildByteToChar(): string[] {
  const printable: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) printable.push(b);
  for (let b = 0xa1; b <= 0xac; b++) printable.push(b);
  for (let b = 0xae; b <= 0xff; b++) printable.push(b);
  const map = new Array<string>(256);
  for (const b of printable) map[b] = String.fromCharCode(b);
  let next = 256;
  for (let b = 0; b < 256; b++) if (map[b] === undefined) map[b] = String.fromCharCode(next++);
  return map;
}

export const BYTE_TO_CHAR: readonly string[] = buildByteToChar();

export const CHAR_TO_BYTE: ReadonlyMap<string, number> = new Map(BYTE_TO_CHAR.map((c, b) => [c, b]));

/**
 * GPT-2's pre-tokenisation: contractions, optionally space-prefixed letter
 * runs, digit runs and symbol runs, and whitespace (a trailing space stays
 * with the next word). This is the exact pattern of Hugging Face's ByteLevel
 * pre-tokenizer, so ids match its implementation.
 */
export const GPT2_PATTERN = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

const encoder = new TextEncoder();

/** The byte-level string of `text` (each UTF-8 byte as its stand-in character). */
export function toByteLevel(text: string): string {
  const bytes = encoder.encode(text);
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += BYTE_TO_CHAR[bytes[i]!];
  return s;
}

/** The 256 byte stand-ins sorted by code point: the initial alphabet, in Hugging Face's order. */
export function byteAlphabet(): string[] {
  return [...BYTE_TO_CHAR].sort((a, b) => a.charCodeAt(0) - b.charCodeAt(0));
}
