/**
 * A GPT exported for transformers.js / onnxruntime-web (`onnx/model.onnx` with
 * `input_ids`, `attention_mask`, `position_ids`, `past_key_values.{i}.key|value`
 * in, `logits`, `present.{i}.key|value` out) as an IncrementalDecoder, so
 * inkwell's own generate() (sampling, stops, streaming) drives it in a browser.
 * It keeps the model's present key/values and feeds them back as the past.
 */
import type { InferenceSession, Tensor } from 'onnxruntime-common';
import type { IncrementalDecoder } from '../../../src/generate/incremental-decoder.js';
import { configNumber } from '../../../src/models/config-json.js';
import { backend } from '../../../src/runtime/ort-backend.web.js';
import { InkwellError } from '../../../src/utils/errors.js';

export interface ExportedGptConfig {
  nLayer: number;
  nHead: number;
  nEmbd: number;
  nPositions: number;
  vocabSize: number;
}

/** The fields of a GPT-2 config.json the decoder needs; `source` names the file in errors. */
export function exportedGptConfig(json: unknown, source: string): ExportedGptConfig {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new InkwellError(`${source}: not a JSON object`);
  const c = json as Record<string, unknown>;
  if (c.model_type !== 'gpt2') throw new InkwellError(`${source}: model_type is '${String(c.model_type)}'; this page runs GPT-2 style exports (model_type "gpt2")`);
  const cfg = {
    nLayer: configNumber(c, 'n_layer', source),
    nHead: configNumber(c, 'n_head', source),
    nEmbd: configNumber(c, 'n_embd', source),
    nPositions: configNumber(c, 'n_positions', source),
    vocabSize: configNumber(c, 'vocab_size', source),
  };
  if (cfg.nEmbd % cfg.nHead !== 0) throw new InkwellError(`${source}: n_embd ${cfg.nEmbd} is not a multiple of n_head ${cfg.nHead}`);
  return cfg;
}

export class ExportedGptDecoder implements IncrementalDecoder {
  readonly batch = 1;
  readonly vocabSize: number;
  readonly maxLength: number;
  length = 0;
  private past: Record<string, Tensor> = {};

  private constructor(
    private readonly c: ExportedGptConfig,
    private readonly session: InferenceSession,
  ) {
    this.vocabSize = c.vocabSize;
    this.maxLength = c.nPositions;
    this.reset();
  }

  static async create(c: ExportedGptConfig, onnx: Uint8Array, source: string): Promise<ExportedGptDecoder> {
    let session: InferenceSession;
    try {
      session = await backend.ort.InferenceSession.create(onnx, { ...backend.sessionOptions(), graphOptimizationLevel: 'all' });
    } catch (err) {
      throw new InkwellError(`${source} is not a model onnxruntime-web can run: ${err instanceof Error ? err.message : String(err)}`);
    }
    const needs = ['input_ids', 'attention_mask', 'past_key_values.0.key'];
    const missing = needs.filter((n) => !session.inputNames.includes(n));
    if (missing.length || !session.outputNames.includes('logits')) {
      await session.release();
      throw new InkwellError(`${source} does not have transformers.js's decoder inputs and outputs (missing ${[...missing, 'logits'].join(', ')})`, 'export a GPT for transformers.js');
    }
    return new ExportedGptDecoder(c, session);
  }

  reset(): void {
    const D = this.c.nEmbd / this.c.nHead;
    this.past = {};
    for (let i = 0; i < this.c.nLayer; i++) {
      for (const kv of ['key', 'value']) this.past[`past_key_values.${i}.${kv}`] = new backend.ort.Tensor('float32', new Float32Array(0), [1, this.c.nHead, 0, D]);
    }
    this.length = 0;
  }

  async feed(tokens: Int32Array): Promise<Float32Array> {
    const T = tokens.length;
    if (T < 1) throw new InkwellError('feed: no tokens');
    if (this.length + T > this.maxLength) throw new InkwellError(`feed: ${this.length + T} tokens exceed the model's context of ${this.maxLength}`);
    const feeds: Record<string, Tensor> = {
      ...this.past,
      input_ids: new backend.ort.Tensor('int64', BigInt64Array.from(tokens, (t) => BigInt(t)), [1, T]),
      attention_mask: new backend.ort.Tensor('int64', new BigInt64Array(this.length + T).fill(1n), [1, this.length + T]),
    };
    if (this.session.inputNames.includes('position_ids')) {
      feeds.position_ids = new backend.ort.Tensor('int64', BigInt64Array.from({ length: T }, (_, t) => BigInt(this.length + t)), [1, T]);
    }
    const out = await this.session.run(feeds);
    for (let i = 0; i < this.c.nLayer; i++) {
      for (const kv of ['key', 'value']) {
        const present = out[`present.${i}.${kv}`];
        if (!present) throw new InkwellError(`the model returned no present.${i}.${kv}`);
        this.past[`past_key_values.${i}.${kv}`] = present;
      }
    }
    this.length += T;
    const logits = out.logits!.data as Float32Array;
    return logits.slice((T - 1) * this.vocabSize, T * this.vocabSize);
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
