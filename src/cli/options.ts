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
