/**
 * toOnnx's Loop (LoopSpec): a one-step graph run `steps` times in one ONNX Loop node, carrying
 * values from step to step and stacking per-step outputs — checked against the same recurrence in
 * JavaScript, in onnxruntime-node and onnxruntime-web (a browser tab's recurrent decoder runs its
 * chunks so) — and the spec refused, naming its field, where it does not fit the graph.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Graph, F } from '../../src/graph/index.js';
import { toOnnx, type LoopSpec } from '../../src/graph/onnx.js';
import * as ortWeb from 'onnxruntime-web';
import { CompiledGraph } from '../../src/runtime/session.js';

/** x ← 2x + iter + w (w read by every step alike), and each step's x stacked. */
function step(): { graph: Graph; outputs: { next: ReturnType<typeof F.add> }; loop: LoopSpec } {
  const graph = new Graph();
  const x = graph.input('x', 'float32', [3]);
  const iter = F.cast(graph.input('iter', 'int64', []), 'float32');
  const next = F.add(F.add(F.mul(x, 2), iter), graph.input('w', 'float32', [3]));
  return { graph, outputs: { next }, loop: { steps: 5, iteration: 'iter', carry: { x: 'next' }, scan: { all: 'next' } } };
}

test('a Loop carries x through five steps and stacks every step', async () => {
  const { graph, outputs, loop } = step();
  const session = await CompiledGraph.compile(graph, outputs, { threads: 1, loop });
  try {
    assert.deepEqual(session.inputs.map((i) => i.name).sort(), ['w', 'x'], 'the iteration is the Loop\'s own');
    assert.deepEqual(session.outputs.map((o) => [o.name, o.shape]), [['next', [3]], ['all', [5, 3]]]);
    const out = await session.run({ x: Float32Array.of(1, 0, -1), w: Float32Array.of(0.5, 0, 1) });
    let x = [1, 0, -1];
    const all: number[] = [];
    for (let i = 0; i < 5; i++) {
      x = x.map((v, j) => 2 * v + i + [0.5, 0, 1][j]!);
      all.push(...x);
    }
    assert.deepEqual(Array.from(out.next as Float32Array), x);
    assert.deepEqual(Array.from(out.all as Float32Array), all);
  } finally {
    await session.release();
  }
});

test('onnxruntime-web runs the same Loop', async () => {
  const { graph, outputs, loop } = step();
  ortWeb.env.wasm.numThreads = 1;
  const session = await ortWeb.InferenceSession.create(toOnnx(graph, outputs, { loop }).bytes, { executionProviders: ['wasm'] });
  try {
    const out = await session.run({ x: new ortWeb.Tensor('float32', Float32Array.of(1, 0, -1), [3]), w: new ortWeb.Tensor('float32', Float32Array.of(0.5, 0, 1), [3]) });
    assert.deepEqual(out.all!.dims, [5, 3]);
    assert.deepEqual(Array.from(out.next!.data as Float32Array), [73.5, 26, 25]);
  } finally {
    await session.release();
  }
});

test('a loop spec that does not fit the graph is refused', () => {
  const { graph, outputs, loop } = step();
  assert.throws(() => toOnnx(graph, outputs, { loop: { ...loop, iteration: 'x' } }), /loop iteration 'x' must be an int64 \[\] input/);
  assert.throws(() => toOnnx(graph, outputs, { loop: { ...loop, carry: { w: 'nope' } } }), /loop carry 'w' ← 'nope'/);
  assert.throws(() => toOnnx(graph, outputs, { loop: { ...loop, scan: { all: 'x' } } }), /loop scan 'all' stacks 'x', which is not an output/);
});
