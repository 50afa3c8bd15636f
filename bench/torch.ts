/**
 * Runs ../shared/bench/torch_ref.py (the PyTorch reference) in a child process
 * for side-by-side numbers. OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are removed
 * from the child's environment only, so PyTorch gets its fastest BLAS kernels.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = resolve(fileURLToPath(import.meta.url), '..', '..', '..');
export const TORCH_REF = process.env['INKWELL_TORCH_REF'] ?? join(REPO, '..', 'shared', 'bench', 'torch_ref.py');
export const SHARED_DATA = join(REPO, '..', 'shared', 'data');

let python: string | null | undefined;

/** A Python with torch importable (pyenv shims may hide Debian's python3-torch), or null. */
function findPython(): string | null {
  if (python !== undefined) return python;
  python = null;
  for (const candidate of ['python3', '/usr/bin/python3']) {
    try {
      execFileSync(candidate, ['-c', 'import torch'], { stdio: 'ignore' });
      python = candidate;
      break;
    } catch {
      // try the next one
    }
  }
  return python;
}

export function torchAvailable(): string | null {
  if (!existsSync(TORCH_REF)) return `no ${TORCH_REF}`;
  if (!findPython()) return 'no Python with torch (apt-get install python3-torch libopenblas0-pthread)';
  return null;
}

export function runTorch(args: string[], threads: number): Record<string, unknown> {
  const env: NodeJS.ProcessEnv = { ...process.env, THREADS: String(threads) };
  delete env['OPENBLAS_CORETYPE'];
  delete env['OPENBLAS_L2_SIZE'];
  const out = execFileSync(findPython()!, [TORCH_REF, ...args, '--threads', String(threads)], { env, encoding: 'utf8', maxBuffer: 1 << 24 });
  return JSON.parse(out.trim().split('\n').at(-1)!) as Record<string, unknown>;
}

/** The faster of 1 and 2 threads by `key` (PyTorch on 2 shared cores is sometimes faster on one). */
export function bestTorch(args: string[], key: string): Record<string, unknown> {
  const runs = [1, 2].map((t) => runTorch(args, t));
  return runs.reduce((a, b) => ((b[key] as number) > (a[key] as number) ? b : a));
}
