/**
 * Property-based fuzzing of inkwell's readers: mutated valid files (bit flips,
 * truncation, spliced bytes, JSON values replaced by random ones) and random
 * bytes. The property: a reader returns a result or throws an InkwellError —
 * never a TypeError, RangeError or an allocation failure.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { encodeSafetensors, decodeSafetensors } from '../../src/io/safetensors.js';
import { modelFiles } from '../../src/io/model-files.js';
import { bundleFromFiles } from '../../src/io/model-files.js';
import { Gpt } from '../../src/models/gpt.js';
import { initWeights } from '../../src/nn/params.js';
import { trainWordLevel } from '../../src/tokenizers/word-level.js';
import { loadTokenizer } from '../../src/tokenizers/io.js';
import { readTsv } from '../../src/finetune/classify-data.js';
import { resolveSpec } from '../../src/train/run-spec.js';
import { PRESETS } from '../../src/train/presets.js';
import { InkwellError } from '../../src/utils/errors.js';
import { encodeGguf, GgmlType, GgufType, type GgufValue } from '../../src/export/gguf-format.js';
import { parseGguf } from '../../src/export/gguf-reader.js';
import { openTokenCacheSplit, prepareTokenCache } from '../../src/dataset/token-cache.js';
import { saveModel } from '../../src/io/model-dir.js';
import { committedManifest, readCommitted, verifyManifest } from '../../src/io/transaction.js';
import { checkpointInfo } from '../../src/train/trainer.js';

export interface Reader {
  name: string;
  seeds: Uint8Array[];
  json: boolean;
  read(bytes: Uint8Array): void;
}

const enc = (s: string) => new TextEncoder().encode(s);

/** A byte-level mutation of one of the seeds, or random bytes. */
function mutated(seeds: Uint8Array[], json: boolean): fc.Arbitrary<Uint8Array> {
  const seed = fc.constantFrom(...seeds);
  const flips = fc.tuple(seed, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 7 })), { minLength: 1, maxLength: 8 })).map(([s, fl]) => {
    const out = new Uint8Array(s);
    for (const [i, b] of fl) if (out.length) out[i % out.length]! ^= 1 << b;
    return out;
  });
  const truncated = fc.tuple(seed, fc.nat()).map(([s, n]) => s.slice(0, n % (s.length + 1)));
  const spliced = fc.tuple(seed, fc.nat(), fc.uint8Array({ maxLength: 16 })).map(([s, at, ins]) => {
    const i = s.length ? at % s.length : 0;
    return new Uint8Array([...s.subarray(0, i), ...ins, ...s.subarray(i + ins.length)]);
  });
  const arbs: fc.Arbitrary<Uint8Array>[] = [flips, truncated, spliced, fc.uint8Array({ maxLength: 256 })];
  if (json) arbs.push(jsonMutated(seeds));
  return fc.oneof(...arbs);
}

const HOSTILE = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom<unknown>(1e308, -1, 0, 2 ** 53, 2 ** 31, -0.5, 1e-320, '__proto__', null, [], {}, 'NaN', true),
);

/** A seed's JSON with one value, at a random path, replaced by a random or hostile one (or deleted); '1e999' literals too. */
function jsonMutated(seeds: Uint8Array[]): fc.Arbitrary<Uint8Array> {
  const docs = seeds.map((s) => JSON.parse(new TextDecoder().decode(s)) as unknown);
  return fc.tuple(fc.nat(docs.length - 1), fc.nat(), HOSTILE, fc.boolean(), fc.boolean()).map(([d, pick, value, del, huge]) => {
    const doc = structuredClone(docs[d]);
    const slots: Array<[Record<string, unknown> | unknown[], string | number]> = [];
    const walk = (v: unknown) => {
      if (Array.isArray(v)) v.forEach((x, i) => (slots.push([v, i]), walk(x)));
      else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) (slots.push([v as Record<string, unknown>, k]), walk(x));
    };
    walk(doc);
    if (slots.length) {
      const [parent, key] = slots[pick % slots.length]!;
      if (del && !Array.isArray(parent)) delete (parent as Record<string, unknown>)[key as string];
      else (parent as Record<string | number, unknown>)[key] = huge ? '\u0000HUGE' : value;
    }
    return enc(JSON.stringify(doc).replace(/"\\u0000HUGE"/g, '1e999'));
  });
}

/** Runs `reader` on `runs` inputs; returns the inputs tried and the first failure (a non-InkwellError), if any. */
export function fuzzReader(reader: Reader, runs: number, seed?: number): { tried: number; failure?: string } {
  let tried = 0;
  const result = fc.check(
    fc.property(mutated(reader.seeds, reader.json), (bytes) => {
      tried++;
      try {
        reader.read(bytes);
      } catch (err) {
        if (!(err instanceof InkwellError)) throw err;
      }
    }),
    { numRuns: runs, ...(seed === undefined ? {} : { seed }) },
  );
  return result.failed ? { tried, failure: `${String(result.errorInstance)} (seed ${result.seed}, path ${result.counterexamplePath})` } : { tried };
}

/** The readers and a valid file of each, built from a tiny model. */
export function readers(): Reader[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inkwell-fuzz-'));
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  const tokenizer = trainWordLevel(['the quick brown fox jumps over the lazy dog'], 'char', { specialTokens: ['<unk>'] });
  const model = new Gpt({ vocabSize: tokenizer.vocabSize, nPositions: 8, nEmbd: 8, nLayer: 1, nHead: 2, bias: true, dropout: 0, layerNormEps: 1e-5 });
  const files = modelFiles({ model, weights: initWeights(model.specs, 1), tokenizer });
  const bytes = (name: string) => {
    const f = files.get(name)!;
    return typeof f === 'string' ? enc(f) : f;
  };
  const withFile = (name: string) => (b: Uint8Array) => bundleFromFiles(new Map(files).set(name, name.endsWith('.json') ? new TextDecoder().decode(b) : b), 'fuzz');
  const atFile = (name: string, read: (file: string) => void) => (b: Uint8Array) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, b);
    read(file);
  };
  const spec = { ...PRESETS['char-gpt']!, description: undefined };
  // A directory holding one file that each input replaces; the reader is then pointed at the directory.
  const inDir = (sub: string, name: string, read: (dir: string) => void) => (b: Uint8Array) => {
    fs.writeFileSync(path.join(dir, sub, name), b);
    read(path.join(dir, sub));
  };

  // trainer_state.json as a checkpoint writes it.
  fs.mkdirSync(path.join(dir, 'state'));
  const state = { version: 1, step: 4, bestValLoss: 3.36, bestScore: 3.36, bestStep: 4, evalsWithoutImprovement: 0, data: { mode: 'random', seed: 1337, epoch: 0, step: 4 }, rng: [2965566201, 3396180935, 3157372957, 2927625850], config: { ...spec.train, maxSteps: 4 }, elapsedSeconds: 0.17 };
  const lanes = { ...state, data: { ...state.data, mode: 'sequential' } };

  // A token cache (meta.json, train.bin, val.bin) of two small documents.
  const doc = (name: string, text: string) => ({ name, source: name, text, encoding: 'utf-8' as const, metadata: {} });
  const docs = [doc('a', 'the quick brown fox '.repeat(20)), doc('b', 'jumps over the lazy dog '.repeat(10))];
  const cache = path.join(dir, 'cache');
  prepareTokenCache(docs, tokenizer, cache, { valFraction: 0.5 });
  const metaSeed = new Uint8Array(fs.readFileSync(path.join(cache, 'meta.json')));
  const trainSeed = new Uint8Array(fs.readFileSync(path.join(cache, 'train.bin')));
  const openCache = (split: 'train' | 'val') => (d: string) => {
    const src = openTokenCacheSplit(d, split, tokenizer);
    src.close();
  };
  const restoreMeta = () => fs.writeFileSync(path.join(cache, 'meta.json'), metaSeed);

  // A committed model directory, mid-commit: the marker lists pending copies of two files.
  const committed = path.join(dir, 'committed');
  saveModel(committed, { model, weights: initWeights(model.specs, 1), tokenizer });
  for (const f of ['config.json', 'manifest.json']) fs.copyFileSync(path.join(committed, f), path.join(committed, `.${f}.pending`));
  const manifestSeed = new Uint8Array(fs.readFileSync(path.join(committed, 'manifest.json')));
  const readDir = (d: string) => {
    readCommitted(d, 'config.json');
    committedManifest(d);
    verifyManifest(d);
  };

  // A small GGUF file: metadata of each kind and two tensors.
  const gguf = encodeGguf(
    new Map<string, GgufValue>([
      ['general.architecture', { type: GgufType.STRING, value: 'gpt2' }],
      ['gpt2.context_length', { type: GgufType.UINT32, value: 8 }],
      ['gpt2.attention.layer_norm_epsilon', { type: GgufType.FLOAT32, value: 1e-5 }],
      ['tokenizer.ggml.tokens', { type: GgufType.ARRAY, itemType: GgufType.STRING, values: ['a', 'b', 'c'] }],
      ['tokenizer.ggml.scores', { type: GgufType.ARRAY, itemType: GgufType.FLOAT32, values: [0, 0.5, 1] }],
    ]),
    [
      { name: 'token_embd.weight', ne: [4, 3], type: GgmlType.F32, data: new Uint8Array(new Float32Array(12).fill(0.5).buffer) },
      { name: 'output_norm.bias', ne: [4], type: GgmlType.F32, data: new Uint8Array(16) },
    ],
  );
  return [
    { name: 'safetensors', seeds: [bytes('model.safetensors'), encodeSafetensors(new Map([['a', { shape: [2, 2], data: new Float32Array(4) }]]), { step: '3' })], json: false, read: (b) => void decodeSafetensors(b, 'fuzz.safetensors') },
    { name: 'model.safetensors in a model', seeds: [bytes('model.safetensors')], json: false, read: withFile('model.safetensors') },
    { name: 'config.json', seeds: [bytes('config.json')], json: true, read: withFile('config.json') },
    { name: 'tokenizer.json', seeds: [bytes('tokenizer.json')], json: true, read: atFile('tokenizer.json', (f) => void loadTokenizer(f)) },
    { name: 'TSV', seeds: [enc('sentence\tlabel\ngood film\t1\nbad film\t0\n')], json: false, read: atFile('train.tsv', (f) => void readTsv(f, '--train')) },
    { name: 'run spec (--config)', seeds: [enc(JSON.stringify(spec))], json: true, read: atFile('spec.json', (f) => void resolveSpec({ config: f })) },
    { name: 'trainer_state.json', seeds: [enc(JSON.stringify(state)), enc(JSON.stringify(lanes))], json: true, read: inDir('state', 'trainer_state.json', (d) => void checkpointInfo(d)) },
    { name: 'token cache meta.json', seeds: [metaSeed], json: true, read: inDir('cache', 'meta.json', openCache('train')) },
    {
      name: 'token cache train.bin',
      seeds: [trainSeed],
      json: false,
      read: (b) => {
        restoreMeta();
        inDir('cache', 'train.bin', openCache('train'))(b);
      },
    },
    { name: 'commit marker (.commit)', seeds: [enc(JSON.stringify(['config.json', 'manifest.json']))], json: true, read: inDir('committed', '.commit', readDir) },
    { name: 'manifest.json', seeds: [manifestSeed], json: true, read: inDir('committed', 'manifest.json', readDir) },
    { name: 'GGUF', seeds: [gguf], json: false, read: (b) => void parseGguf(b) },
  ];
}
