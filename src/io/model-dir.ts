/**
 * A model directory, Hugging Face style: config.json, model.safetensors,
 * tokenizer.json + tokenizer_config.json, generation_config.json. All files of
 * one save are replaced together (see transaction.ts).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { modelFromConfigJson } from '../models/registry.js';
import { checkFinite, validateShapes, validateWeights, type Weights } from '../nn/params.js';
import { loadTokenizer } from '../tokenizers/io.js';
import { InkwellError, errorMessage } from '../utils/errors.js';
import { checkGpt2Config, gpt2TensorNames, normalizeGpt2Weights } from './hf-gpt2.js';
import { checkVocabularies, MODEL_FILE, modelFiles, type ModelBundle, type WeightsFile } from './model-files.js';
import { readSafetensors, readSafetensorsHeader, type TensorEntry } from './safetensors.js';
import { committedPath, ManifestMismatchError, pause, readCommitted, verifyManifest, writeFilesAtomically } from './transaction.js';

export { MODEL_FILE, modelFiles, type ModelBundle, type WeightsFile } from './model-files.js';

export function saveModel(dir: string, b: ModelBundle): void {
  writeFilesAtomically(dir, modelFiles(b));
}

/**
 * Reads the model in `dir` without writing anything there (a trainer may be
 * committing a checkpoint at this moment): the committed files, the weights
 * checked against the manifest saved with them. A mismatch met while a writer
 * renames is retried; one that stays is refused.
 */
export function loadModel(dir: string): ModelBundle & { metadata: Record<string, string> } {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new InkwellError(`model directory ${dir} does not exist`);
  for (let attempt = 0; ; attempt++) {
    try {
      verifyManifest(dir, [MODEL_FILE]);
      return loadCommitted(dir);
    } catch (err) {
      // A pending file renamed away under us (its name in the error) or a manifest of the next commit: the writer is mid-commit.
      const racing = err instanceof ManifestMismatchError || (err as NodeJS.ErrnoException).code === 'ENOENT' || /\.pending\b/.test(errorMessage(err));
      if (!racing || attempt >= 10) throw err;
      pause(20);
    }
  }
}

function loadCommitted(dir: string): ModelBundle & { metadata: Record<string, string> } {
  const configPath = path.join(dir, 'config.json');
  let config: unknown;
  try {
    config = JSON.parse(readCommitted(dir, 'config.json').toString('utf8'));
  } catch (err) {
    throw new InkwellError(`cannot read ${configPath}: ${errorMessage(err)}`, 'is this an inkwell or Hugging Face model directory?');
  }
  const model = modelFromConfigJson(config, configPath);
  // Hugging Face GPT-2 directories keep their own names and layouts, normalised here (see hf-gpt2.ts).
  const gpt2 = (config as Record<string, unknown>).model_type === 'gpt2';
  if (gpt2) checkGpt2Config(config as Record<string, unknown>, configPath);
  // Mid-commit, the committed weights are the pending file, which is renamed any moment: read now, not lazily.
  const weightsPath = committedPath(dir, MODEL_FILE);
  const settled = weightsPath === path.join(dir, MODEL_FILE);
  // The header now (names, shapes, sizes, offsets: a mismatch fails here); the data when first used.
  const { entries, metadata } = readSafetensorsHeader(weightsPath);
  // A GPT-2 directory from the Hugging Face Hub loads as it is (see hf-gpt2.ts).
  const names = gpt2 ? gpt2TensorNames([...entries.keys()]) : new Map([...entries.keys()].map((k) => [k, k]));
  validateShapes(model.specs, new Map([...names].map(([ours, theirs]) => [ours, entries.get(theirs)!.shape])), weightsPath);
  // tokenizer.json, or GPT-2's original vocab.json + merges.txt.
  const tokenizer = loadTokenizer(dir);
  checkVocabularies(tokenizer.vocabSize, model.vocabSize, dir);
  const external = settled && [...entries.values()].every((e) => e.dtype === 'F32') && os.endianness() === 'LE' && !entries.has('lm_head.weight');
  const file: WeightsFile | undefined = external
    ? { dir, file: MODEL_FILE, tensors: new Map([...names].map(([ours, theirs]) => [ours, { offset: entries.get(theirs)!.offset, length: entries.get(theirs)!.length }])) }
    : undefined;
  let weights: Weights | undefined;
  // `weights` before `weightsFile`: a spread copy reads them in this order, so it never claims an unread file.
  const bundle = {
    model,
    tokenizer,
    metadata,
    get weights(): Weights {
      if (!weights) {
        const loaded: Weights = new Map([...readSafetensors(weightsPath).tensors].map(([k, t]) => [k, t.data]));
        weights = gpt2 ? normalizeGpt2Weights(loaded, weightsPath) : loaded;
        validateWeights(model.specs, weights, weightsPath);
      }
      return weights;
    },
    set weights(w: Weights) {
      weights = w;
    },
    get weightsFile(): WeightsFile | undefined {
      return weights ? undefined : file;
    },
  };
  // A file ORT cannot read as it is (F16/BF16, or an lm_head copy to compare with wte) is read and checked now;
  // one it reads itself is only scanned for non-finite values (ORT then finds it in the page cache).
  if (!file) void bundle.weights;
  else checkFiniteData(weightsPath, new Map([...names].map(([ours, theirs]) => [ours, entries.get(theirs)!])));
  return bundle;
}

/** Reads F32 tensors of a file in bounded chunks and refuses any non-finite value, naming the tensor. */
function checkFiniteData(file: string, tensors: ReadonlyMap<string, TensorEntry>): void {
  const CHUNK = 1 << 20;
  const buf = new Uint8Array(CHUNK * 4);
  const fd = fs.openSync(file, 'r');
  try {
    for (const [name, e] of tensors) {
      for (let done = 0; done < e.count; done += CHUNK) {
        const n = Math.min(CHUNK, e.count - done);
        const got = fs.readSync(fd, buf, 0, 4 * n, e.offset + 4 * done);
        if (got !== 4 * n) throw new InkwellError(`${file}: tensor '${name}' is cut short (the file changed while it was read?)`);
        checkFinite(new Float32Array(buf.buffer, 0, n), name, file, done);
      }
    }
  } finally {
    fs.closeSync(fd);
  }
}
