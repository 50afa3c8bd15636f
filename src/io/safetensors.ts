/**
 * safetensors files: reading (the whole file, or only its validated header) and
 * atomic writing. The format itself, bytes only, is in safetensors-codec.ts.
 */
import fs from 'node:fs';
import { InkwellError, errorMessage } from '../utils/errors.js';
import { writeFileAtomic } from '../utils/fs.js';
import { decodeSafetensors, encodeSafetensors, MAX_HEADER, parseHeader, type NamedTensor, type SafetensorsFile, type SafetensorsHeader } from './safetensors-codec.js';

export { decodeSafetensors, encodeSafetensors, type NamedTensor, type SafetensorsFile, type SafetensorsHeader, type TensorEntry } from './safetensors-codec.js';

export function writeSafetensors(path: string, tensors: ReadonlyMap<string, NamedTensor>, metadata?: Record<string, string>): void {
  writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}

export function readSafetensors(path: string): SafetensorsFile {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(path);
  } catch (err) {
    throw new InkwellError(`cannot read ${path}: ${errorMessage(err)}`);
  }
  return decodeSafetensors(bytes, path);
}

/** Reads and validates only the header (against the file's size): what a file holds and where, without its data. */
export function readSafetensorsHeader(path: string): SafetensorsHeader {
  let fd: number | undefined;
  try {
    fd = fs.openSync(path, 'r');
    return readHeaderAt(fd, path);
  } catch (err) {
    if (err instanceof InkwellError) throw err;
    throw new InkwellError(`cannot read ${path}: ${errorMessage(err)}`);
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** readSafetensorsHeader on a descriptor the caller holds open (and keeps reading: see model-dir.ts). */
export function readHeaderAt(fd: number, path: string): SafetensorsHeader {
  try {
    const size = fs.fstatSync(fd).size;
    const head = Buffer.alloc(Math.min(size, 8));
    fs.readSync(fd, head, 0, head.length, 0);
    const headerLen = head.length === 8 ? Number(head.readBigUInt64LE(0)) : 0;
    const json = Buffer.alloc(Math.max(0, Math.min(headerLen, size - 8, MAX_HEADER)));
    fs.readSync(fd, json, 0, json.length, 8);
    return parseHeader(size, headerLen, json, path);
  } catch (err) {
    if (err instanceof InkwellError) throw err;
    throw new InkwellError(`cannot read ${path}: ${errorMessage(err)}`);
  }
}
