/**
 * PyTorch reference fixtures (test/fixtures/torch-*.json, written by
 * scripts/make_fixtures.py) and running a language model on them through ORT.
 */
import fs from 'node:fs';
import { Graph, type Tensor } from '../../src/graph/index.js';
import { buildEvalGraph, type LanguageModel } from '../../src/models/lm.js';
import { ParamScope } from '../../src/nn/params.js';
import { CompiledGraph, type TypedArray } from '../../src/runtime/session.js';

export interface FixtureTensor {
  shape: number[];
  data: number[];
}

export interface TorchFixture {
  model: string;
  config: Record<string, unknown>;
  weights: Record<string, FixtureTensor>;
  ids: FixtureTensor;
  targets: FixtureTensor;
  logits: FixtureTensor;
  loss: number;
  state_in?: Record<string, FixtureTensor>;
  state_out?: Record<string, FixtureTensor>;
}

/** Fixtures live in the source tree; compiled tests run from dist/test/<dir>/. */
export function loadFixture(name: string): TorchFixture {
  const url = new URL(`../../../test/fixtures/${name}`, import.meta.url);
  return JSON.parse(fs.readFileSync(url, 'utf8')) as TorchFixture;
}

export const f32 = (t: FixtureTensor): Float32Array => Float32Array.from(t.data);
export const i64 = (t: FixtureTensor): BigInt64Array => BigInt64Array.from(t.data, (v) => BigInt(v));

/** Weights, ids and initial state of a fixture as ORT feeds. */
export function fixtureFeeds(fx: TorchFixture): Record<string, TypedArray> {
  const feeds: Record<string, TypedArray> = { ids: i64(fx.ids) };
  for (const [name, t] of Object.entries({ ...fx.weights, ...fx.state_in })) feeds[name] = f32(t);
  return feeds;
}

/** A compiled eval-mode forward with outputs `logits` and `<state>.out` for each carried state. */
export async function compileForward(model: LanguageModel, batch: number, seq: number): Promise<CompiledGraph> {
  const g = new Graph();
  const { logits, state = {} } = model.forward(new ParamScope(g, model.specs), g.input('ids', 'int64', [batch, seq]), { train: false });
  const outputs: Record<string, Tensor> = { logits };
  for (const [name, t] of Object.entries(state)) outputs[`${name}.out`] = t;
  return CompiledGraph.compile(g, outputs);
}

/** Runs the fixture through inkwell: logits from the forward, loss and final state from the eval graph. */
export async function runFixture(model: LanguageModel, fx: TorchFixture): Promise<Record<string, TypedArray>> {
  const [B, T] = fx.ids.shape as [number, number];
  const feeds = fixtureFeeds(fx);
  const forward = await compileForward(model, B, T);
  const { graph, outputs } = buildEvalGraph(model, B, T);
  const evaluation = await CompiledGraph.compile(graph, outputs);
  const result = { ...(await forward.run(feeds)), ...(await evaluation.run({ ...feeds, targets: i64(fx.targets) })) };
  await Promise.all([forward.release(), evaluation.release()]);
  return result;
}
