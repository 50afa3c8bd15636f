/**
 * Generation speed through the whole pipeline (decoder, sampling, streaming
 * detokenisation): tokens/s at batch 1 and 8 and time to the first token, for
 * an initialised 6-layer × 384 GPT (ctx 256, vocab 65) and a 2-layer LSTM
 * (hidden 256, embedding 128), prompt 16 tokens, 200 new tokens — the shape
 * of `torch_ref.py generate`, which runs before each timed round when PyTorch
 * is available (the ratio is the median of the rounds' ratios) — and the time
 * to first token of each model saved to disk, in a fresh process (started as the `inkwell` command
 * starts node, and as a plain `node`).
 * PyTorch decodes greedily at batch 1 with float32 weights, so the ratio compares
 * greedy batch 1; the q8/q4 rows (weight-only int8/int4, see graph/quantize.ts)
 * give their ratio against the same float32 PyTorch figure.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cliEnvironment } from '../src/cli/launcher.js';
import { createDecoder } from '../src/generate/decoders.js';
import type { QuantizeMode } from '../src/graph/quantize.js';
import { generateBatch, type GenerateOptions } from '../src/generate/generate.js';
import { saveModel, type ModelBundle } from '../src/io/model-dir.js';
import { Gpt } from '../src/models/gpt.js';
import { RnnLm } from '../src/models/rnn.js';
import { countParams, initWeights } from '../src/nn/params.js';
import { trainWordLevel } from '../src/tokenizers/word-level.js';
import { Rng } from '../src/utils/rng.js';
import { bestTorch, torchAvailable } from './torch.js';

const VOCAB = 65;
const PROMPT = 16;
const NEW_TOKENS = 200;
const RUNS = 5;
/** Untimed rounds first, at least this long: the first decoders of a process run slow for a while (JIT, ORT's thread pool, CPU clocks). */
const WARMUP_MS = 3000;

interface GenerateBenchConfig {
  name: string;
  bundle: () => ModelBundle;
  torchArgs: string[];
  /** Weight-only quantized rows too: the GPT's matmuls in int8 and int4; an LSTM's gates in int8 in both modes (see graph/quantize-lstm.ts), so q8 alone. */
  quantized: QuantizeMode[];
}

/** 65 tokens, as tiny shakespeare's vocabulary: 64 distinct characters and the `<unk>` every char vocabulary has. */
const tokenizer = trainWordLevel([Array.from({ length: VOCAB - 1 }, (_, i) => String.fromCharCode(0x21 + i)).join('')], 'char', { specialTokens: [] });

export const GENERATE_CONFIGS: GenerateBenchConfig[] = [
  {
    name: 'gpt-6x384-ctx256',
    bundle: () => {
      const model = new Gpt({ vocabSize: VOCAB, nPositions: 256, nEmbd: 384, nLayer: 6, nHead: 6, bias: true, dropout: 0, layerNormEps: 1e-5 });
      return { model, weights: initWeights(model.specs, 0), tokenizer };
    },
    torchArgs: ['--model', 'gpt', '--vocab', '65', '--ctx', '256', '--layers', '6', '--heads', '6', '--dim', '384'],
    quantized: ['q8', 'q4'],
  },
  {
    name: 'lstm-2x256-emb128',
    bundle: () => {
      const model = new RnnLm({ cell: 'lstm', vocabSize: VOCAB, embeddingDim: 128, hiddenSize: 256, numLayers: 2, dropout: 0, tieWeights: false });
      return { model, weights: initWeights(model.specs, 0), tokenizer };
    },
    torchArgs: ['--model', 'lstm', '--vocab', '65', '--layers', '2', '--dim', '128', '--hidden', '256'],
    quantized: ['q8'],
  },
];

export async function benchGenerate(): Promise<object[]> {
  const results: object[] = [];
  const skipTorch = torchAvailable();
  for (const c of GENERATE_CONFIGS) {
    const bundle = c.bundle();
    const torchArgs = ['generate', ...c.torchArgs, '--prompt-len', String(PROMPT), '--new-tokens', String(NEW_TOKENS)];
    const torch = skipTorch ? undefined : () => bestTorch(torchArgs, 'gen_tok_s').gen_tok_s as number;
    const rows: Row[] = [row(1, 'greedy'), row(1, 'sampled'), row(8, 'greedy')];
    rows.push(...c.quantized.map((q) => row(1, 'greedy', q)));
    results.push(...[undefined, ...c.quantized].flatMap((q) => ttftFromDisk(bundle, c.name, q)));
    const { rows: measured, torchTokS } = await measure(bundle, rows, torch);
    for (const { batch, decoding, quantize, ttftMs, speeds } of measured) {
      const compared = batch === 1 && decoding === 'greedy' && torchTokS.length > 0;
      const perSequence = median(speeds);
      const ratios = speeds.map((v, r) => v / torchTokS[r]!);
      results.push({
        bench: `generate-${c.name}`,
        params: countParams(bundle.model.specs),
        batch,
        decoding,
        weights: quantize ?? 'float32',
        prompt_tokens: PROMPT,
        new_tokens: NEW_TOKENS,
        ttft_ms: ttftMs,
        tok_s_per_sequence: perSequence,
        tok_s_total: perSequence * batch,
        tok_s_runs: speeds.map((v) => Math.round(v * batch)),
        // Each round's own ratio (PyTorch ran just before it), so a drift of the machine's speed cancels out.
        ...(compared ? { torch_gen_tok_s: median(torchTokS), ratio_vs_torch: median(ratios), ratio_runs: ratios.map((x) => +x.toFixed(2)) } : {}),
        ...(skipTorch && batch === 1 && decoding === 'greedy' ? { torch: `skipped: ${skipTorch}` } : {}),
      });
    }
  }
  return results;
}

interface Row {
  batch: number;
  decoding: 'greedy' | 'sampled';
  quantize?: QuantizeMode;
}

const row = (batch: number, decoding: Row['decoding'], quantize?: QuantizeMode): Row => ({ batch, decoding, quantize });

/**
 * Median over RUNS fresh processes of the time from loading a saved model to its first token, float32 or
 * `quantize`d as it loads (bench/ttft.ts): one row started as the `inkwell` command starts node (its
 * launcher's glibc malloc settings, see cli/launcher.ts), one as a plain `node` (a library user's own
 * process), their processes alternating so that a drift of the machine's speed reaches both.
 */
function ttftFromDisk(bundle: ModelBundle, name: string, quantize?: QuantizeMode): object[] {
  const dir = mkdtempSync(join(tmpdir(), 'inkwell-ttft-'));
  try {
    saveModel(dir, bundle);
    const script = join(dirname(fileURLToPath(import.meta.url)), 'ttft.js');
    const prompt = Array.from({ length: PROMPT }, (_, i) => String.fromCharCode(0x21 + (i % (VOCAB - 1)))).join('');
    const launches = { cli: cliEnvironment(process.env), node: process.env };
    const runs: Record<string, Record<string, number>[]> = { cli: [], node: [] };
    for (let r = 0; r < RUNS; r++) {
      for (const [launch, env] of Object.entries(launches)) {
        runs[launch]!.push(JSON.parse(execFileSync(process.execPath, [script, dir, prompt, ...(quantize ? [quantize] : [])], { encoding: 'utf8', env })) as Record<string, number>);
      }
    }
    return Object.keys(launches).map((launch) => {
      const med = (k: string) => median(runs[launch]!.map((r) => r[k]!));
      return {
        bench: `ttft-from-disk-${name}`,
        weights: quantize ?? 'float32',
        launch,
        prompt_tokens: PROMPT,
        ttft_ms: med('ttft_ms'),
        load_ms: med('load_ms'),
        session_ms: med('session_ms'),
        first_token_ms: med('first_token_ms'),
        imports_ms: med('imports_ms'),
      };
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * RUNS timed rounds (after untimed rounds for WARMUP_MS) in which the rows take turns, so a drift of the
 * machine's speed reaches them all alike; `torch`, when given, runs PyTorch's reference just before each
 * timed round. Per row: the median time to first token, and each round's decoding speed per sequence.
 */
async function measure(bundle: ModelBundle, rows: Row[], torch?: () => number): Promise<{ rows: (Row & { ttftMs: number; speeds: number[] })[]; torchTokS: number[] }> {
  const decoders = await Promise.all(rows.map((r) => createDecoder(bundle, r.batch, { quantize: r.quantize })));
  const rng = new Rng(1);
  const prompts = rows.map((r) => Array.from({ length: r.batch }, () => Array.from({ length: PROMPT }, () => rng.int(VOCAB))));
  const ttft: number[][] = rows.map(() => []);
  const speed: number[][] = rows.map(() => []);
  const torchTokS: number[] = [];
  try {
    // A long generation first, so that decoders that compile their chunks only for one (see generate.ts's
    // CHUNK_PAYBACK) have them: the rounds measure a warm decoder's steady state, as torch_ref.py does.
    for (const [i, r] of rows.entries()) await generateBatch({ decoder: decoders[i]!, tokenizer: bundle.tokenizer }, prompts[i]!, { ...samplingOf(r), maxNewTokens: 300, seed: 0, stopAtEos: false });
    const warmUntil = performance.now() + WARMUP_MS;
    for (let run = 0, timed = 0; timed < RUNS; run++) {
      const warm = performance.now() < warmUntil;
      if (!warm) {
        timed++;
        if (torch) torchTokS.push(torch());
      }
      for (const [i, r] of rows.entries()) {
        const results = await generateBatch({ decoder: decoders[i]!, tokenizer: bundle.tokenizer }, prompts[i]!, { ...samplingOf(r), maxNewTokens: NEW_TOKENS, seed: run, stopAtEos: false });
        if (warm) continue;
        const t = results[0]!.timing;
        ttft[i]!.push(t.timeToFirstTokenMs);
        // Whole-call rate, as torch_ref.py measures: the prompt pass is included.
        speed[i]!.push(t.tokensPerSecond);
      }
    }
  } finally {
    await Promise.all(decoders.map((d) => d.release()));
  }
  return { rows: rows.map((r, i) => ({ ...r, ttftMs: median(ttft[i]!), speeds: speed[i]! })), torchTokS };
}

const samplingOf = (r: Row): GenerateOptions => (r.decoding === 'greedy' ? { greedy: true } : { temperature: 0.8, topK: 40 });

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}
