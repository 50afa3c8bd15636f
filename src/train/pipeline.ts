/**
 * From a corpus and a run spec to a ready Trainer: build (or reuse) the
 * tokenizer, encode the corpus once into the run's token cache, create and
 * initialise the model. Resuming reopens the same cache and checkpoint.
 */
import path from 'node:path';
import type { Document } from '../corpus/corpus.js';
import { isCorpusDocument, listCorpus, memoryDocument, type CorpusDocument } from '../corpus/documents.js';
import { tokenizerTexts } from '../corpus/sample.js';
import { checkCorpusUnchanged, openTokenCacheSplit, prepareTokenCache, readTokenCacheMeta } from '../dataset/token-cache.js';
import { InkwellError } from '../utils/errors.js';
import type { TokenSource } from '../dataset/token-source.js';
import { loadModel, type ModelBundle } from '../io/model-dir.js';
import { lockRun, type RunLock } from '../io/run-lock.js';
import { initWeights } from '../nn/params.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import { makeDirs, writeJsonAtomic } from '../utils/fs.js';
import type { RunSpec } from './presets.js';
import { createModel, trainTokenizer } from './run-spec.js';
import { checkTrainingMemory } from './memory.js';
import { claimRunDir, DATA_DIR } from './run-dir.js';
import { Trainer, type SampleOptions, type TrainerEvents } from './trainer.js';

const SPEC_FILE = 'run.json';

export interface RunData {
  train: TokenSource;
  val?: TokenSource;
}

function openData(outDir: string, tokenizer: Tokenizer): RunData {
  const dir = path.join(outDir, DATA_DIR);
  const meta = readTokenCacheMeta(dir, tokenizer);
  return {
    train: openTokenCacheSplit(dir, 'train', tokenizer),
    val: meta.splits.val.tokens > 0 ? openTokenCacheSplit(dir, 'val', tokenizer) : undefined,
  };
}

export interface NewRunOptions {
  /** Use this tokenizer instead of building one from the spec. */
  tokenizer?: Tokenizer;
  events?: TrainerEvents;
  onStage?: (stage: string) => void;
  /** Replace a run already in `outDir` (else it is refused). */
  force?: boolean;
  /** The lock on `outDir` when the caller holds it (the CLI, for the whole command); the trainer shares it. */
  lock?: RunLock;
  /** Whether the documents were cleaned (recorded with the cache, used by --rebuild-cache). */
  clean?: boolean;
  /** A sample of text after each evaluation, to samples.jsonl. */
  samples?: SampleOptions;
}

/** Starts a run in `outDir`: tokenizer, token cache (train/val), model initialised from the spec's seed. */
export function newRun(spec: RunSpec, input: readonly (Document | CorpusDocument)[], outDir: string, o: NewRunOptions = {}): { trainer: Trainer; bundle: ModelBundle; data: RunData } {
  const lock = o.lock?.retain() ?? lockRun(outDir);
  try {
    claimRunDir(outDir, o.force ?? false);
    return prepare(spec, input.map((d) => (isCorpusDocument(d) ? d : memoryDocument(d))), outDir, o);
  } finally {
    lock.release();
  }
}

function prepare(spec: RunSpec, docs: readonly CorpusDocument[], outDir: string, o: NewRunOptions): { trainer: Trainer; bundle: ModelBundle; data: RunData } {
  makeDirs(outDir);
  o.onStage?.(o.tokenizer ? 'using the given tokenizer' : `building a ${spec.tokenizer.type} tokenizer`);
  // Trained on a bounded sample of the corpus (corpus/sample.ts), so memory does not grow with it.
  const tokenizer = o.tokenizer ?? trainTokenizer(tokenizerTexts(docs, spec.tokenizer.type), spec.tokenizer);
  // Before the corpus is encoded: a run that cannot fit should fail in a second, not after minutes.
  const model = createModel(spec.model, tokenizer.vocabSize);
  checkTrainingMemory(model, spec.train.batchSize, spec.train.contextLength);
  o.onStage?.(`encoding ${docs.length} document(s) into ${path.join(outDir, DATA_DIR)}`);
  prepareTokenCache(docs, tokenizer, path.join(outDir, DATA_DIR), { valFraction: spec.valFraction, seed: spec.train.seed, clean: o.clean ?? true });
  writeJsonAtomic(path.join(outDir, SPEC_FILE), spec);
  const bundle: ModelBundle = { model, weights: initWeights(model.specs, spec.train.seed), tokenizer };
  const data = openData(outDir, tokenizer);
  return { trainer: new Trainer({ bundle, ...data, config: spec.train, outDir, events: o.events, lock: o.lock, samples: o.samples }), bundle, data };
}

/** Reopens the run in `outDir` at its last checkpoint. */
export function resumeRun(outDir: string, events?: TrainerEvents, overrides = {}, o: { rebuildCache?: boolean; lock?: RunLock; samples?: SampleOptions } = {}): { trainer: Trainer; data: RunData } {
  // A reader's view (no recovery) is enough for the tokenizer; Trainer.resume recovers the checkpoint under the lock.
  const { tokenizer } = loadModel(outDir);
  const dir = path.join(outDir, DATA_DIR);
  const meta = readTokenCacheMeta(dir, tokenizer);
  if (o.rebuildCache) rebuildCache(dir, meta, tokenizer);
  else checkCorpusUnchanged(dir, meta);
  const data = openData(outDir, tokenizer);
  return { trainer: Trainer.resume(outDir, data, events, overrides, o.lock, o.samples), data };
}

/** Encodes the recorded corpus files again into `dir` with the cache's own settings (--rebuild-cache). */
function rebuildCache(dir: string, meta: ReturnType<typeof readTokenCacheMeta>, tokenizer: Tokenizer): void {
  const files = meta.corpus?.files ?? [];
  const notFile = files.find((f) => f.path === undefined);
  if (files.length === 0 || notFile) {
    throw new InkwellError(`cannot rebuild the token cache ${dir}: ${notFile ? `its corpus ${notFile.source} was not a plain file` : 'it does not record its corpus files'}`, 'start a new run with --corpus');
  }
  const clean = meta.corpus!.clean;
  prepareTokenCache(files.map((f) => listCorpus(f.path!, { clean })).flat(), tokenizer, dir, {
    valFraction: meta.valFraction,
    seed: meta.seed,
    separateDocuments: meta.separator !== null,
    clean,
  });
}
