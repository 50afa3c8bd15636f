/**
 * Where the time of a training step and of a decoding token goes: each target runs in a child process
 * with INKWELL_ORT_PROFILE set, and ONNX Runtime's per-node profile of its busiest session is
 * summarised (src/runtime/profile.ts): kernels by operator, the matmuls' share and rate, the time
 * between nodes, and, from the child's own timing, the time spent outside ONNX Runtime (optimizer,
 * clipping, batching; sampling and the cache's bookkeeping when decoding). Profiling adds a little to
 * every node, so the times are a profile's, not a benchmark's. `npm run bench -- profile [target...]`.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDecoder } from '../src/generate/decoders.js';
import { generateBatch } from '../src/generate/generate.js';
import type { QuantizeMode } from '../src/graph/quantize.js';
import { readProfile, summarizeProfile, type ProfileSummary } from '../src/runtime/profile.js';
import { GENERATE_CONFIGS } from './generate.js';

type Target = { kind: 'train'; config: string } | { kind: 'decode'; config: string; weights: 'float32' | QuantizeMode };

const TARGETS: Record<string, Target> = {
  'train-gpt-4x128': { kind: 'train', config: 'gpt-4x128-ctx64-b12' },
  'train-gpt-6x384': { kind: 'train', config: 'gpt-6x384-ctx256-b8' },
  'train-lstm': { kind: 'train', config: 'lstm-2x256-emb128-ctx64-b32' },
  'decode-gpt-6x384-float32': { kind: 'decode', config: 'gpt-6x384-ctx256', weights: 'float32' },
  'decode-gpt-6x384-q4': { kind: 'decode', config: 'gpt-6x384-ctx256', weights: 'q4' },
  'decode-lstm-float32': { kind: 'decode', config: 'lstm-2x256-emb128', weights: 'float32' },
};

/** Generations a decoding child times (batch 1, greedy, 16-token prompt, 200 new tokens, as `npm run bench -- generate`). */
const GENERATIONS = 6;

export async function benchProfile(names: string[]): Promise<object[]> {
  const unknown = names.filter((n) => !(n in TARGETS));
  if (unknown.length) throw new Error(`unknown profile target ${unknown.join(', ')} (available: ${Object.keys(TARGETS).join(', ')})`);
  const here = dirname(fileURLToPath(import.meta.url));
  return (names.length ? names : Object.keys(TARGETS)).map((name) => {
    const t = TARGETS[name]!;
    const dir = mkdtempSync(join(tmpdir(), 'inkwell-profile-'));
    try {
      const [script, args] = t.kind === 'train' ? [join(here, 'train.js'), [t.config]] : [fileURLToPath(import.meta.url), [t.config, t.weights]];
      const child = JSON.parse(execFileSync(process.execPath, [script, ...args], { encoding: 'utf8', env: { ...process.env, INKWELL_ORT_PROFILE: join(dir, 'ort') } })) as Record<string, number>;
      // The session that ran most: the training step's, or the decoder's one-token step or chunk.
      const p = readdirSync(dir).map((f) => summarizeProfile(readProfile(join(dir, f)))).sort((a, b) => b.runs * b.runMs - a.runs * a.runMs)[0];
      if (!p) throw new Error(`${name}: the child wrote no profile`);
      const whole = t.kind === 'train' ? child.step_ms! : 1000 / child.tok_s!;
      const perRun = t.kind === 'train' ? 1 : child.tokens_per_run!;
      return { bench: 'profile', target: name, [t.kind === 'train' ? 'step_ms' : 'token_ms']: round(whole), ...(perRun > 1 ? { tokens_per_run: perRun } : {}), ...report(per(p, perRun), whole) };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

/** A profile's per-run figures per token, for a decoder whose one run yields `n` (a chunk). */
function per(p: ProfileSummary, n: number): ProfileSummary {
  const ops = p.ops.map((o) => ({ ...o, ms: o.ms / n, nodes: o.nodes / n }));
  return { ...p, runMs: p.runMs / n, kernelMs: p.kernelMs / n, betweenNodesMs: p.betweenNodesMs / n, nodes: p.nodes / n, matmulMs: p.matmulMs / n, ops };
}

function report(p: ProfileSummary, whole: number): object {
  return {
    ort_run_ms: round(p.runMs),
    outside_ort_ms: round(whole - p.runMs),
    kernel_ms: round(p.kernelMs),
    between_nodes_ms: round(p.betweenNodesMs),
    nodes: Math.round(p.nodes),
    matmul_ms: round(p.matmulMs),
    matmul_share_of_whole: round(p.matmulMs / whole),
    matmul_gflops: Math.round(p.matmulGflops),
    ops: p.ops.slice(0, 8).map((o) => ({ op: o.op, ms: round(o.ms), share: round(o.share), nodes: Math.round(o.nodes) })),
    runs_profiled: p.runs,
  };
}

const round = (x: number) => Math.round(x * 1000) / 1000;

/** Child-process entry for a decoding target: `node dist/bench/profile.js <generate config> <weights>`; prints the median tokens/s. */
async function decodeChild(config: string, weights: string): Promise<void> {
  const c = GENERATE_CONFIGS.find((x) => x.name === config);
  if (!c) throw new Error(`unknown generate config ${config}`);
  const bundle = c.bundle();
  const decoder = await createDecoder(bundle, 1, { quantize: weights === 'float32' ? undefined : (weights as QuantizeMode) });
  const prompt = [Array.from({ length: 16 }, (_, i) => (i * 7) % bundle.model.vocabSize)];
  const speeds: number[] = [];
  for (let r = 0; r < GENERATIONS + 2; r++) {
    const [res] = await generateBatch({ decoder, tokenizer: bundle.tokenizer }, prompt, { greedy: true, maxNewTokens: 200, stopAtEos: false });
    if (r >= 2) speeds.push(res!.timing.tokensPerSecond);
  }
  await decoder.release(); // ORT writes the profile as the session is released
  // A recurrent decoder takes its greedy tokens in chunks (one ORT run each), a GPT one run a token.
  console.log(JSON.stringify({ tok_s: speeds.sort((a, b) => a - b)[speeds.length >> 1], tokens_per_run: decoder.chunks?.steps ?? 1 }));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await decodeChild(process.argv[2]!, process.argv[3]!);
