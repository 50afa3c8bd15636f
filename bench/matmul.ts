/** fp32 GFLOP/s of a 1024×1024×1024 matmul in ORT: this machine's practical peak, the denominator of MFU. */
import { Graph, F } from '../src/graph/index.js';
import { CompiledGraph } from '../src/runtime/session.js';
import { Rng } from '../src/utils/rng.js';
import { timeIt } from './timing.js';

export async function benchMatmul(n = 1024, threads?: number): Promise<Record<string, unknown>> {
  const g = new Graph();
  const a = g.input('a', 'float32', [n, n]);
  const b = g.input('b', 'float32', [n, n]);
  const c = await CompiledGraph.compile(g, { c: F.matmul(a, b) }, { threads });
  const rng = new Rng(0);
  const feeds = { a: Float32Array.from({ length: n * n }, () => rng.float()), b: Float32Array.from({ length: n * n }, () => rng.float()) };
  const t = await timeIt(() => c.run(feeds), { warmup: 3, minRuns: 10, minSeconds: 2 });
  await c.release();
  const flops = 2 * n ** 3;
  return { bench: 'matmul', n, threads: threads ?? 'all', median_s: t.median, best_s: t.best, gflops_median: flops / t.median / 1e9, gflops_best: flops / t.best / 1e9 };
}
