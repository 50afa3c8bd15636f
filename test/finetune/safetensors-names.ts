import { readSafetensors } from '../../src/io/safetensors.js';

/** Tensor names stored in a safetensors file. */
export function safetensorsNames(file: string): string[] {
  return [...readSafetensors(file).tensors.keys()];
}
