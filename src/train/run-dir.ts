/** Where a training run keeps things: its token cache in RUN/data (train.bin, val.bin, meta.json), its best model in RUN/best. */
import fs from 'node:fs';
import path from 'node:path';

export const DATA_DIR = 'data';
export const BEST_DIR = 'best';

/** The run's token cache for a model directory: DIR/data, or DIR/../data when DIR is a run's best/; null when there is none. */
export function findRunData(modelDir: string): string | null {
  for (const dir of [path.join(modelDir, DATA_DIR), path.join(modelDir, '..', DATA_DIR)]) {
    if (fs.existsSync(path.join(dir, 'meta.json'))) return dir;
  }
  return null;
}
