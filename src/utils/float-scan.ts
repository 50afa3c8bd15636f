/**
 * Passes over whole float32 arrays in WebAssembly SIMD (float-scan.wat): whether every value is finite,
 * and the sum of their squares (a gradient norm). An array is copied into the module's memory a piece
 * at a time, each piece scanned while it is still in the core's cache, unless it lies there already:
 * `readBuffer` lends a buffer in that memory for a file to be read into, so a model's weights are
 * checked where they were read (the copy would cost more than the scan).
 */
import { fromBase64 } from './bytes.js';
import { FLOAT_SCAN_WASM } from './float-scan-kernel.js';

/** Values per piece copied in: 256 KB, well inside a core's L2, and a multiple of 4 (see sumsq's tail). */
const PIECE = 1 << 16;
/**
 * Size of the lent read buffer, transaction.ts's read size: 256 KB, so that a read is hashed and scanned
 * while it sits in L2, and a process faults in 64 pages for the buffer instead of 1,024 for 4 MiB (on a
 * VM whose page faults are costly, loading a 3.7 MB LSTM 29 → 13 ms, a 43 MB GPT 61 → 51 ms).
 */
export const READ_BYTES = 1 << 18;

interface Kernel {
  finite(p: number, n: number): number;
  sumsq_begin(): void;
  sumsq(p: number, n: number): void;
  sumsq_end(): number;
}

/** One memory for the process: the pieces' scratch at byte 0, the read buffer after it. */
class ScanMemory {
  readonly buffer: ArrayBuffer;
  readonly kernel: Kernel;
  readonly scratch: Float32Array;
  readonly read: Uint8Array;

  constructor() {
    const bytes = PIECE * 4 + READ_BYTES;
    const memory = new WebAssembly.Memory({ initial: bytes / 65536, maximum: bytes / 65536 });
    this.kernel = new WebAssembly.Instance(new WebAssembly.Module(fromBase64(FLOAT_SCAN_WASM)), { env: { memory } }).exports as unknown as Kernel;
    // A memory that never grows keeps its buffer, so these views stay valid.
    this.buffer = memory.buffer;
    this.scratch = new Float32Array(this.buffer, 0, PIECE);
    this.read = new Uint8Array(this.buffer, PIECE * 4, READ_BYTES);
  }

  /** Runs `scan` over `a` where it lies, or piece by piece through the scratch; stops when `scan` returns false. */
  each(a: Float32Array, scan: (p: number, n: number) => boolean): void {
    if (a.buffer === this.buffer) {
      scan(a.byteOffset, a.length);
      return;
    }
    for (let i = 0; i < a.length; i += PIECE) {
      const piece = a.subarray(i, i + PIECE);
      this.scratch.set(piece);
      if (!scan(0, piece.length)) return;
    }
  }
}

let shared: ScanMemory | undefined;
const scanMemory = (): ScanMemory => (shared ??= new ScanMemory());

/** Whether every value of `a` is finite (no NaN, no ±infinity). */
export function allFinite(a: Float32Array): boolean {
  const memory = scanMemory();
  let finite = true;
  memory.each(a, (p, n) => (finite = memory.kernel.finite(p, n) === 1));
  return finite;
}

/**
 * Σ a[i]², in float64: the very number JavaScript's `a += x * x` over four running sums gives (value i
 * to sum i mod 4, the last length mod 4 to the first, then ((s0 + s1) + s2) + s3).
 */
export function sumOfSquares(a: Float32Array): number {
  const memory = scanMemory();
  memory.kernel.sumsq_begin();
  memory.each(a, (p, n) => (memory.kernel.sumsq(p, n), true));
  return memory.kernel.sumsq_end();
}

/**
 * A buffer of `bytes` for a file to be read into, in this module's memory when it fits (allFinite and
 * sumOfSquares then scan views of it in place), else a new array. There is one: it holds what was read
 * into it until the next caller's read.
 */
export function readBuffer(bytes: number): Uint8Array {
  return bytes <= READ_BYTES ? scanMemory().read.subarray(0, bytes) : new Uint8Array(bytes);
}
