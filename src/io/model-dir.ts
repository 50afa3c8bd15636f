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
import { readHeaderAt, readSafetensors, readSafetensorsHeader, type SafetensorsHeader, type TensorEntry } from './safetensors.js';
import { committedPath, ManifestMismatchError, pause, readCommitted, verifyManifest, writeFilesAtomically, type FileScan } from './transaction.js';

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
export function loadModel(dir: string, opts: LoadOptions = {}): ModelBundle & { metadata: Record<string, string> } {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new InkwellError(`model directory ${dir} does not exist`);
  for (let attempt = 0; ; attempt++) {
    try {
      // One pass over the weights checks them against the manifest and, where ORT will read the file itself, for non-finite values.
      const scan = new WeightsScan(opts.keepWeights ?? false);
      verifyManifest(dir, [MODEL_FILE], new Map([[MODEL_FILE, scan.begin]]));
      return loadCommitted(dir, scan);
    } catch (err) {
      // A pending file renamed away under us (its name in the error) or a manifest of the next commit: the writer is mid-commit.
      const racing = err instanceof ManifestMismatchError || (err as NodeJS.ErrnoException).code === 'ENOENT' || /\.pending\b/.test(errorMessage(err));
      if (!racing || attempt >= 10) throw err;
      pause(20);
    }
  }
}

export interface LoadOptions {
  /**
   * Keep the weights in memory from the manifest check's own read, for a caller that will need them
   * (quantized decoding, training, evaluation, export): the file is read once, and the values used are
   * the values verified.
   * Without it a float32 file is left for ONNX Runtime to read, and `weights` reads it when first asked.
   */
  keepWeights?: boolean;
}

function loadCommitted(dir: string, scan: WeightsScan): ModelBundle & { metadata: Record<string, string> } {
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
  const weightsPath = scan.path(dir);
  const settled = weightsPath === path.join(dir, MODEL_FILE);
  // The header now (names, shapes, sizes, offsets: a mismatch fails here); the data when first used.
  const { entries, metadata } = scan.header(dir);
  // A GPT-2 directory from the Hugging Face Hub loads as it is (see hf-gpt2.ts).
  const names = gpt2 ? gpt2TensorNames([...entries.keys()]) : new Map([...entries.keys()].map((k) => [k, k]));
  validateShapes(model.specs, new Map([...names].map(([ours, theirs]) => [ours, entries.get(theirs)!.shape])), weightsPath);
  // tokenizer.json, or GPT-2's original vocab.json + merges.txt.
  const tokenizer = loadTokenizer(dir);
  checkVocabularies(tokenizer.vocabSize, model.vocabSize, dir);
  // Only a file the scan checked for non-finite values (see WeightsScan) goes to ORT unread.
  const external = settled && scan.scanned();
  const file: WeightsFile | undefined = external
    ? { dir, file: MODEL_FILE, tensors: new Map([...names].map(([ours, theirs]) => [ours, { offset: entries.get(theirs)!.offset, length: entries.get(theirs)!.length }])) }
    : undefined;
  // Kept bytes hold every tensor at its file offset, 4-aligned (WeightsScan scans only such files), each value checked.
  const kept = scan.kept();
  let weights: Weights | undefined;
  if (kept) {
    const loaded: Weights = new Map([...entries].map(([k, e]) => [k, new Float32Array(kept.buffer, kept.byteOffset + e.offset, e.length / 4)]));
    weights = gpt2 ? normalizeGpt2Weights(loaded, weightsPath) : loaded;
  }
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
  // one it reads itself was scanned for non-finite values while it was hashed (ORT then finds it in the page cache).
  if (!file) void bundle.weights;
  return bundle;
}

/**
 * The safetensors file as the manifest check streams it (see verifyManifest's scans): its header, read
 * from the descriptor being hashed (so both describe one file even while a writer renames), and, when
 * every tensor is 4-aligned little-endian float32 and no lm_head copy needs comparing, a check of every
 * value for NaN/±infinity, chunk by chunk. Failures wait until the manifest has had its say: a corrupt
 * file is reported as corrupt, not as holding NaN. With `keep`, the bytes streamed are kept: they become
 * the weights, so nothing unverified is read later.
 */
class WeightsScan {
  constructor(private readonly keep: boolean) {}

  private got?: SafetensorsHeader;
  /** With `keep`: the whole file as read, and how many of its bytes have arrived. */
  private bytes?: Uint8Array;
  private filled = 0;
  private headerError?: unknown;
  private file = '';
  private tensors: [string, TensorEntry][] = [];
  private checked = 0;
  private failure?: unknown;

  readonly begin: FileScan = (fd, file) => {
    this.file = file;
    try {
      this.got = readHeaderAt(fd, file);
    } catch (err) {
      this.headerError = err;
      return undefined;
    }
    const all = [...this.got.entries];
    const scannable = os.endianness() === 'LE' && !this.got.entries.has('lm_head.weight') && all.every(([, e]) => e.dtype === 'F32' && e.offset % 4 === 0);
    if (!scannable) return undefined;
    this.tensors = all;
    if (this.keep) this.bytes = new Uint8Array(fs.fstatSync(fd).size);
    return (chunk, position) => this.visit(chunk, position);
  };

  /** The file scanned, or, when there was none to stream (no manifest entry, no file), where the committed one is now. */
  path(dir: string): string {
    return this.file || committedPath(dir, MODEL_FILE);
  }

  /** The header of the file scanned; read from `path` when nothing was streamed (so a missing file fails as any read does). */
  header(dir: string): SafetensorsHeader {
    if (this.headerError) throw this.headerError;
    return (this.got ??= readSafetensorsHeader(this.path(dir)));
  }

  /**
   * Whether every value was checked (and all were finite: a non-finite one is refused here). A
   * file the scan skipped, or saw only part of because it shrank while read, is not vouched for.
   */
  scanned(): boolean {
    if (this.failure) throw this.failure;
    return this.tensors.length > 0 && this.checked === this.tensors.reduce((n, [, e]) => n + e.length, 0);
  }

  /** With `keep`, the file's bytes, every value checked (as `scanned`); undefined when the file changed size while read. */
  kept(): Uint8Array | undefined {
    return this.bytes && this.scanned() && this.filled === this.bytes.length ? this.bytes : undefined;
  }

  private visit(chunk: Uint8Array, position: number): void {
    if (this.bytes && position + chunk.length <= this.bytes.length) {
      this.bytes.set(chunk, position);
      this.filled += chunk.length;
    }
    if (this.failure) return;
    const end = position + chunk.length;
    for (const [name, e] of this.tensors) {
      const [from, to] = [Math.max(e.offset, position), Math.min(e.offset + e.length, end)];
      if (from >= to) continue;
      try {
        checkFinite(new Float32Array(chunk.buffer, chunk.byteOffset + from - position, (to - from) / 4), name, this.file, (from - e.offset) / 4);
      } catch (err) {
        this.failure = err;
        return;
      }
      this.checked += to - from;
    }
  }
}
