/** onnx-wire.ts writes what onnx-proto writes: every field inkwell sets survives a decode by onnx-proto, byte for byte. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import onnxProto from 'onnx-proto';
import { encodeModel, ATTRIBUTE_TYPE, DATA_TYPE, EXTERNAL } from '../../src/graph/onnx-wire.js';

const { onnx } = onnxProto;

test('a model with every field inkwell writes encodes as onnx-proto encodes it', () => {
  const model: onnxProto.onnx.IModelProto = {
    irVersion: 8,
    producerName: 'inkwell ✓',
    opsetImport: [{ domain: '', version: 20 }, { domain: 'com.microsoft', version: 1 }],
    graph: {
      name: 'g',
      node: [
        {
          opType: 'Split',
          domain: '',
          name: 'Split_0',
          input: ['x', ''],
          output: ['a', 'b'],
          attribute: [
            { name: 'axis', type: ATTRIBUTE_TYPE.INT, i: -1 },
            { name: 'sizes', type: ATTRIBUTE_TYPE.INTS, ints: [3, -2, 300000, 0] },
            { name: 'alpha', type: ATTRIBUTE_TYPE.FLOAT, f: 0.125 },
            { name: 'mode', type: ATTRIBUTE_TYPE.STRING, s: new TextEncoder().encode('linear') },
          ],
        },
      ],
      initializer: [
        { name: 'w', dataType: DATA_TYPE.FLOAT, dims: [2, 3], rawData: new Uint8Array(24).map((_, i) => i * 7) },
        { name: 's', dataType: DATA_TYPE.INT64, dims: [], rawData: new Uint8Array(8).fill(255) },
        {
          name: 'e',
          dataType: DATA_TYPE.FLOAT,
          dims: [1 << 20],
          dataLocation: EXTERNAL,
          externalData: [
            { key: 'location', value: 'model.safetensors' },
            { key: 'offset', value: '4096' },
          ],
        },
      ],
      input: [{ name: 'x', type: { tensorType: { elemType: DATA_TYPE.FLOAT, shape: { dim: [{ dimParam: 'batch' }, { dimValue: 6 }] } } } }],
      output: [{ name: 'a', type: { tensorType: { elemType: DATA_TYPE.FLOAT, shape: { dim: [] } } } }],
    },
  };
  const ours = encodeModel(model);
  assert.deepEqual(ours, new Uint8Array(onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish()));
  const back = onnx.ModelProto.decode(ours);
  assert.equal(back.graph!.node![0]!.attribute![1]!.ints!.map(Number).join(','), '3,-2,300000,0');
  assert.equal(back.graph!.node![0]!.attribute![2]!.f, 0.125);
});

test('a field the writer does not know is refused, not dropped', () => {
  assert.throws(() => encodeModel({ graph: { node: [{ opType: 'Relu', docString: 'hi' }] } }), /NodeProto\.docString is not written by onnx-wire\.ts/);
});

test('a graph larger than the writer\'s first buffer, with nested graphs and byte strings either side of the inline limit, encodes as onnx-proto encodes it', () => {
  const node = (i: number): onnxProto.onnx.INodeProto => ({
    opType: 'Add',
    name: `node_${i}_${'é'.repeat(i % 3)}`,
    input: [`x${i}`, `a_rather_long_input_name_that_goes_on_for_a_while_${i}`],
    output: [`y${i}`],
    attribute: [{ name: 'k', type: ATTRIBUTE_TYPE.INTS, ints: [i, -i, 2 ** 40 + i] }],
  });
  const body: onnxProto.onnx.IGraphProto = { name: 'body', node: Array.from({ length: 50 }, (_, i) => node(i)) };
  const model: onnxProto.onnx.IModelProto = {
    irVersion: 8,
    graph: {
      name: 'big',
      node: [...Array.from({ length: 600 }, (_, i) => node(i)), { opType: 'Loop', name: 'Loop', attribute: [{ name: 'body', type: ATTRIBUTE_TYPE.GRAPH, g: body }] }],
      initializer: [63, 64, 65, 4096].map((n) => ({ name: `raw${n}`, dataType: DATA_TYPE.UINT8, dims: [n], rawData: new Uint8Array(n).map((_, i) => i) })),
    },
  };
  const ours = encodeModel(model);
  assert.ok(ours.length > 1 << 15);
  assert.deepEqual(ours, new Uint8Array(onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish()));
});
