/**
 * The browser host of session.ts, put in place of ort-backend.ts by the web
 * bundle: onnxruntime-web's wasm build. Its threads are one global setting
 * (`ort.env.wasm.numThreads`, effective only in a cross-origin isolated page),
 * set once before the first session; a browser has no files to dump models to
 * or read external weights from.
 */
import * as ort from 'onnxruntime-web/wasm';
import { InkwellError } from '../utils/errors.js';
import type { RuntimeBackend } from './backend.js';

export const backend: RuntimeBackend = {
  name: 'onnxruntime-web',
  ort,
  defaultThreads: () => ort.env.wasm.numThreads ?? 1,
  writeFile: (file) => {
    throw new InkwellError(`cannot write ${file}: a browser has no file system (dumpPath is for Node)`);
  },
  resolveDir: (dir) => {
    throw new InkwellError(`cannot read external weights from ${dir} in a browser: pass the weights in memory (bake)`);
  },
};

/** onnxruntime-web's settings: where its .wasm/.mjs files are served from, and how many threads it runs. */
export function configureWasm(opts: { wasmPaths: string; threads: number }): void {
  ort.env.wasm.wasmPaths = opts.wasmPaths;
  ort.env.wasm.numThreads = opts.threads;
}
