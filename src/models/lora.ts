/**
 * LoRA (Hu et al., 2021) as Hugging Face PEFT does it: a target weight W gets
 * a trainable low-rank update, y = x·W + (α/r)·x·Aᵀ·Bᵀ with lora_A [r, in]
 * (Kaiming-uniform) and lora_B [out, r] (zeros, so training starts at the base
 * model). GPT-2's Conv1D stores W as [in, out] (PEFT's fan_in_fan_out), so the
 * update added to W is (α/r)·Aᵀ·Bᵀ.
 *
 * The wrapper substitutes W + (α/r)·AᵀBᵀ for W through the parameter scope, so
 * the base model's graph code is used unchanged; for the small r and layers
 * here the extra [in, r]·[r, out] product per step costs next to nothing.
 */
import type { Tensor } from '../graph/tensor.js';
import * as F from '../graph/ops/index.js';
import { ParamScope, uniform, zeros, type ParamSpec, type ParamSpecs, type Weights } from '../nn/params.js';
import { InkwellError } from '../utils/errors.js';
import type { LanguageModel } from './lm.js';
import { ModelWrapper } from './scopes.js';

export interface LoraConfig {
  r: number;
  alpha: number;
  /** Module names whose weights get adapters, matched on the last name part as PEFT does (c_proj matches attn.c_proj and mlp.c_proj). */
  targetModules: string[];
}

export const LORA_MODULES = ['c_attn', 'c_proj', 'c_fc'] as const;

/** Target weight name → its adapter's A and B names. */
function adapterNames(weight: string): { a: string; b: string } {
  const module = weight.slice(0, -'.weight'.length);
  return { a: `${module}.lora_A.weight`, b: `${module}.lora_B.weight` };
}

/**
 * The base model with adapters: it decodes, evaluates and trains as its base
 * does (same context, state and decoder), its weights read as W + (α/r)·AᵀBᵀ.
 */
export class LoraModel extends ModelWrapper {
  readonly specs: ParamSpecs;
  /** Target weight names, in the base model's order. */
  readonly targets: string[];
  readonly scale: number;

  constructor(base: LanguageModel, readonly config: LoraConfig) {
    super(base);
    if (!Number.isInteger(config.r) || config.r <= 0) throw new InkwellError(`LoRA rank r must be a positive integer, got ${config.r}`);
    if (!(config.alpha > 0)) throw new InkwellError(`LoRA alpha must be positive, got ${config.alpha}`);
    for (const m of config.targetModules) {
      if (!(LORA_MODULES as readonly string[]).includes(m)) throw new InkwellError(`LoRA target '${m}' is not a GPT-2 module`, `choose from: ${LORA_MODULES.join(', ')}`);
    }
    this.scale = config.alpha / config.r;
    if (config.targetModules.length === 0) throw new InkwellError('no LoRA target modules given');
    this.targets = Object.keys(base.specs).filter((n) => n.endsWith('.weight') && config.targetModules.includes(n.split('.').at(-2)!));
    if (this.targets.length === 0) throw new InkwellError(`LoRA adapters need a GPT model (Conv1D weights), got '${base.kind}'`, `it has no ${config.targetModules.join(', ')} modules`);
    // A rank beyond the model's width adds parameters but no expressiveness (the update is already full rank), and a huge one allocates without bound.
    if (config.r > base.hiddenSize) throw new InkwellError(`LoRA rank ${config.r} (--lora-r) exceeds the model's width of ${base.hiddenSize}`, `choose --lora-r between 1 and ${base.hiddenSize}`);
    const adapters: Record<string, ParamSpec> = {};
    for (const w of this.targets) {
      const [nIn, nOut] = base.specs[w]!.shape as [number, number];
      const { a, b } = adapterNames(w);
      // PEFT: kaiming_uniform_(a=√5) on A, i.e. U(±1/√in); B starts at zero.
      adapters[a] = { shape: [config.r, nIn], init: uniform(1 / Math.sqrt(nIn)), decay: true };
      adapters[b] = { shape: [nOut, config.r], init: zeros, decay: true };
    }
    this.specs = { ...base.specs, ...adapters };
  }

  /** The adapter parameters: what LoRA trains. */
  get adapterNames(): string[] {
    return this.targets.flatMap((w) => Object.values(adapterNames(w)));
  }

  /** The base config plus the adapter settings, so inkwell reloads a LoRA run (transformers ignores the extra field). */
  override configJson(): Record<string, unknown> {
    const c = this.config;
    return { ...this.base.configJson(), inkwell_lora: { r: c.r, lora_alpha: c.alpha, target_modules: c.targetModules } };
  }

  /** A view of `inner` in which each target weight reads as W + (α/r)·AᵀBᵀ. */
  scope(inner: ParamScope): ParamScope {
    return new LoraScope(inner, this);
  }

  /** Base weights with every adapter folded in: W + (α/r)·AᵀBᵀ (what `--merge` saves). */
  merge(weights: Weights): Weights {
    const out: Weights = new Map();
    for (const name of Object.keys(this.base.specs)) out.set(name, Float32Array.from(weights.get(name)!));
    for (const w of this.targets) {
      const [nIn, nOut] = this.base.specs[w]!.shape as [number, number];
      const { a, b } = adapterNames(w);
      const A = weights.get(a)!;
      const B = weights.get(b)!;
      const W = out.get(w)!;
      const r = this.config.r;
      for (let i = 0; i < nIn; i++) {
        for (let o = 0; o < nOut; o++) {
          let s = 0;
          for (let k = 0; k < r; k++) s += A[k * nIn + i]! * B[o * r + k]!;
          W[i * nOut + o]! += this.scale * s;
        }
      }
    }
    return out;
  }

  /** PEFT's adapter_model.safetensors tensors: `base_model.model.<module>.lora_A.weight` / `lora_B.weight`. */
  adapterTensors(weights: Weights): Map<string, { shape: readonly number[]; data: Float32Array }> {
    return new Map(this.adapterNames.map((n) => [`${PEFT_PREFIX}${n}`, { shape: this.specs[n]!.shape, data: weights.get(n)! }]));
  }

  /** PEFT's adapter_config.json for these adapters on `baseModel`. */
  adapterConfig(baseModel: string): Record<string, unknown> {
    const c = this.config;
    return {
      peft_type: 'LORA',
      task_type: 'CAUSAL_LM',
      base_model_name_or_path: baseModel,
      r: c.r,
      lora_alpha: c.alpha,
      lora_dropout: 0,
      target_modules: c.targetModules,
      // GPT-2's Conv1D stores weights [in, out]: PEFT must transpose its update.
      fan_in_fan_out: true,
      bias: 'none',
      modules_to_save: null,
      inference_mode: true,
      init_lora_weights: true,
    };
  }

  /** Reads `inkwell_lora` of a config.json back. */
  static fromConfigJson(base: LanguageModel, j: unknown, source: string): LoraModel {
    const c = j as { r?: unknown; lora_alpha?: unknown; target_modules?: unknown };
    if (typeof c?.r !== 'number' || typeof c.lora_alpha !== 'number' || !Array.isArray(c.target_modules) || !c.target_modules.every((m) => typeof m === 'string')) {
      throw new InkwellError(`${source}: 'inkwell_lora' needs r, lora_alpha and target_modules`);
    }
    return new LoraModel(base, { r: c.r, alpha: c.lora_alpha, targetModules: c.target_modules as string[] });
  }
}

export const PEFT_PREFIX = 'base_model.model.';

/** A scope in which each target weight reads as W + (α/r)·AᵀBᵀ; everything else passes through. */
class LoraScope extends ParamScope {
  private readonly effective = new Map<string, Tensor>();
  private readonly targets: ReadonlySet<string>;

  constructor(private readonly inner: ParamScope, private readonly lora: LoraModel) {
    super(inner.graph, inner.specs);
    this.targets = new Set(lora.targets);
  }

  override get(name: string): Tensor {
    if (!this.targets.has(name)) return this.inner.get(name);
    let t = this.effective.get(name);
    if (!t) {
      const { a, b } = adapterNames(name);
      const delta = F.matmul(this.inner.get(a), this.inner.get(b), { transA: true, transB: true }); // [in, r]·[r, out]
      t = F.add(this.inner.get(name), F.mul(delta, this.lora.scale));
      this.effective.set(name, t);
    }
    return t;
  }
}
