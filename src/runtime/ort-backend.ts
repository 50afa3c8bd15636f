/** The Node host of session.ts: onnxruntime-node's native kernels, every core, files on disk. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ort, { type InferenceSession } from 'onnxruntime-node';
import { InkwellError } from '../utils/errors.js';
import type { RuntimeBackend } from './backend.js';

/**
 * onnxruntime-node 1.29+ ships Microsoft's telemetry on Linux: at its first session it opens an event
 * store in ~/.cache/Microsoft, leaves a /tmp/mat-debug-<pid>.log behind for every process, uploads over
 * HTTPS when it can, and flushes at exit (~20 ms a process, measured). A local tool sends nothing: it is
 * off unless the user set ORT_DISABLE_TELEMETRY themselves (ORT reads it when its first session starts).
 */
process.env.ORT_DISABLE_TELEMETRY ??= '1';

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
