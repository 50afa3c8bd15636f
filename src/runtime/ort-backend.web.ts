/**
 * The browser host of session.ts, put in place of ort-backend.ts by the web
 * bundle: onnxruntime-web, on WebGPU when the browser has a GPU adapter for
 * it, else its wasm build. configureRuntime() picks one, once, before the
 * first session: each is a separate ONNX Runtime module with its own settings
 * (its wasm files, `env.wasm.numThreads`, effective only in a cross-origin
 * isolated page). A browser has no files to dump models to or read external
 * weights from.
 */
import * as wasmOrt from 'onnxruntime-web/wasm';
import * as webgpuOrt from 'onnxruntime-web/webgpu';
import type { InferenceSession } from 'onnxruntime-common';
import { InkwellError } from '../utils/errors.js';
import type { RuntimeBackend } from './backend.js';

export type WebExecution = 'wasm' | 'webgpu';

/** What configureRuntime chose, and why (for the page to show). */
export interface RuntimeChoice {
  execution: WebExecution;
  threads: number;
  /** The WebGPU adapter (e.g. 'nvidia ampere', 'google swiftshader'), when one was found. */
  adapter?: string;
  /** Why wasm, when WebGPU was not used. */
  reason?: string;
}

/** Runs on the wasm build until configureRuntime() says otherwise. */
let chosen: { ort: typeof wasmOrt; execution: WebExecution } = { ort: wasmOrt, execution: 'wasm' };

export const backend: RuntimeBackend = {
  name: 'onnxruntime-web',
  get ort() {
    return chosen.ort;
  },
  defaultThreads: () => chosen.ort.env.wasm.numThreads ?? 1,
  // Nodes WebGPU has no kernel for (and shape arithmetic, which ORT keeps there) run on the CPU kernels of the same
  // module; its warning that it did so, on every session, is left out of the console (errors still show).
  sessionOptions: (): InferenceSession.SessionOptions => (chosen.execution === 'webgpu' ? { executionProviders: ['webgpu', 'wasm'], logSeverityLevel: 3 } : {}),
  writeFile: (file) => {
    throw new InkwellError(`cannot write ${file}: a browser has no file system (dumpPath is for Node)`);
  },
  resolveDir: (dir) => {
    throw new InkwellError(`cannot read external weights from ${dir} in a browser: pass the weights in memory (bake)`);
  },
};

/** The little of WebGPU's API used here (TypeScript's DOM library does not declare it). */
interface GpuAdapterLike {
  readonly info?: { vendor?: string; architecture?: string; description?: string; isFallbackAdapter?: boolean };
  /** Older browsers: the adapter's own flag. */
  readonly isFallbackAdapter?: boolean;
}
interface GpuLike {
  requestAdapter(options?: { powerPreference?: 'high-performance' | 'low-power' }): Promise<GpuAdapterLike | null>;
}

/**
 * Chooses how onnxruntime-web runs, before any session: `prefer` 'auto' takes
 * WebGPU when `navigator.gpu` gives a hardware adapter (a software fallback
 * such as SwiftShader is slower than wasm, so 'auto' passes it over),
 * 'webgpu' takes any adapter, 'wasm' never asks; without an adapter it is
 * wasm. Its wasm files are served from `wasmPaths`.
 */
export async function configureRuntime(opts: { wasmPaths: string; threads: number; prefer?: WebExecution | 'auto' }): Promise<RuntimeChoice> {
  for (const m of [wasmOrt, webgpuOrt]) {
    m.env.wasm.wasmPaths = opts.wasmPaths;
    m.env.wasm.numThreads = opts.threads;
  }
  const prefer = opts.prefer ?? 'auto';
  const wasm = (reason: string): RuntimeChoice => {
    chosen = { ort: wasmOrt, execution: 'wasm' };
    return { execution: 'wasm', threads: opts.threads, reason };
  };
  if (prefer === 'wasm') return wasm('wasm was asked for');
  const gpu = (globalThis.navigator as { gpu?: GpuLike } | undefined)?.gpu;
  if (!gpu) return wasm('this browser has no WebGPU (navigator.gpu)');
  let adapter: GpuAdapterLike | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (err) {
    return wasm(`WebGPU gave no adapter (${err instanceof Error ? err.message : String(err)})`);
  }
  if (!adapter) return wasm('WebGPU gave no adapter');
  const info = adapter.info ?? {};
  const name = [info.vendor, info.architecture || info.description].filter(Boolean).join(' ') || 'unnamed adapter';
  if (prefer === 'auto' && (info.isFallbackAdapter ?? adapter.isFallbackAdapter)) {
    return { ...wasm(`the WebGPU adapter (${name}) is a software fallback, slower than wasm`), adapter: name };
  }
  // ORT makes its device from this very adapter.
  (webgpuOrt.env.webgpu as { adapter: unknown }).adapter = adapter;
  chosen = { ort: webgpuOrt, execution: 'webgpu' };
  return { execution: 'webgpu', threads: opts.threads, adapter: name };
}
