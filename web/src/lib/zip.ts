/** A model's files as one .zip (fflate), the way the browser hands a trained model to `inkwell generate`. */
import { strFromU8, strToU8, unzipSync, zipSync } from 'fflate';
import { InkwellError, errorMessage } from '../../../src/utils/errors.js';

/** The files that make a model directory loadable by inkwell and transformers (training state stays in the browser). */
const MODEL_DIR_FILES = ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json', 'generation_config.json'];

export function zipModel(files: ReadonlyMap<string, Uint8Array | string>): Uint8Array {
  const entries: Record<string, Uint8Array> = {};
  for (const name of MODEL_DIR_FILES) {
    const f = files.get(name);
    if (f !== undefined) entries[name] = typeof f === 'string' ? strToU8(f) : f;
  }
  return zipSync(entries, { level: 6 });
}

/** A zip's files by name; JSON files as text. `source` names the zip in errors. */
export function unzipModel(bytes: Uint8Array, source: string): Map<string, Uint8Array | string> {
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(bytes);
  } catch (err) {
    throw new InkwellError(`${source} is not a zip file: ${errorMessage(err)}`);
  }
  const files = new Map<string, Uint8Array | string>();
  for (const [name, data] of Object.entries(entries)) {
    // A zip of a folder holds its files under the folder's name: keep the base names.
    const base = name.slice(name.lastIndexOf('/') + 1);
    if (base) files.set(base, base.endsWith('.json') ? strFromU8(data) : data);
  }
  return files;
}
