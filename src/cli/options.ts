import { InvalidArgumentError } from 'commander';

/** Commander parser for integer options; `min` is the smallest accepted value. */
export function intOption(min: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`expected an integer ≥ ${min}`);
    return n;
  };
}

/** Commander parser for a fraction in [0, 1). */
export function fractionOption(value: string): number {
  const n = Number(value);
  if (!(n >= 0 && n < 1)) throw new InvalidArgumentError('expected a number in [0, 1)');
  return n;
}

/** Commander parser for a finite number in [min, max] (or (min, max] with `minExclusive`). */
export function numberOption(min: number, max = Infinity, minExclusive = false): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || (minExclusive ? n <= min : n < min) || n > max) {
      const range = max === Infinity ? `${minExclusive ? '>' : '≥'} ${min}` : `in ${minExclusive ? '(' : '['}${min}, ${max}]`;
      throw new InvalidArgumentError(`expected a number ${range}`);
    }
    return n;
  };
}
