/**
 * What session.ts needs from its host: an ONNX Runtime module and the few
 * host services around it. `onnxruntime-node` and `onnxruntime-web` share one
 * API (onnxruntime-common); ort-backend.ts provides the Node one and
 * ort-backend.web.ts the browser one, which the web bundle substitutes for it
 * (web/build.ts).
 */
import type { InferenceSession, Tensor } from 'onnxruntime-common';

export interface OrtModule {
  readonly InferenceSession: typeof InferenceSession;
  readonly Tensor: typeof Tensor;
}

export interface RuntimeBackend {
  readonly name: 'onnxruntime-node' | 'onnxruntime-web';
  readonly ort: OrtModule;
  /** Intra-op threads when the caller names none. */
  defaultThreads(): number;
  /** Session options of the host's choosing (the browser's execution providers: WebGPU or wasm). */
  sessionOptions(): InferenceSession.SessionOptions;
  /** Writes a model's bytes for inspection (CompileOptions.dumpPath). */
  writeFile(path: string, bytes: Uint8Array): void;
  /** The absolute folder ORT reads a model's external data from. */
  resolveDir(dir: string): string;
}
