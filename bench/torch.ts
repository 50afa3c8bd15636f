/**
 * Runs ../shared/bench/torch_ref.py (the PyTorch reference) in a child process
 * for side-by-side numbers. OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are removed
 * from the child's environment only, so PyTorch gets its fastest BLAS kernels.
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
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

function torchCommand(args: string[], threads: number): { argv: string[]; env: NodeJS.ProcessEnv } {
  const env: NodeJS.ProcessEnv = { ...process.env, THREADS: String(threads) };
  delete env['OPENBLAS_CORETYPE'];
  delete env['OPENBLAS_L2_SIZE'];
  return { argv: [TORCH_REF, ...args, '--threads', String(threads)], env };
}

const lastJson = (out: string) => JSON.parse(out.trim().split('\n').at(-1)!) as Record<string, unknown>;

export function runTorch(args: string[], threads: number): Record<string, unknown> {
  const { argv, env } = torchCommand(args, threads);
  return lastJson(execFileSync(findPython()!, argv, { env, encoding: 'utf8', maxBuffer: 1 << 24 }));
}

/** runTorch without blocking this process: for running beside an inkwell child process. */
export async function runTorchAsync(args: string[], threads: number): Promise<Record<string, unknown>> {
  const { argv, env } = torchCommand(args, threads);
  return lastJson((await promisify(execFile)(findPython()!, argv, { env, encoding: 'utf8', maxBuffer: 1 << 24 })).stdout);
}

/** The faster of 1 and 2 threads by `key` (PyTorch on 2 shared cores is sometimes faster on one). */
export function bestTorch(args: string[], key: string): Record<string, unknown> {
  const runs = [1, 2].map((t) => runTorch(args, t));
  return runs.reduce((a, b) => ((b[key] as number) > (a[key] as number) ? b : a));
}
