/**
 * The op registry. Each op is defined once, in one place, with
 *  - `emit`: the ONNX nodes that compute it,
 *  - `grad`: its reverse-mode rule, written with other registered ops (ONNX
 *    Runtime's CPU build has no gradient kernels), and
 *  - `ref`: a plain float64 TypeScript forward, the independent reference that
 *    tests check ORT against and take finite differences through.
 */
import type { NDArray } from './ndarray.js';
import type { AttrValue, Node, Shape, Tensor } from './tensor.js';

/** Domain of ONNX Runtime's contrib ops (fused attention, quantized matmuls). */
export const MS_DOMAIN = 'com.microsoft';

/** ONNX attribute values: a plain number is an INT; floats are wrapped so `1.0` is not mistaken for one. */
export type OnnxAttr = number | { readonly float: number } | string | readonly number[];

export interface Emitter {
  /** Appends an ONNX node; returns its output names. */
  add(opType: string, inputs: readonly string[], outputs: readonly string[], attrs?: Record<string, OnnxAttr>, domain?: string): void;
  /** Name of a fresh intermediate value. */
  tmp(hint: string): string;
  /** Name of an int64 1-d initializer holding `values` (deduplicated). */
  int64(values: readonly number[]): string;
  /** Name of an int64 scalar initializer. */
  int64Scalar(value: number): string;
  /** Name of an int64 1-d value holding `dims`: a constant when static, computed from the tensors that carry the symbols otherwise. */
  shape(dims: Shape): string;
  /** Name of a float32 initializer: a scalar for a number, 1-d for an array. */
  float(value: number | readonly number[]): string;
  /** Name of a float64 scalar initializer. */
  double(value: number): string;
  /** The ONNX name of a tensor ('' for an optional input left out). */
  name(t: Tensor): string;
  /** Whether a graph output or another emitted node reads `t` (an op may then leave out an optional output). */
  read(t: Tensor): boolean;
  /**
   * The value `make` emits, emitted once per `key` and model: nodes that derive the same value from
   * one weight (the gate reordering of a K-step decoder's unrolled LSTM steps) then share it, so ORT
   * folds and pre-packs it once instead of K times.
   */
  once(key: string, make: () => string): string;
}

/** Gradient of the loss w.r.t. each output (undefined where none flows) → gradient w.r.t. each input. */
export type GradRule = (node: Node, dys: readonly (Tensor | undefined)[]) => (Tensor | undefined)[];

export interface OpDef {
  readonly emit: (node: Node, e: Emitter) => void;
  readonly ref: (node: Node, xs: readonly NDArray[]) => NDArray[];
  /** Absent for ops whose outputs carry no gradient (comparisons, casts to int, shape queries). */
  readonly grad?: GradRule;
}

const registry = new Map<string, OpDef>();

export function defineOp(op: string, def: OpDef): void {
  if (registry.has(op)) throw new Error(`op '${op}' defined twice`);
  registry.set(op, def);
}

export function opDef(op: string): OpDef {
  const d = registry.get(op);
  if (!d) throw new Error(`unknown op '${op}'`);
  return d;
}

/** Every registered op name: tests enumerate it so an op added without a check fails the suite. */
export function registeredOps(): string[] {
  return [...registry.keys()].sort();
}

export function attrNum(node: Node, key: string): number {
  const v: AttrValue | undefined = node.attrs[key];
  if (typeof v !== 'number') throw new Error(`${node.op}: attribute '${key}' missing`);
  return v;
}

export function attrInts(node: Node, key: string): readonly number[] {
  const v: AttrValue | undefined = node.attrs[key];
  if (!Array.isArray(v)) throw new Error(`${node.op}: attribute '${key}' missing`);
  return v as readonly number[];
}
