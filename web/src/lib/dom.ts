/** Small DOM helpers shared by the pages. */

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

/** Threads onnxruntime-web may use: several only in a cross-origin isolated page (SharedArrayBuffer); `?threads=N` overrides. */
export function wantedThreads(): number {
  const asked = Number(new URLSearchParams(location.search).get('threads'));
  if (Number.isInteger(asked) && asked > 0) return asked;
  return crossOriginIsolated ? Math.max(1, Math.min(4, navigator.hardwareConcurrency || 1)) : 1;
}
