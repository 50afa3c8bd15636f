/**
 * Text generation over an IncrementalDecoder: one prompt or several decoded
 * together, streamed as text increments or returned whole.
 *
 * Prompts of different lengths share one decoder: their common length is fed
 * in one call, then every step feeds one token per sequence — the next prompt
 * token while a sequence is still reading its prompt, its last sampled token
 * afterwards. All sequences therefore sit at the same position, and when that
 * position reaches the decoder's maxLength the window slides: the decoder is
 * reset and the last maxLength/2 tokens of every sequence are fed again
 * (RNN decoders have no maxLength and never slide).
 */
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import { InkwellError } from '../utils/errors.js';
import type { IncrementalDecoder } from './incremental-decoder.js';
import { inGraphChoice, resolveSampling, type SamplingOptions } from './sampling.js';
import { SequenceGeneration, type FinishReason } from './sequence.js';

export type { FinishReason } from './sequence.js';

/** A decoder and the tokenizer of the same model. */
export interface GenerationModel {
  decoder: IncrementalDecoder;
  tokenizer: Tokenizer;
}

export interface GenerateOptions extends SamplingOptions {
  /** Tokens to generate at most per sequence (default 100). */
  maxNewTokens?: number;
  /** Stop a sequence when its generated text contains one of these; the stop text is not returned. */
  stop?: readonly string[];
  /** Seed of the sampling; sequence i of a batch draws from its own stream derived from it. Default: random (reported in the result). */
  seed?: number;
  /** Stop a sequence when it samples the tokenizer's eos token (default true). */
  stopAtEos?: boolean;
}

/** A prompt as text, or as token ids (e.g. a passage of a token cache). */
export type Prompt = string | readonly number[];

export interface GenerationResult {
  prompt: string;
  /** The generated text, without the prompt and without a stop sequence. */
  text: string;
  /** Ids of the generated tokens (without a final eos). */
  tokens: number[];
  promptTokens: number;
  /** Leading prompt tokens dropped because the prompt was longer than the decoder's maxLength. */
  droppedPromptTokens: number;
  /** Times the context window slid (decoder reset, last maxLength/2 tokens fed again). */
  slides: number;
  finishReason: FinishReason;
  seed: number;
  timing: GenerationTiming;
}

export interface GenerationTiming {
  /** From the call to this sequence's first sampled token (includes reading the prompt). */
  timeToFirstTokenMs: number;
  totalMs: number;
  /** Generated tokens per second over the whole call. */
  tokensPerSecond: number;
  /** Tokens after the first per second: the decoding speed without the prompt. */
  decodeTokensPerSecond: number;
}

export type GenerationEvent =
  | { type: 'text'; sequence: number; text: string }
  | { type: 'done'; sequence: number; result: GenerationResult };

interface Lane {
  seq: SequenceGeneration;
  /** Prompt (after dropping) then generated tokens; finished lanes are padded with filler so every lane has a token to feed. */
  history: number[];
  /** Spare lanes (fewer prompts than the batch) are done from the start. */
  done: boolean;
}

/**
 * Generates continuations of `prompts` (at most decoder.batch of them) and
 * yields text increments as they become printable, then one `done` event per
 * sequence with its result.
 */
export async function* generateEvents(m: GenerationModel, prompts: readonly Prompt[], options: GenerateOptions = {}): AsyncGenerator<GenerationEvent> {
  const { decoder, tokenizer } = m;
  if (prompts.length === 0) throw new InkwellError('no prompts to generate from');
  if (prompts.length > decoder.batch) throw new InkwellError(`${prompts.length} prompts but the decoder was created for a batch of ${decoder.batch}`);
  const maxNew = options.maxNewTokens ?? 100;
  if (!(Number.isInteger(maxNew) && maxNew >= 1)) throw new InkwellError(`maxNewTokens must be an integer ≥ 1, got ${maxNew}`);
  const stops = options.stop ?? [];
  if (stops.some((s) => s.length === 0)) throw new InkwellError('a stop sequence is empty');
  const sampling = resolveSampling(options);
  const seed = options.seed ?? randomSeed();
  const eos = (options.stopAtEos ?? true) ? tokenizer.special.eos : undefined;
  const start = performance.now();

  const encoded = prompts.map((p) => promptIds(p, tokenizer));
  // Spare lanes (fewer prompts than the decoder's batch) repeat the last prompt; their output is discarded.
  const lanes: Lane[] = [];
  for (let i = 0; i < decoder.batch; i++) {
    const ids = encoded[Math.min(i, encoded.length - 1)]!;
    const seq = new SequenceGeneration(tokenizer, ids, decoder.maxLength, { sampling, seed, stream: i, stops, maxNewTokens: maxNew, eos });
    lanes.push({ seq, history: [...seq.prompt], done: i >= prompts.length });
  }
  const live = () => lanes.some((l) => !l.done);

  decoder.reset();
  let fed = Math.min(...lanes.map((l) => l.seq.prompt.length));
  let logits = await decoder.feed(gather(lanes, 0, fed));
  const V = decoder.vocabSize;
  // Tokens [batch, steps] the decoder chose in its graph, and the next step to take: while set, each
  // position's token comes from here instead of the logits (the decoder has already read it).
  let chosen: { tokens: Int32Array; steps: number; next: number } | undefined;
  const { chunks } = decoder;
  const choice = chunks && inGraphChoice(sampling);
  while (true) {
    for (let i = 0; i < lanes.length; i++) {
      const lane = lanes[i]!;
      if (lane.history.length > fed) continue; // still reading its prompt
      if (lane.done) {
        lane.history.push(lane.history[lane.history.length - 1]!);
        continue;
      }
      const { token, text } = chosen ? lane.seq.take(chosen.tokens[i * chosen.steps + chosen.next]!) : lane.seq.next(logits.subarray(i * V, (i + 1) * V));
      const events: GenerationEvent[] = [];
      if (token !== undefined) lane.history.push(token);
      if (text.length > 0) events.push({ type: 'text', sequence: i, text });
      if (lane.seq.done) {
        lane.done = true;
        if (lane.history.length === fed) lane.history.push(lane.history[fed - 1]!);
        events.push({ type: 'done', sequence: i, result: resultOf(lane.seq, prompts[i]!, tokenizer, seed, start) });
      }
      yield* events;
    }
    if (!live()) break;
    if (chosen && ++chosen.next < chosen.steps) {
      // The next position's token was chosen in the same run.
    } else if (chunks && choice && decoder.length + chunks.steps <= decoder.maxLength && lanes.every((l) => l.done || l.history.length === fed + 1) && (chunks.ready(choice) || remaining(lanes, maxNew) >= CHUNK_PAYBACK)) {
      // Every sequence has read its prompt: the decoder reads this token and chooses the next `steps` itself,
      // sampling with each sequence's own next draws (finished lanes' choices are discarded).
      const draws = choice.greedy ? undefined : new Uint32Array(lanes.length * chunks.steps);
      if (draws) lanes.forEach((l, i) => !l.done && draws.set(l.seq.draws(chunks.steps), i * chunks.steps));
      chosen = { tokens: await chunks.run(gather(lanes, fed, fed + 1), choice, draws), steps: chunks.steps, next: 0 };
    } else if (decoder.length + 1 > decoder.maxLength) {
      chosen = undefined;
      // Slide: restart from the last maxLength/2 tokens, the one to feed now included.
      const keep = Math.max(1, Math.floor(decoder.maxLength / 2));
      decoder.reset();
      for (const lane of lanes) if (!lane.done) lane.seq.slides++;
      logits = await decoder.feed(gather(lanes, fed + 1 - keep, fed + 1));
    } else {
      chosen = undefined;
      logits = await decoder.feed(gather(lanes, fed, fed + 1));
    }
    fed++;
  }
}

/**
 * Tokens still to generate before chunks (IncrementalDecoder.chunks) repay compiling their graph. A generation
 * of more than one token compiles a graph either way (the one-token step's, ~20-30 ms, or a chunk's, ~5-10 ms
 * more), and each token a chunk takes saves ~60-100 µs, so chunks pay from a few dozen tokens. Measured cold (a
 * new 2×256 LSTM decoder, then N tokens, medians of 5 processes, greedy / sampled): N = 10 about the same,
 * N = 50 37-40 / 45 ms with chunks against 55 / 53 ms without, N = 200 57 / 82 ms against 74 / 104 ms.
 */
const CHUNK_PAYBACK = 32;

/** The most tokens any live sequence may still generate. */
function remaining(lanes: readonly Lane[], maxNew: number): number {
  return Math.max(0, ...lanes.filter((l) => !l.done).map((l) => maxNew - l.seq.generated.length));
}

/** Streams the continuation of one prompt as text increments: `for await (const piece of generate(m, prompt))`. */
export async function* generate(m: GenerationModel, prompt: Prompt, options: GenerateOptions = {}): AsyncGenerator<string, GenerationResult> {
  let result: GenerationResult | undefined;
  for await (const e of generateEvents(m, [prompt], options)) {
    if (e.type === 'text') yield e.text;
    else result = e.result;
  }
  return result!;
}

/** Generates continuations of several prompts together (prompts.length ≤ decoder.batch); results in prompt order. */
export async function generateBatch(m: GenerationModel, prompts: readonly Prompt[], options: GenerateOptions = {}): Promise<GenerationResult[]> {
  const results: GenerationResult[] = [];
  for await (const e of generateEvents(m, prompts, options)) if (e.type === 'done') results[e.sequence] = e.result;
  return results;
}

/** The continuation of one prompt, whole. */
export async function generateText(m: GenerationModel, prompt: Prompt, options: GenerateOptions = {}): Promise<GenerationResult> {
  return (await generateBatch(m, [prompt], options))[0]!;
}

/** An empty prompt starts from the bos token when the tokenizer has one. */
export function promptIds(p: Prompt, tokenizer: Tokenizer): number[] {
  const ids = typeof p === 'string' ? tokenizer.encode(p) : [...p];
  if (ids.length > 0) return ids;
  if (tokenizer.special.bos !== undefined) return [tokenizer.special.bos];
  throw new InkwellError('the prompt is empty and the tokenizer has no bos token to start from', 'give a prompt of at least one character');
}

/** Tokens [from, to) of every lane as a [batch, to − from] feed. */
function gather(lanes: readonly Lane[], from: number, to: number): Int32Array {
  const T = to - from;
  const out = new Int32Array(lanes.length * T);
  lanes.forEach((lane, i) => {
    for (let t = 0; t < T; t++) out[i * T + t] = lane.history[from + t]!;
  });
  return out;
}

function resultOf(seq: SequenceGeneration, prompt: Prompt, tokenizer: Tokenizer, seed: number, start: number): GenerationResult {
  const now = performance.now();
  const first = seq.firstTokenAt ?? now;
  const n = seq.generated.length;
  return {
    prompt: typeof prompt === 'string' ? prompt : tokenizer.decode(prompt),
    text: seq.text,
    tokens: seq.generated,
    promptTokens: seq.prompt.length + seq.dropped,
    droppedPromptTokens: seq.dropped,
    slides: seq.slides,
    finishReason: seq.finishReason!,
    seed,
    timing: {
      timeToFirstTokenMs: first - start,
      totalMs: now - start,
      tokensPerSecond: n / ((now - start) / 1000),
      decodeTokensPerSecond: n > 1 && now > first ? (n - 1) / ((now - first) / 1000) : 0,
    },
  };
}

/** A fresh seed in [0, 2^31) from the Web Crypto API (Node and browsers alike). */
function randomSeed(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0]! >>> 1;
}
