/**
 * Named parameters. A model describes its parameters once, as specs (name,
 * shape, initialiser, whether weight decay applies); the same specs drive
 * initialisation, graph building, checkpoint validation and the optimizer.
 * Names follow Hugging Face / PyTorch so checkpoints travel.
 */
import { Graph, GraphError, type Tensor } from '../graph/tensor.js';
import { Rng } from '../utils/rng.js';
import { InkwellError } from '../utils/errors.js';
import { allFinite } from '../utils/float-scan.js';

export type Init =
  | { readonly kind: 'normal'; readonly std: number }
  | { readonly kind: 'uniform'; readonly bound: number }
  | { readonly kind: 'zeros' }
  | { readonly kind: 'ones' };

export interface ParamSpec {
  readonly shape: readonly number[];
  readonly init: Init;
  /** AdamW's decoupled weight decay applies (matrices and embeddings, not biases or norms). */
  readonly decay: boolean;
}

export type ParamSpecs = Readonly<Record<string, ParamSpec>>;

/** The model's weights by parameter name, row-major float32 (the safetensors layout). */
export type Weights = Map<string, Float32Array>;

export const normal = (std: number): Init => ({ kind: 'normal', std });
export const uniform = (bound: number): Init => ({ kind: 'uniform', bound });
export const zeros: Init = { kind: 'zeros' };
export const ones: Init = { kind: 'ones' };

export function size(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Standard normal by Box–Muller from the shared seeded RNG. */
export function gaussian(rng: Rng): number {
  const u = 1 - rng.float(); // (0, 1]: log(0) never happens
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.float());
}

/** Initialises every parameter in spec order, so a seed always gives the same weights. */
export function initWeights(specs: ParamSpecs, seed: number): Weights {
  const rng = new Rng(seed);
  const w: Weights = new Map();
  for (const [name, spec] of Object.entries(specs)) {
    const a = new Float32Array(size(spec.shape));
    const init = spec.init;
    if (init.kind === 'normal') for (let i = 0; i < a.length; i++) a[i] = gaussian(rng) * init.std;
    else if (init.kind === 'uniform') for (let i = 0; i < a.length; i++) a[i] = (rng.float() * 2 - 1) * init.bound;
    else if (init.kind === 'ones') a.fill(1);
    w.set(name, a);
  }
  return w;
}

/**
 * Checks loaded weights against the specs: every name present, shapes right
 * (by `shapes` where the file gave them, else by element count), nothing
 * extra, and every value finite — a diverged run's NaN weights must not load
 * and then score or generate as if they were a model.
 */
export function validateWeights(specs: ParamSpecs, w: Weights, source: string, shapes?: ReadonlyMap<string, readonly number[]>): void {
  validateShapes(specs, shapes ?? new Map([...w].map(([k, a]) => [k, [a.length]])), source, shapes === undefined);
  for (const [name, a] of w) checkFinite(a, name, source);
}

/**
 * Checks that a set of tensors, by name and shape, is exactly the specs'
 * parameters. `countsOnly`: the shapes are flat element counts (weights held
 * in memory without their file's shapes), so only sizes can be compared.
 */
export function validateShapes(specs: ParamSpecs, shapes: ReadonlyMap<string, readonly number[]>, source: string, countsOnly = false): void {
  for (const [name, spec] of Object.entries(specs)) {
    const shape = shapes.get(name);
    if (shape === undefined) throw new InkwellError(`${source}: missing tensor '${name}'`);
    if (size(shape) !== size(spec.shape)) {
      throw new InkwellError(`${source}: tensor '${name}' has ${size(shape)} values, expected shape [${spec.shape.join(',')}]`);
    }
    // Same count, other layout (e.g. a transposed [96,32] for [32,96]): loading it would scramble the weights silently.
    if (!countsOnly && (shape.length !== spec.shape.length || shape.some((d, i) => d !== spec.shape[i]))) {
      throw new InkwellError(`${source}: tensor '${name}' has shape [${shape.join(',')}], expected shape [${spec.shape.join(',')}]`, 'was it saved transposed, or for another model?');
    }
  }
  for (const name of shapes.keys()) {
    if (!Object.hasOwn(specs, name)) throw new InkwellError(`${source}: unexpected tensor '${name}' (does config.json match the weights?)`);
  }
}

/** The first non-finite value of a tensor, named, as an error; `offset` places a chunk of a larger tensor. */
export function checkFinite(a: Float32Array, name: string, source: string, offset = 0): void {
  if (allFinite(a)) return;
  for (let i = 0; i < a.length; i++) {
    // x − x is 0 for every finite x and NaN for NaN and ±Infinity.
    if (a[i]! - a[i]! !== 0) {
      throw new InkwellError(`${source}: tensor '${name}' holds ${a[i]} at index ${offset + i}: the weights are not all finite`, 'the run diverged (try a lower --lr); train again or use an earlier checkpoint');
    }
  }
}

export function countParams(specs: ParamSpecs): number {
  return Object.values(specs).reduce((n, s) => n + size(s.shape), 0);
}

/** Declares graph parameters on first use, by name, from the specs (a typo fails at build time). */
export class ParamScope {
  private readonly made = new Map<string, Tensor>();
  constructor(readonly graph: Graph, readonly specs: ParamSpecs) {}

  get(name: string): Tensor {
    let t = this.made.get(name);
    if (!t) {
      const spec = this.specs[name];
      if (!spec) throw new GraphError(`no parameter named '${name}' in this model`);
      t = this.graph.param(name, spec.shape);
      this.made.set(name, t);
    }
    return t;
  }

  /** Like `get`, but null for an optional parameter the config leaves out (e.g. biases when bias=false). */
  maybe(name: string): Tensor | null {
    return name in this.specs ? this.get(name) : null;
  }
}
