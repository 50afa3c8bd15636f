/** The Node host of session.ts: onnxruntime-node's native kernels, every core, files on disk. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ort, { type InferenceSession } from 'onnxruntime-node';
import { InkwellError } from '../utils/errors.js';
import type { RuntimeBackend } from './backend.js';

export const backend: RuntimeBackend = {
  name: 'onnxruntime-node',
  ort,
  defaultThreads: () => os.availableParallelism(),
  // The CPU execution provider, ORT's default.
  sessionOptions: () => profiling(process.env.INKWELL_ORT_PROFILE),
  writeFile: (file, bytes) => fs.writeFileSync(file, bytes),
  resolveDir: (dir) => path.resolve(dir),
};

/**
 * INKWELL_ORT_PROFILE=<path prefix>: every session writes ORT's per-node profile to <prefix>_<time>.json
 * when released (summarised by profile.ts; bench/profile.ts). ORT skips a file it cannot create without
 * a word, so a prefix outside an existing folder is refused here.
 */
function profiling(prefix: string | undefined): InferenceSession.SessionOptions {
  if (!prefix) return {};
  const file = path.resolve(prefix);
  const dir = path.dirname(file);
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    throw new InkwellError(`INKWELL_ORT_PROFILE=${prefix}: the folder ${dir} does not exist`, 'set it to a path prefix in an existing folder, e.g. /tmp/ort, or unset it');
  }
  return { enableProfiling: true, profileFilePrefix: file };
}
