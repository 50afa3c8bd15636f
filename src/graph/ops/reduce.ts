/** Reductions over axes beyond the sum (broadcast.ts): mean and max. */
import { defineReduce, spread } from './broadcast.js';
import { div, cast, equal, mul } from './elementwise.js';

export const reduceMean = defineReduce('reduceMean', 'ReduceMean', 0, (a, v) => a + v, (v, c) => v / c, (n, dy) => {
  const count = n.inputs[0]!.size / n.outputs[0]!.size;
  return div(spread(n, dy), count);
});
// The max's gradient goes to the arg-max positions (all of them on exact ties).
export const reduceMax = defineReduce('reduceMax', 'ReduceMax', -Infinity, Math.max, (v) => v, (n, dy) => {
  const x = n.inputs[0]!;
  const hit = cast(equal(x, spread(n, n.outputs[0]!)), 'float32');
  return mul(spread(n, dy), hit);
});
