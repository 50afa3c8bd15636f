/** Wall-clock timing with warmup; reports median and best, which are robust on a shared, noisy machine. */
export interface Timing {
  median: number;
  best: number;
  runs: number;
}

export async function timeIt(fn: () => Promise<unknown> | unknown, o: { warmup?: number; minRuns?: number; minSeconds?: number } = {}): Promise<Timing> {
  for (let i = 0; i < (o.warmup ?? 1); i++) await fn();
  const times: number[] = [];
  const start = performance.now();
  while (times.length < (o.minRuns ?? 5) || performance.now() - start < (o.minSeconds ?? 0) * 1000) {
    const t0 = performance.now();
    await fn();
    times.push((performance.now() - t0) / 1000);
  }
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(times.length / 2)]!, best: times[0]!, runs: times.length };
}
