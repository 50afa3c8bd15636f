/**
 * ONNX Runtime's per-node profile, summarised: where a run's time goes, by operator, and how much of
 * it is kernels at all. Sessions write it when created with INKWELL_ORT_PROFILE set (see
 * ort-backend.ts); bench/profile.ts reads it for a training step and a decoding token.
 */
import fs from 'node:fs';
import { InkwellError, errorMessage } from '../utils/errors.js';

/** The fields of ORT's profile events (Chrome trace format) this reads. */
interface ProfileEvent {
  cat: string;
  name: string;
  ts: number;
  dur: number;
  args?: { op_name?: string; input_type_shape?: Record<string, number[]>[]; output_type_shape?: Record<string, number[]>[] };
}

export interface OpTime {
  op: string;
  /** Milliseconds a run, and the share of the kernels' time. */
  ms: number;
  share: number;
  /** Nodes of this operator a run. */
  nodes: number;
}

export interface ProfileSummary {
  /** Runs summarised (the first `skip` fraction of them, warm-up, left out). */
  runs: number;
  /** Per run: the whole `Run` call, the kernels' sum, and the rest (ORT scheduling between nodes, feeding, fetching). */
  runMs: number;
  kernelMs: number;
  betweenNodesMs: number;
  nodes: number;
  /** Matrix products (MatMul, Gemm, FusedMatMul, MatMulNBits): ms a run and their rate. */
  matmulMs: number;
  matmulGflops: number;
  ops: OpTime[];
}

const MATMULS = new Set(['MatMul', 'Gemm', 'FusedMatMul', 'MatMulNBits', 'MatMulInteger', 'DynamicQuantizeMatMul']);
/** Nodes whose time is their subgraph's: its nodes are profiled one by one too (a decoder's Loop over its steps). */
const CONTROL_FLOW = new Set(['Loop', 'If', 'Scan']);

/** Reads one profile file ORT wrote. */
export function readProfile(file: string): ProfileEvent[] {
  let events: unknown;
  try {
    events = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new InkwellError(`cannot read the ONNX Runtime profile ${file}: ${errorMessage(err)}`);
  }
  if (!Array.isArray(events)) throw new InkwellError(`${file} is not an ONNX Runtime profile (expected a JSON array of events)`);
  return events as ProfileEvent[];
}

/** The runs of one session's profile after the first `skip` fraction, per run. */
export function summarizeProfile(events: ProfileEvent[], skip = 0.25): ProfileSummary {
  const runs = events.filter((e) => e.cat === 'Session' && e.name === 'model_run').sort((a, b) => a.ts - b.ts);
  const kept = runs.slice(Math.floor(runs.length * skip));
  if (kept.length === 0) throw new InkwellError('the profile has no runs to summarise');
  const from = kept[0]!.ts;
  const byOp = new Map<string, { us: number; nodes: number }>();
  let flops = 0;
  let matmulUs = 0;
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time') || e.ts < from || !e.args?.op_name || CONTROL_FLOW.has(e.args.op_name)) continue;
    const op = e.args.op_name;
    const t = byOp.get(op) ?? { us: 0, nodes: 0 };
    byOp.set(op, { us: t.us + e.dur, nodes: t.nodes + 1 });
    if (MATMULS.has(op)) {
      matmulUs += e.dur;
      flops += matmulFlops(op, e.args);
    }
  }
  const n = kept.length;
  const kernelUs = [...byOp.values()].reduce((s, t) => s + t.us, 0);
  const runUs = kept.reduce((s, r) => s + r.dur, 0);
  return {
    runs: n,
    runMs: runUs / n / 1000,
    kernelMs: kernelUs / n / 1000,
    betweenNodesMs: (runUs - kernelUs) / n / 1000,
    nodes: [...byOp.values()].reduce((s, t) => s + t.nodes, 0) / n,
    matmulMs: matmulUs / n / 1000,
    matmulGflops: matmulUs > 0 ? flops / (matmulUs * 1e3) : 0,
    ops: [...byOp]
      .map(([op, t]) => ({ op, ms: t.us / n / 1000, share: t.us / kernelUs, nodes: t.nodes / n }))
      .sort((a, b) => b.ms - a.ms),
  };
}

/**
 * 2·M·N·K for one product, from the shapes the profile records (it records no attributes): M and N are
 * the output's last two dimensions; K is the first input's dimension that is not M (a transposed A is
 * [K, M]; when both are M, K is M); MatMulNBits' A is never transposed.
 */
function matmulFlops(op: string, args: NonNullable<ProfileEvent['args']>): number {
  const a = Object.values(args.input_type_shape?.[0] ?? {})[0];
  const out = Object.values(args.output_type_shape?.[0] ?? {})[0];
  if (!a || !out || a.length < 2 || out.length < 2) return 0;
  const [M, N] = out.slice(-2) as [number, number];
  const batch = out.slice(0, -2).reduce((p, d) => p * d, 1);
  const K = op === 'MatMulNBits' || a.at(-2) === M ? a.at(-1)! : a.at(-2)!;
  return 2 * batch * M * N * K;
}
