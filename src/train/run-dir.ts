/** Where a training run keeps things: its token cache in RUN/data (train.bin, val.bin, meta.json), its best model in RUN/best. */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { InkwellError } from '../utils/errors.js';

export const DATA_DIR = 'data';
export const BEST_DIR = 'best';

/** The run's token cache for a model directory: DIR/data, or DIR/../data when DIR is a run's best/; null when there is none. */
export function findRunData(modelDir: string): string | null {
  for (const dir of [path.join(modelDir, DATA_DIR), path.join(modelDir, '..', DATA_DIR)]) {
    if (fs.existsSync(path.join(dir, 'meta.json'))) return dir;
  }
  return null;
}

/**
 * What train, finetune and classify leave in a run directory; --force removes
 * these and nothing else (an --out that also holds the user's own files keeps
 * them). The commit marker and the checkpoint's state come first: once they
 * are gone nothing resumes or rolls forward a half-removed run.
 */
const RUN_ENTRIES = [
  '.commit', 'trainer_state.json', 'optimizer.safetensors', 'model.safetensors', 'manifest.json', 'config.json', 'tokenizer.json', 'tokenizer_config.json',
  'generation_config.json', 'metrics.jsonl', 'run.json', BEST_DIR, DATA_DIR, 'checkpoint', 'torch', 'adapter', 'merged', 'classify_run.json',
  'classify_report.json', 'classify_report.md', 'finetune_run.json', 'finetune_report.json', 'finetune_report.md',
];
/** Any of these means the directory already holds a run (a checkpoint, a model, a curve or a token cache). */
const RUN_SIGNS = ['trainer_state.json', 'model.safetensors', 'config.json', 'metrics.jsonl', 'run.json', BEST_DIR, 'checkpoint', path.join(DATA_DIR, 'meta.json')];

/** What shows that `dir` already holds a run (one of RUN_SIGNS), or undefined when it holds none. */
export function runSign(dir: string): string | undefined {
  return RUN_SIGNS.find((s) => fs.existsSync(path.join(dir, s)));
}

/** Refuses an --out that already holds a run, unless `force`: then the old run is removed first (see RUN_ENTRIES). Call it holding the run's lock. */
export function claimRunDir(dir: string, force: boolean, resumable = true): void {
  if (!fs.existsSync(dir)) return;
  if (!fs.statSync(dir).isDirectory()) throw new InkwellError(`--out ${dir} is a file, not a directory`);
  const names = fs.readdirSync(dir);
  const sign = runSign(dir);
  const leftovers = names.filter((n) => n.startsWith('.replaced-'));
  if (sign && !force) {
    throw new InkwellError(
      `--out ${dir} already holds a run (${sign})`,
      `${resumable ? `continue it with --resume ${dir}, or ` : ''}pass --force to replace it (its checkpoint, best model, metrics and token cache are removed), or choose another --out`,
    );
  }
  if (!sign && leftovers.length === 0) return;
  // Moved aside one entry at a time (each rename atomic), then deleted as a whole.
  const trash = path.join(dir, `.replaced-${randomBytes(4).toString('hex')}`);
  fs.mkdirSync(trash);
  const pending = names.filter((n) => n.startsWith('.') && n.endsWith('.pending'));
  for (const name of force ? [...RUN_ENTRIES, ...pending] : []) {
    if (fs.existsSync(path.join(dir, name))) fs.renameSync(path.join(dir, name), path.join(trash, name));
  }
  for (const old of [...leftovers, path.basename(trash)]) fs.rmSync(path.join(dir, old), { recursive: true, force: true });
}

/** Refuses an --out that is --from, inside it or around it: fine-tuning would overwrite its own source (or the original run's token cache). */
export function checkOutsideFrom(out: string, from: string): void {
  const real = (p: string): string => {
    // The nearest existing ancestor, resolved through symlinks, plus the rest as written.
    const abs = path.resolve(p);
    let head = abs;
    while (!fs.existsSync(head) && path.dirname(head) !== head) head = path.dirname(head);
    return path.join(fs.realpathSync(head), path.relative(head, abs));
  };
  const [o, f] = [real(out), real(from)];
  const within = (a: string, b: string) => {
    const rel = path.relative(b, a);
    return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
  };
  if (within(o, f)) throw new InkwellError(`--out ${out} is ${o === f ? 'the same directory as' : 'inside'} --from ${from}`, 'write the new run to a directory of its own: it would overwrite the model it starts from');
  if (within(f, o)) throw new InkwellError(`--from ${from} is inside --out ${out}`, 'write the new run to a directory of its own: it would overwrite the model it starts from and its token cache');
}
