/** The engine's public surface: build a graph, differentiate it, compile and run it. */
export { Graph, Tensor, GraphError, type DType, type Shape } from './tensor.js';
export * as F from './ops/index.js';
export { gradients } from './autodiff.js';
export { toOnnx, OPSET, type GraphOutputs } from './onnx.js';
export { evaluate } from './reference.js';
export { registeredOps } from './registry.js';
