/** Neural-network ops: softmax, log-softmax, layer norm, dropout and softmax cross-entropy. */
import { attrNum, defineOp } from '../registry.js';
import type { Tensor } from '../tensor.js';
import { fmt, normAxis, shapeEq, staticDim, GraphError } from '../tensor.js';
import { lanes, nd, type NDArray, shapeOf } from '../ndarray.js';
import { cast, equal, exp, mul, sub, div, where } from './elementwise.js';
import { reduceSum, sumLeading } from './broadcast.js';
import { reduceMean } from './reduce.js';
import { reshape } from './shape.js';
import { oneHot } from './indexing.js';
import { expectFloat, expectDtype } from './util.js';

// ---------------------------------------------------------------- softmax / log-softmax

function softmaxLane(get: (i: number) => number, set: (i: number, v: number) => void, len: number, logOut: boolean) {
  let max = -Infinity;
  for (let i = 0; i < len; i++) max = Math.max(max, get(i));
  let sum = 0;
  for (let i = 0; i < len; i++) sum += Math.exp(get(i) - max);
  const lse = max + Math.log(sum);
  for (let i = 0; i < len; i++) set(i, logOut ? get(i) - lse : Math.exp(get(i) - lse));
}

defineOp('softmax', {
  emit: (n, e) => e.add('Softmax', [e.name(n.inputs[0]!)], [e.name(n.outputs[0]!)], { axis: attrNum(n, 'axis') }),
  ref: (n, [x]) => [lanes(x!, attrNum(n, 'axis'), x!.shape[attrNum(n, 'axis')]!, (g, s, l) => softmaxLane(g, s, l, false))],
  // dx = y ⊙ (dy − Σ dy⊙y)
  grad: (n, [dy]) => {
    const y = n.outputs[0]!;
    return [mul(y, sub(dy!, reduceSum(mul(dy!, y), attrNum(n, 'axis'), true)))];
  },
});

defineOp('logSoftmax', {
  emit: (n, e) => e.add('LogSoftmax', [e.name(n.inputs[0]!)], [e.name(n.outputs[0]!)], { axis: attrNum(n, 'axis') }),
  ref: (n, [x]) => [lanes(x!, attrNum(n, 'axis'), x!.shape[attrNum(n, 'axis')]!, (g, s, l) => softmaxLane(g, s, l, true))],
  // dx = dy − softmax ⊙ Σ dy
  grad: (n, [dy]) => [sub(dy!, mul(exp(n.outputs[0]!), reduceSum(dy!, attrNum(n, 'axis'), true)))],
});

function axisOp(op: 'softmax' | 'logSoftmax') {
  return (x: Tensor, axis = -1): Tensor => {
    expectFloat(op, x);
    return x.graph.addNode(op, [x], { axis: normAxis(op, axis, x.rank) }, [{ dtype: 'float32', shape: x.shape }])[0]!;
  };
}
export const softmax = axisOp('softmax');
export const logSoftmax = axisOp('logSoftmax');

// ---------------------------------------------------------------- layer norm (over the last axis)

defineOp('layerNorm', {
  // ONNX LayerNormalization also returns Mean and InvStdDev, which the backward reuses. Where nothing reads
  // them (inference) they are left out: ORT fuses a residual Add and the LayerNormalization after it into one
  // SkipLayerNormalization only then (at batch 1 a node costs more than its arithmetic).
  emit: (n, e) => {
    const outputs = [...n.outputs];
    while (outputs.length > 1 && !e.read(outputs.at(-1)!)) outputs.pop();
    e.add('LayerNormalization', n.inputs.map(e.name), outputs.map(e.name), { axis: -1, epsilon: { float: attrNum(n, 'eps') } });
  },
  ref: (n, [x, scale, bias]) => {
    const C = x!.shape.at(-1)!;
    const rows = x!.data.length / C;
    const y = nd(x!.shape);
    const mean = nd(shapeOf(n.outputs[1]!));
    const inv = nd(shapeOf(n.outputs[2]!));
    for (let r = 0; r < rows; r++) {
      let m = 0;
      for (let c = 0; c < C; c++) m += x!.data[r * C + c]!;
      m /= C;
      let v = 0;
      for (let c = 0; c < C; c++) v += (x!.data[r * C + c]! - m) ** 2;
      const is = 1 / Math.sqrt(v / C + attrNum(n, 'eps'));
      mean.data[r] = m;
      inv.data[r] = is;
      for (let c = 0; c < C; c++) {
        y.data[r * C + c] = (x!.data[r * C + c]! - m) * is * scale!.data[c]! + (bias ? bias.data[c]! : 0);
      }
    }
    return [y, mean, inv];
  },
  grad: (n, [dy]) => {
    const [x, scale, bias] = n.inputs;
    const [, mean, invStd] = n.outputs;
    const xhat = mul(sub(x!, mean!), invStd!);
    const dxhat = mul(dy!, scale!);
    // dx = invStd · (dx̂ − mean(dx̂) − x̂ · mean(dx̂ ⊙ x̂))
    const dx = mul(invStd!, sub(sub(dxhat, reduceMean(dxhat, -1, true)), mul(xhat, reduceMean(mul(dxhat, xhat), -1, true))));
    const dscale = sumLeading(mul(dy!, xhat));
    return bias ? [dx, dscale, sumLeading(dy!)] : [dx, dscale];
  },
});

/** LayerNorm over the last axis with a learned scale (γ) and optional bias (β). */
export function layerNorm(x: Tensor, scale: Tensor, bias: Tensor | null, eps = 1e-5): Tensor {
  expectFloat('layerNorm', x, scale, ...(bias ? [bias] : []));
  const C = x.shape.at(-1)!;
  for (const p of bias ? [scale, bias] : [scale]) {
    if (!shapeEq(p.shape, [C])) throw new GraphError(`layerNorm: ${p} must have shape [${C}] to normalise ${x}`);
  }
  const stat = [...x.shape.slice(0, -1), 1];
  const outs = [
    { dtype: 'float32' as const, shape: x.shape },
    { dtype: 'float32' as const, shape: stat },
    { dtype: 'float32' as const, shape: stat },
  ];
  return x.graph.addNode('layerNorm', bias ? [x, scale, bias] : [x, scale], { eps }, outs)[0]!;
}

// ---------------------------------------------------------------- dropout

defineOp('dropout', {
  // y = mask ? x / (1 − p) : 0, with the mask drawn by the runtime's seeded RNG (reproducible and resumable).
  emit: (n, e) => {
    const scaled = e.tmp('dropout_scaled');
    e.add('Mul', [e.name(n.inputs[0]!), e.float(1 / (1 - attrNum(n, 'p')))], [scaled]);
    e.add('Where', [e.name(n.inputs[1]!), scaled, e.float(0)], [e.name(n.outputs[0]!)]);
  },
  ref: (n, [x, mask]) => {
    const k = 1 / (1 - attrNum(n, 'p'));
    const out = nd(x!.shape);
    for (let i = 0; i < out.data.length; i++) out.data[i] = mask!.data[i] ? x!.data[i]! * k : 0;
    return [out];
  },
  grad: (n, [dy]) => [dropoutWithMask(dy!, n.inputs[1]!, attrNum(n, 'p')), undefined],
});

function dropoutWithMask(x: Tensor, mask: Tensor, p: number): Tensor {
  return x.graph.addNode('dropout', [x, mask], { p }, [{ dtype: 'float32', shape: x.shape }])[0]!;
}

/** Inverted dropout with probability p; p = 0 (evaluation) adds nothing to the graph. */
export function dropout(x: Tensor, p: number): Tensor {
  if (!(p >= 0 && p < 1)) throw new GraphError(`dropout: p must be in [0, 1), got ${p}`);
  if (p === 0) return x;
  expectFloat('dropout', x);
  return dropoutWithMask(x, x.graph.dropoutMask(x.shape, p), p);
}

// ---------------------------------------------------------------- softmax cross-entropy

function crossEntropyRef(logits: NDArray, targets: NDArray, ignore: number): { loss: number; logp: NDArray } {
  const logp = lanes(logits, 1, logits.shape[1]!, (g, s, l) => softmaxLane(g, s, l, true));
  const C = logits.shape[1]!;
  let sum = 0;
  let count = 0;
  targets.data.forEach((t, i) => {
    if (t === ignore) return;
    sum -= logp.data[i * C + t]!;
    count++;
  });
  return { loss: sum / count, logp };
}

defineOp('softmaxCrossEntropy', {
  emit: (n, e) =>
    e.add('SoftmaxCrossEntropyLoss', n.inputs.map(e.name), n.outputs.map(e.name), {
      reduction: 'mean',
      ignore_index: attrNum(n, 'ignoreIndex'),
    }),
  ref: (n, [logits, targets]) => {
    const { loss, logp } = crossEntropyRef(logits!, targets!, attrNum(n, 'ignoreIndex'));
    return [nd([], [loss]), logp];
  },
  // dlogits = (softmax − onehot(t)) · valid / count · dloss, where `valid` masks ignored targets.
  grad: (n, [dloss]) => {
    const [logits, targets] = n.inputs;
    const ignored = equal(targets!, attrNum(n, 'ignoreIndex'));
    const valid = where(ignored, 0, 1);
    const safeTargets = cast(mul(cast(targets!, 'float32'), valid), targets!.dtype);
    const C = staticDim('crossEntropy', logits!.shape[1]);
    const diff = sub(exp(n.outputs[1]!), oneHot(safeTargets, C));
    const weight = div(mul(valid, dloss!), reduceSum(valid, 0));
    return [mul(diff, reshape(weight, [-1, 1])), undefined];
  },
});

export interface CrossEntropyOptions {
  /** Targets equal to this are left out of the mean (padding); PyTorch's default is -100. */
  ignoreIndex?: number;
}

/**
 * Mean softmax cross-entropy of logits [..., C] against integer targets [...]
 * (Keras' sparse categorical cross-entropy from logits).
 */
export function crossEntropy(logits: Tensor, targets: Tensor, opts: CrossEntropyOptions = {}): Tensor {
  expectFloat('crossEntropy', logits);
  expectDtype('crossEntropy', targets, 'int64');
  if (!shapeEq(logits.shape.slice(0, -1), targets.shape)) {
    throw new GraphError(`crossEntropy: logits ${fmt(logits.shape)} do not match targets ${fmt(targets.shape)}`);
  }
  const C = logits.shape.at(-1)!;
  const flat = reshape(logits, [-1, C]);
  const t = reshape(targets, [-1]);
  const outs = [
    { dtype: 'float32' as const, shape: [] },
    { dtype: 'float32' as const, shape: flat.shape },
  ];
  return logits.graph.addNode('softmaxCrossEntropy', [flat, t], { ignoreIndex: opts.ignoreIndex ?? -100 }, outs)[0]!;
}

