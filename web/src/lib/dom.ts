/** Small DOM helpers shared by the pages. */
import type { RuntimeChoice } from '../../../src/runtime/ort-backend.web.js';

/** The element with this id, of the expected type (a page without it is a build mistake, reported by name). */
export function byId<T extends HTMLElement>(id: string, type: new () => T): T {
  const el = document.getElementById(id);
  if (!(el instanceof type)) throw new Error(`page element #${id} is missing or not a ${type.name}`);
  return el;
}

/** A number field's value, or an error naming the field when it is not a number within [min, max]. */
export function numberField(input: HTMLInputElement, label: string, min: number, max: number, integer = false): number {
  const v = Number(input.value);
  if (input.value.trim() === '' || !Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v))) {
    throw new Error(`${label} must be ${integer ? 'a whole number' : 'a number'} from ${min} to ${max}, got '${input.value}'`);
  }
  return v;
}

export function showStatus(el: HTMLElement, text: string, isError = false): void {
  el.textContent = text;
  el.classList.toggle('error', isError);
}

/** How onnxruntime-web should run: `?backend=webgpu` or `?backend=wasm` force one, else WebGPU when the browser has a hardware adapter. */
export function wantedExecution(): 'auto' | 'wasm' | 'webgpu' {
  const asked = new URLSearchParams(location.search).get('backend');
  return asked === 'wasm' || asked === 'webgpu' ? asked : 'auto';
}

/** The backend line a page shows: 'WebGPU (nvidia ampere)', or 'wasm, 2 threads' with why not WebGPU. */
export function runtimeLabel(r: RuntimeChoice): { text: string; detail?: string } {
  if (r.execution === 'webgpu') return { text: `WebGPU${r.adapter ? ` (${r.adapter})` : ''}` };
  return { text: `wasm, ${r.threads} thread${r.threads > 1 ? 's' : ''}`, detail: r.reason };
}

/** Threads onnxruntime-web may use: several only in a cross-origin isolated page (SharedArrayBuffer); `?threads=N` overrides. */
export function wantedThreads(): number {
  const asked = Number(new URLSearchParams(location.search).get('threads'));
  if (Number.isInteger(asked) && asked > 0) return asked;
  return crossOriginIsolated ? Math.max(1, Math.min(4, navigator.hardwareConcurrency || 1)) : 1;
}
