/**
 * Optimizers over the Float32Array weights, outside ONNX Runtime: measured on
 * this machine (DESIGN.md), updating in place beats the same update as ONNX ops
 * plus copying w, m and v back. Adam and AdamW run as a WebAssembly SIMD kernel
 * (adam.wat) over state kept in its memory; SGD and RMSprop as JavaScript
 * loops. Semantics follow torch.optim, so a run can be compared step by step
 * with PyTorch.
 */
import { size, type ParamSpecs, type Weights } from '../nn/params.js';
import { InkwellError } from '../utils/errors.js';
import { fromBase64 } from '../utils/bytes.js';
import { sumOfSquares } from '../utils/float-scan.js';
import { ADAM_WASM } from './adam-kernel.js';

export type OptimizerName = 'adamw' | 'adam' | 'sgd' | 'rmsprop';

export interface OptimizerConfig {
  name: OptimizerName;
  /** (β1, β2) for Adam/AdamW. */
  betas?: [number, number];
  eps?: number;
  /** AdamW: decoupled decay on `decay` params only; others: L2 added to the gradient (torch semantics). */
  weightDecay?: number;
  /** SGD momentum. */
  momentum?: number;
  /** RMSprop smoothing constant. */
  alpha?: number;
}

/** Optimizer state tensors by name (`<param>.exp_avg`, …), saved as optimizer.safetensors. */
export type OptimizerState = Map<string, Float32Array>;

export interface Optimizer {
  readonly config: OptimizerConfig;
  /** Number of updates applied (Adam's bias correction uses it). */
  steps: number;
  /**
   * One update from `grads`, each multiplied by `gradScale` first (clipping's coefficient, 1/n for n
   * accumulated micro-batches): the scaling happens inside the update's own pass, the gradients are left as they are.
   */
  step(weights: Weights, grads: ReadonlyMap<string, Float32Array>, lr: number, gradScale?: number): void;
  state(): OptimizerState;
  loadState(state: OptimizerState, steps: number): void;
}

const SLOTS: Record<OptimizerName, readonly string[]> = {
  adamw: ['exp_avg', 'exp_avg_sq'],
  adam: ['exp_avg', 'exp_avg_sq'],
  sgd: ['momentum_buffer'],
  rmsprop: ['square_avg'],
};

/**
 * An optimizer over the parameters in `specs` (gradients of others are an
 * error). `lrScale` multiplies the learning rate of the parameters it names,
 * as torch's per-parameter-group lr does (decoupled weight decay scales too).
 */
export function createOptimizer(config: OptimizerConfig, specs: ParamSpecs, lrScale: Readonly<Record<string, number>> = {}): Optimizer {
  const slots = SLOTS[config.name];
  if (!slots) throw new InkwellError(`unknown optimizer '${config.name}'`, `choose one of: ${Object.keys(SLOTS).join(', ')}`);
  const memory = new SlotMemory(specs, slots);
  const buffers: OptimizerState = new Map();
  const slot = (param: string, s: string): Float32Array => {
    const key = `${param}.${s}`;
    let b = buffers.get(key);
    if (!b) buffers.set(key, (b = memory.slot(param, s)));
    return b;
  };
  const [b1, b2] = config.betas ?? [0.9, 0.999];
  const eps = config.eps ?? (config.name === 'rmsprop' ? 1e-8 : 1e-8);
  const wd = config.weightDecay ?? 0;
  const momentum = config.momentum ?? 0;
  const alpha = config.alpha ?? 0.99;

  const opt: Optimizer = {
    config,
    steps: 0,
    step(weights, grads, baseLr, gradScale = 1) {
      const s = Math.fround(gradScale); // torch scales a float32 gradient by a float32 coefficient
      opt.steps++;
      const t = opt.steps;
      for (const [name, g] of grads) {
        if (!specs[name]) throw new InkwellError(`optimizer: got a gradient for '${name}', which it does not train`);
        const w = weights.get(name)!;
        const lr = baseLr * (lrScale[name] ?? 1);
        const decay = specs[name]?.decay ?? false;
        const n = w.length;
        switch (config.name) {
          case 'adamw':
          case 'adam': {
            const decoupled = config.name === 'adamw' && decay ? 1 - lr * wd : 1;
            const l2 = config.name === 'adam' ? wd : 0;
            // √(v̂) = √v / √(1 − β2^t): a multiply by the reciprocal, one division per element instead of two.
            memory.adam(w, g, slot(name, 'exp_avg'), slot(name, 'exp_avg_sq'), [s, b1, b2, 1 - b1, 1 - b2, l2, decoupled, lr / (1 - b1 ** t), 1 / Math.sqrt(1 - b2 ** t), eps]);
            break;
          }
          case 'sgd': {
            const buf = momentum ? slot(name, 'momentum_buffer') : null;
            for (let i = 0; i < n; i++) {
              let gi = Math.fround(s * g[i]!) + wd * w[i]!;
              if (buf) gi = buf[i] = t === 1 ? gi : momentum * buf[i]! + gi;
              w[i] = w[i]! - lr * gi;
            }
            break;
          }
          case 'rmsprop': {
            const sq = slot(name, 'square_avg');
            for (let i = 0; i < n; i++) {
              const gi = Math.fround(s * g[i]!) + wd * w[i]!;
              const a = (sq[i] = alpha * sq[i]! + (1 - alpha) * gi * gi);
              w[i] = w[i]! - (lr * gi) / (Math.sqrt(a) + eps);
            }
            break;
          }
        }
      }
    },
    state: () => buffers,
    loadState(state, steps) {
      for (const [key, value] of state) {
        const [param, s] = splitKey(key);
        const spec = specs[param];
        if (!spec || !slots.includes(s)) throw new InkwellError(`optimizer state: unexpected tensor '${key}' for ${config.name}`);
        if (value.length !== size(spec.shape)) throw new InkwellError(`optimizer state: '${key}' has the wrong size`);
      }
      buffers.clear();
      for (const [k, v] of state) slot(...splitKey(k)).set(v);
      opt.steps = steps;
    },
  };
  return opt;
}

/**
 * Every state slot of every parameter, and room for one tensor's weights and gradient, in WebAssembly
 * memories sized once (so the Float32Array views on them stay valid), each with its instance of Adam's
 * kernel. A memory holds at most ARENA_BYTES: a model whose state needs more gets several.
 */
export class SlotMemory {
  private readonly slots = new Map<string, { arena: Arena; at: number; n: number }>();
  private readonly arenas = new Map<ArrayBufferLike, Arena>();

  /** `arenaBytes`: the most one memory holds (smaller in tests). */
  constructor(specs: ParamSpecs, slotNames: readonly string[], arenaBytes = ARENA_BYTES) {
    // Parameters in order, a new memory whenever the next one's slots (and room for its w and g) would not fit.
    const groups: { params: [string, number][]; used: number; largest: number }[] = [];
    for (const [param, spec] of Object.entries(specs)) {
      const n = size(spec.shape);
      const need = slotNames.length * alignedBytes(n);
      let last = groups.at(-1);
      if (!last || last.used + need + 2 * alignedBytes(Math.max(last.largest, n)) > arenaBytes) groups.push((last = { params: [], used: 0, largest: 0 }));
      last.params.push([param, n]);
      last.used += need;
      last.largest = Math.max(last.largest, n);
    }
    for (const { params, used, largest } of groups) {
      const arena = new Arena(used + 2 * alignedBytes(largest), used);
      this.arenas.set(arena.buffer, arena);
      let at = 0;
      for (const [param, n] of params) {
        for (const s of slotNames) {
          this.slots.set(`${param}.${s}`, { arena, at, n });
          at += alignedBytes(n);
        }
      }
    }
  }

  slot(param: string, s: string): Float32Array {
    const { arena, at, n } = this.slots.get(`${param}.${s}`)!;
    return new Float32Array(arena.buffer, at, n);
  }

  /** One Adam/AdamW update of `w` in place (see adam.wat for `k`'s ten constants); m and v are slots of this memory. */
  adam(w: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, k: readonly number[]): void {
    this.arenas.get(m.buffer)!.adam(w, g, m, v, k);
  }
}

/** One WebAssembly memory of a SlotMemory: its slots from byte 0, then room for one tensor's w and g at `scratch`. */
class Arena {
  private readonly memory: WebAssembly.Memory;
  readonly buffer: ArrayBuffer;
  private kernel?: (...args: number[]) => void;

  constructor(
    bytes: number,
    private readonly scratch: number,
  ) {
    const pages = Math.ceil(bytes / 65536) || 1;
    try {
      this.memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
    } catch (err) {
      throw new InkwellError(`cannot allocate ${(bytes / 2 ** 30).toFixed(2)} GiB for the optimizer's state: ${err instanceof Error ? err.message : String(err)}`, 'train fewer parameters at once (a smaller model, or LoRA when fine-tuning), or free memory');
    }
    this.buffer = this.memory.buffer;
  }

  adam(w: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, k: readonly number[]): void {
    this.kernel ??= (new WebAssembly.Instance(new WebAssembly.Module(fromBase64(ADAM_WASM)), { env: { memory: this.memory } }).exports as { adam: (...args: number[]) => void }).adam;
    const n = w.length;
    const [W, G] = [this.scratch, this.scratch + alignedBytes(n)];
    new Float32Array(this.buffer, W, n).set(w);
    new Float32Array(this.buffer, G, n).set(g);
    this.kernel(W, G, m.byteOffset, v.byteOffset, n, ...k);
    w.set(new Float32Array(this.buffer, W, n));
  }
}

/** Bytes for n float32 values, rounded up to 16 so every slot starts where the kernel's four-lane loads line up. */
const alignedBytes = (n: number) => Math.ceil(n / 4) * 16;

/** The most one WebAssembly memory of optimizer state holds (wasm32 allows 4 GiB; browsers do not always). */
const ARENA_BYTES = 2 ** 31;

function splitKey(key: string): [string, string] {
  const dot = key.lastIndexOf('.');
  return [key.slice(0, dot), key.slice(dot + 1)];
}

/** The global L2 norm of all gradients, as torch's clip_grad_norm_ measures it before clipping. */
export function gradNorm(grads: ReadonlyMap<string, Float32Array>): number {
  let sq = 0;
  for (const g of grads.values()) sq += sumOfSquares(g);
  return Math.sqrt(sq);
}

/** What clipping to `maxNorm` multiplies gradients of norm `norm` by (1 when within it, or when maxNorm is 0: no clipping). */
export function clipCoefficient(norm: number, maxNorm: number): number {
  return maxNorm > 0 && norm > maxNorm ? maxNorm / (norm + 1e-6) : 1;
}

/** Scales all gradients in place so their global L2 norm is at most `maxNorm`; returns the norm before clipping. */
export function clipGradNorm(grads: ReadonlyMap<string, Float32Array>, maxNorm: number): number {
  const norm = gradNorm(grads);
  const k = clipCoefficient(norm, maxNorm);
  if (k !== 1) for (const g of grads.values()) for (let i = 0; i < g.length; i++) g[i]! *= k;
  return norm;
}
