/** The Node host of session.ts: onnxruntime-node's native kernels, every core, files on disk. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ort from 'onnxruntime-node';
import type { RuntimeBackend } from './backend.js';

export const backend: RuntimeBackend = {
  name: 'onnxruntime-node',
  ort,
  defaultThreads: () => os.availableParallelism(),
  // The CPU execution provider, ORT's default. INKWELL_ORT_PROFILE=<path prefix>: every session writes ORT's
  // per-node profile to <prefix>_<time>.json when released (summarised by profile.ts; bench/profile.ts).
  sessionOptions: () => (process.env.INKWELL_ORT_PROFILE ? { enableProfiling: true, profileFilePrefix: process.env.INKWELL_ORT_PROFILE } : {}),
  writeFile: (file, bytes) => fs.writeFileSync(file, bytes),
  resolveDir: (dir) => path.resolve(dir),
};
