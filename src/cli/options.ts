import os from 'node:os';
import { InvalidArgumentError } from 'commander';
import { LIMITS } from '../utils/limits.js';

/*
 * Commander parsers for numeric flags. Each takes the whole string (Number()
 * and parseFloat accept '', '0x10', ' 5 ', 'Infinity' or read '5abc' as 5) and
 * refuses what is not finite, not in range, or not an integer where one is
 * meant; commander then prints "option '--lr <x>' argument '5abc' is invalid.
 * expected …", naming the flag.
 */

const INTEGER = /^[+-]?\d+$/;
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

export { LIMITS };

/** ONNX Runtime threads beyond a few per core only add contention; 10000 threads fail inside the runtime. */
export const MAX_THREADS = os.availableParallelism() * 4;

/** Commander parser for integer options in [min, max]. */
export function intOption(min: number, max: number = LIMITS.count): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!INTEGER.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(max >= LIMITS.count ? `expected an integer ≥ ${min}` : `expected an integer in [${min}, ${max}]`);
    }
    return n;
  };
}

/** --threads: at most four per core of this machine. */
export const threadsOption = (value: string): number => {
  try {
    return intOption(1, MAX_THREADS)(value);
  } catch {
    throw new InvalidArgumentError(`expected an integer in [1, ${MAX_THREADS}] (4 × this machine's ${os.availableParallelism()} cores)`);
  }
};

/** Commander parser for a fraction in [0, 1). */
export function fractionOption(value: string): number {
  const n = Number(value);
  if (!DECIMAL.test(value.trim()) || !(n >= 0 && n < 1)) throw new InvalidArgumentError('expected a number in [0, 1)');
  return n;
}

/** Commander parser for a finite number in [min, max] (or (min, max] with `minExclusive`). */
export function numberOption(min: number, max = Infinity, minExclusive = false): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!DECIMAL.test(value.trim()) || !Number.isFinite(n) || (minExclusive ? n <= min : n < min) || n > max) {
      const range = max === Infinity ? `${minExclusive ? '>' : '≥'} ${min}` : `in ${minExclusive ? '(' : '['}${min}, ${max}]`;
      throw new InvalidArgumentError(`expected a number ${range}`);
    }
    return n;
  };
}
