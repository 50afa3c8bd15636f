/**
 * PyTorch reference fixtures (test/fixtures/torch-*.json, written by
 * scripts/make_fixtures.py) and running a language model on them through ORT.
 */
import fs from 'node:fs';
import { buildEvalGraph, type LanguageModel } from '../../src/models/lm.js';
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
  /** PyTorch's greedy continuation of `prompt` (RNNs from a zero state), with each pick's margin over the runner-up. */
  greedy: { prompt: number[]; tokens: number[]; margins: number[] };
}

/** Fixtures live in the source tree; compiled tests run from dist/test/<dir>/. */
export function loadFixture(name: string): TorchFixture {
  const url = new URL(`../../../test/fixtures/${name}`, import.meta.url);
  return JSON.parse(fs.readFileSync(url, 'utf8')) as TorchFixture;
}

const f32 = (t: FixtureTensor): Float32Array => Float32Array.from(t.data);
const i64 = (t: FixtureTensor): BigInt64Array => BigInt64Array.from(t.data, (v) => BigInt(v));

/** Runs the fixture through inkwell's eval graph: outputs `loss`, `logits` and `<state>.out`. */
export async function runFixture(model: LanguageModel, fx: TorchFixture): Promise<Record<string, TypedArray>> {
  const [B, T] = fx.ids.shape as [number, number];
  const feeds: Record<string, TypedArray> = { ids: i64(fx.ids), targets: i64(fx.targets) };
  for (const [name, t] of Object.entries({ ...fx.weights, ...fx.state_in })) feeds[name] = f32(t);
  const { graph, outputs } = buildEvalGraph(model, B, T, { withLogits: true });
  const compiled = await CompiledGraph.compile(graph, outputs);
  const result = await compiled.run(feeds);
  await compiled.release();
  return result;
}
