/**
 * Parameter scopes that change what a model's `p.get(name)` returns without
 * touching the model: frozen parameters become plain graph inputs (fed like
 * weights, but no gradient is taken), and a wrapper can substitute a derived
 * tensor for a weight (LoRA's W + scale·ΔW). Models stay pure descriptions;
 * a wrapper is its base model in every capability but the view of the weights.
 */
import { GraphError, type Dim, type Graph, type Tensor } from '../graph/tensor.js';
import { ParamScope, type ParamSpecs } from '../nn/params.js';
import { InkwellError } from '../utils/errors.js';
import type { DecodeGraphOptions, Decoding, ForwardOptions, ForwardResult, HiddenStates, LanguageModel } from './lm.js';

/** Parameters of `trainable` come from that scope; every other name in `all` is a float32 data input of the same name and shape. */
export class FrozenScope extends ParamScope {
  private readonly frozen = new Map<string, Tensor>();
  constructor(private readonly trainable: ParamScope, all: ParamSpecs) {
    super(trainable.graph, all);
  }

  override get(name: string): Tensor {
    if (name in this.trainable.specs) return this.trainable.get(name);
    let t = this.frozen.get(name);
    if (!t) {
      const spec = this.specs[name];
      if (!spec) throw new GraphError(`no parameter named '${name}' in this model`);
      t = this.graph.input(name, 'float32', spec.shape);
      this.frozen.set(name, t);
    }
    return t;
  }
}

/** The specs of `names` only, in the model's order; an unknown name is an error. */
export function pickSpecs(specs: ParamSpecs, names: readonly string[]): ParamSpecs {
  const wanted = new Set(names);
  for (const n of wanted) if (!(n in specs)) throw new InkwellError(`trainable parameter '${n}' is not in this model`);
  return Object.fromEntries(Object.entries(specs).filter(([n]) => wanted.has(n)));
}

/**
 * A model that reads its base's graph code through another view of the
 * weights (`scope`) and otherwise answers every capability question — context,
 * hidden states, state, decoding — as its base does.
 */
export abstract class ModelWrapper implements LanguageModel {
  abstract readonly specs: ParamSpecs;
  constructor(readonly base: LanguageModel) {}

  /** The view of `inner` (a scope over this wrapper's specs) through which the base model's graph code reads its weights. */
  abstract scope(inner: ParamScope): ParamScope;

  get kind(): string {
    return this.base.kind;
  }

  get vocabSize(): number {
    return this.base.vocabSize;
  }

  get contextLength(): number | null {
    return this.base.contextLength;
  }

  get hiddenSize(): number {
    return this.base.hiddenSize;
  }

  get numLayers(): number {
    return this.base.numLayers;
  }

  /** The base's decoding, its decode graph reading the weights through this wrapper's view. */
  get decoding(): Decoding {
    const d = this.base.decoding;
    const scope = (o: DecodeGraphOptions) => (g: Graph) => this.scope(o.scope ? o.scope(g) : new ParamScope(g, this.specs));
    if (d.type === 'recurrent') {
      return {
        ...d,
        buildPromptGraph: (batch, o = {}) => d.buildPromptGraph(batch, { ...o, scope: scope(o) }),
        buildStepGraph: (batch, o = {}) => d.buildStepGraph(batch, { ...o, scope: scope(o) }),
        buildChoiceGraph: (batch, steps, choice, o = {}) => d.buildChoiceGraph(batch, steps, choice, { ...o, scope: scope(o) }),
      };
    }
    return { ...d, buildGraph: (o = {}) => d.buildGraph({ ...o, scope: scope(o) }) };
  }

  configJson(): Record<string, unknown> {
    return this.base.configJson();
  }

  forward(scope: ParamScope, ids: Tensor, opts: ForwardOptions): ForwardResult {
    return this.base.forward(this.scope(scope), ids, opts);
  }

  hiddenStates(scope: ParamScope, ids: Tensor, opts: ForwardOptions): HiddenStates {
    return this.base.hiddenStates(this.scope(scope), ids, opts);
  }

  stateShapes(batch: Dim): Record<string, Dim[]> {
    return this.base.stateShapes(batch);
  }
}

/** The same model with only some parameters trainable: its graphs output gradients for those alone, and the rest are fed as frozen inputs. */
class TrainableView extends ModelWrapper {
  readonly specs: ParamSpecs;
  constructor(base: LanguageModel, names: readonly string[]) {
    super(base);
    this.specs = pickSpecs(base.specs, names);
  }

  scope(inner: ParamScope): ParamScope {
    return new FrozenScope(inner, this.base.specs);
  }
}

/**
 * The same model with only `names` as parameters: a train graph built from it
 * outputs gradients for those alone, and the rest are fed as frozen inputs.
 */
export function trainableView(model: LanguageModel, names: readonly string[]): LanguageModel {
  return new TrainableView(model, names);
}
