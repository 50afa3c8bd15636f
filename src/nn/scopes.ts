/**
 * Parameter scopes that change what a model's `p.get(name)` returns without
 * touching the model: frozen parameters become plain graph inputs (fed like
 * weights, but no gradient is taken), and a wrapper can substitute a derived
 * tensor for a weight (LoRA's W + scale·ΔW). Models stay pure descriptions.
 */
import { GraphError, type Tensor } from '../graph/tensor.js';
import type { ForwardOptions, ForwardResult, LanguageModel } from '../models/lm.js';
import { InkwellError } from '../utils/errors.js';
import { ParamScope, type ParamSpecs } from './params.js';

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
 * The same model with only `names` as parameters: a train graph built from it
 * outputs gradients for those alone, and the rest are fed as frozen inputs.
 */
export function trainableView(model: LanguageModel, names: readonly string[]): LanguageModel {
  const specs = pickSpecs(model.specs, names);
  return {
    kind: model.kind,
    vocabSize: model.vocabSize,
    specs,
    configJson: () => model.configJson(),
    forward: (scope: ParamScope, ids: Tensor, opts: ForwardOptions): ForwardResult => model.forward(new FrozenScope(scope, model.specs), ids, opts),
  };
}
