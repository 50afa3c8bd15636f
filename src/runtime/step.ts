/**
 * The one way a workflow runs a model's graph — training, validation,
 * perplexity, classification, prediction and recurrent decoding alike: the
 * weights the graph reads, its carried state and a batch go in; a session is
 * compiled once per shape (SessionCache) and reused.
 */
import type { GraphOutputs } from '../graph/onnx.js';
import { shapeSize, staticShape, type Graph } from '../graph/tensor.js';
import { SessionCache, type CompileOptions, type Feed, type RunOptions, type TypedArray } from './session.js';

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

export class CompiledStep {
  private readonly sessions: SessionCache;
  private readonly weights: ReadonlyMap<string, Float32Array>;
  private readonly stateNames: ReadonlySet<string>;

  constructor(o: StepOptions = {}) {
    const { weights, state, ...compile } = o;
    this.sessions = new SessionCache(compile);
    this.weights = weights ?? new Map();
    this.stateNames = new Set(state ?? []);
  }

  /** Compiles the graph for `key` now rather than on its first run (so that a decoder's set-up cost is paid when it is created). */
  async prepare(key: string, build: () => { graph: Graph; outputs: GraphOutputs }): Promise<void> {
    await this.sessions.get(key, build);
  }

  /**
   * Runs the graph `build` makes (compiled on the first run with this `key`, which
   * names its shape, e.g. 'train:12x64') on `batch` plus the weights and state it reads.
   */
  async run(key: string, build: () => { graph: Graph; outputs: GraphOutputs }, batch: Readonly<Record<string, Feed>>, o: StepRunOptions = {}): Promise<Record<string, TypedArray>> {
    const session = await this.sessions.get(key, build);
    const { carry, ...run } = o;
    const feeds: Record<string, Feed> = { ...batch };
    const carried: string[] = [];
    for (const input of session.inputs) {
      if (input.name in batch) continue;
      const w = this.weights.get(input.name);
      if (w) feeds[input.name] = w;
      else if (this.stateNames.has(input.name)) {
        feeds[input.name] = carry?.get(input.name) ?? new Float32Array(shapeSize(staticShape(input.name, input.shape)));
        carried.push(input.name);
      }
    }
    const fetch = run.fetch && carry ? [...run.fetch, ...carried.map((n) => `${n}.out`)] : run.fetch;
    const out = await session.run(feeds, { ...run, fetch });
    if (carry) for (const name of carried) carry.set(name, out[`${name}.out`]!);
    return out;
  }

  async release(): Promise<void> {
    await this.sessions.clear();
  }
}
