/** Messages between the "Train in your browser" page and its Web Worker. */
import type { RuntimeChoice, WebExecution } from '../../../src/runtime/ort-backend.web.js';
import type { StepResult } from './step-trainer.js';

export interface ModelInfo {
  recipe: string;
  text: string;
  step: number;
  parameters: number;
  vocabSize: number;
  losses: ReadonlyArray<readonly [number, number]>;
}

export type ToWorker =
  | { type: 'init'; threads: number; prefer: WebExecution | 'auto' }
  | { type: 'restore' }
  | { type: 'train'; recipe: string; text: string; steps: number; /** Keep the run in IndexedDB (default true; the benchmark says false). */ save?: boolean }
  | { type: 'stop' }
  | { type: 'generate'; prompt: string; maxNewTokens: number; temperature: number; seed: number }
  | { type: 'download' }
  | { type: 'forget' };

export type FromWorker =
  | { type: 'ready'; runtime: RuntimeChoice; isolated: boolean }
  | { type: 'model'; info: ModelInfo | null; resumed: boolean }
  | { type: 'step'; result: StepResult }
  | { type: 'trained'; info: ModelInfo; stopped: boolean }
  | { type: 'saved'; step: number }
  | { type: 'token'; text: string }
  | { type: 'generated'; text: string; tokens: number[] }
  | { type: 'zip'; bytes: ArrayBuffer; name: string }
  | { type: 'error'; message: string };
