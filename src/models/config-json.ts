/** Reading Hugging Face style config.json fields with errors that name the file and the field. */
import { InkwellError } from '../utils/errors.js';

/** `json[key]` as a number (or `fallback` when absent). */
export function configNumber(json: Record<string, unknown>, key: string, source: string, fallback?: number): number {
  const v = json[key] ?? fallback;
  if (typeof v !== 'number') throw new InkwellError(`${source}: '${key}' must be a number`);
  return v;
}
