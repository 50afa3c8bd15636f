/** Reading Hugging Face style config.json fields with errors that name the file and the field. */
import { InkwellError } from '../utils/errors.js';

/** What a numeric field may hold; every field must be finite. */
export interface FieldRange {
  integer?: boolean;
  min?: number;
  max?: number;
  /** `min` itself is refused (e.g. layer_norm_epsilon > 0). */
  minExclusive?: boolean;
  /** `max` itself is refused (e.g. dropout < 1). */
  maxExclusive?: boolean;
}

/** "a positive integer ≤ 1024", "a number in [0, 1)": the range as the error states it. */
export function describeRange(r: FieldRange): string {
  const kind = r.integer ? 'an integer' : 'a finite number';
  if (r.min !== undefined && r.max !== undefined) return `${kind} in ${r.minExclusive ? '(' : '['}${r.min}, ${r.max}${r.maxExclusive ? ')' : ']'}`;
  if (r.min !== undefined) return `${kind} ${r.minExclusive ? '>' : '≥'} ${r.min}`;
  if (r.max !== undefined) return `${kind} ${r.maxExclusive ? '<' : '≤'} ${r.max}`;
  return kind;
}

/** Whether `v` is a number in `r`. */
export function inRange(v: unknown, r: FieldRange): v is number {
  if (typeof v !== 'number' || !Number.isFinite(v) || (r.integer && !Number.isInteger(v))) return false;
  if (r.min !== undefined && (r.minExclusive ? v <= r.min : v < r.min)) return false;
  return !(r.max !== undefined && (r.maxExclusive ? v >= r.max : v > r.max));
}

/** `json[key]` as a number in `range` (or `fallback` when absent). */
export function configNumber(json: Record<string, unknown>, key: string, source: string, fallback?: number, range: FieldRange = {}): number {
  const v = Object.hasOwn(json, key) && json[key] !== undefined ? json[key] : fallback;
  if (!inRange(v, range)) throw new InkwellError(`${source}: '${key}' must be ${describeRange(range)}, got ${JSON.stringify(v) ?? 'nothing'}`);
  return v;
}

/** `json[key]` as a positive integer ≤ max. */
export function configCount(json: Record<string, unknown>, key: string, source: string, max: number): number {
  return configNumber(json, key, source, undefined, { integer: true, min: 1, max });
}
