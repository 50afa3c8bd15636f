/**
 * The one way a workflow runs a model's graph — training, validation,
 * perplexity, classification, prediction and recurrent decoding alike: the
 * weights the graph reads, its carried state and a batch go in; a session is
 * compiled once per shape (SessionCache) and reused.
 */
import { shapeSize, staticShape } from '../graph/tensor.js';
import type { BuiltGraph } from '../graph/onnx.js';
import { SessionCache, type CompiledGraph, type CompileOptions, type Feed, type RunOptions, type TypedArray } from './session.js';

export interface StepOptions extends CompileOptions {
  /** Parameters fed on every run, by name (read at each run, so in-place updates are seen); only those a graph reads are fed. */
  weights?: ReadonlyMap<string, Float32Array>;
  /** Names of the carried-state inputs (a recurrent model's `stateShapes`), each returned after a run as `<name>.out`. */
  state?: readonly string[];
}

export interface StepRunOptions extends RunOptions {
  /**
   * The carried state: each state input is fed from here (zeros when absent) and
   * replaced by its `.out` output afterwards. Without it every run starts from zeros.
   */
  carry?: Map<string, TypedArray>;
}

/** What a session reads besides the batch, worked out once per session. */
interface FeedPlan {
  session: CompiledGraph;
  weights: string[];
  /** State inputs and the zeros fed when no carried value exists. */
  state: Array<{ name: string; zeros: Float32Array }>;
}

export class CompiledStep {
  private readonly sessions: SessionCache;
  private readonly plans = new Map<string, FeedPlan>();
  private readonly weights: ReadonlyMap<string, Float32Array>;
  private readonly stateNames: ReadonlySet<string>;

  constructor(o: StepOptions = {}) {
    const { weights, state, ...compile } = o;
    this.sessions = new SessionCache(compile);
    this.weights = weights ?? new Map();
    this.stateNames = new Set(state ?? []);
  }

  /** Compiles the graph for `key` now rather than on its first run (so that a decoder's set-up cost is paid when it is created). */
  async prepare(key: string, build: () => BuiltGraph): Promise<void> {
    await this.plan(key, build);
  }

  /**
   * Runs the graph `build` makes (compiled on the first run with this `key`, which
   * names its shape, e.g. 'train:12x64') on `batch` plus the weights and state it reads.
   */
  async run(key: string, build: () => BuiltGraph, batch: Readonly<Record<string, Feed>>, o: StepRunOptions = {}): Promise<Record<string, TypedArray>> {
    // Decoders run this once per token: the plan is looked up without awaiting anything.
    const plan = this.plans.get(key) ?? (await this.plan(key, build));
    const feeds: Record<string, Feed> = { ...batch };
    for (const name of plan.weights) if (!(name in batch)) feeds[name] = this.weights.get(name)!;
    for (const { name, zeros } of plan.state) if (!(name in batch)) feeds[name] = o.carry?.get(name) ?? zeros;
    const carried = o.carry ? plan.state.filter(({ name }) => !(name in batch)) : [];
    const out = await plan.session.run(feeds, o.fetch && carried.length ? { ...o, fetch: [...o.fetch, ...carried.map(({ name }) => `${name}.out`)] } : o);
    for (const { name } of carried) o.carry!.set(name, out[`${name}.out`]!);
    return out;
  }

  /** Whether the session for `key` is compiled (or being compiled). */
  compiled(key: string): boolean {
    return this.sessions.has(key);
  }

  /** Frees the session compiled for `key` (a later run with it compiles it again). */
  async forget(key: string): Promise<void> {
    this.plans.delete(key);
    await this.sessions.delete(key);
  }

  async release(): Promise<void> {
    this.plans.clear();
    await this.sessions.clear();
  }

  private async plan(key: string, build: () => BuiltGraph): Promise<FeedPlan> {
    const session = await this.sessions.get(key, build);
    let plan = this.plans.get(key);
    if (!plan) {
      plan = {
        session,
        weights: session.inputs.filter((i) => this.weights.has(i.name)).map((i) => i.name),
        state: session.inputs.filter((i) => !this.weights.has(i.name) && this.stateNames.has(i.name)).map((i) => ({ name: i.name, zeros: new Float32Array(shapeSize(staticShape(i.name, i.shape))) })),
      };
      this.plans.set(key, plan);
    }
    return plan;
  }
}
