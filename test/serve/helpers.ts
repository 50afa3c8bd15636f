/** Shared pieces of the server tests: tiny served models, the official OpenAI client, and what `inkwell generate` makes of the same request. */
import { after } from 'node:test';
import OpenAI from 'openai';
import { createDecoder } from '../../src/generate/decoders.js';
import { generateBatch, type GenerateOptions } from '../../src/generate/generate.js';
import { generationDefaults } from '../../src/generate/generation-config.js';
import { loadModel } from '../../src/io/model-dir.js';
import { createServer, type ServerHandle, type ServerOptions } from '../../src/serve/server.js';

export const API_KEY = 'test-key';

/** A listening server, closed when the test file ends. */
export async function startServer(o: ServerOptions): Promise<{ handle: ServerHandle; url: string }> {
  const handle = await createServer({ port: 0, ...o });
  const url = await handle.listen();
  after(() => handle.close(0));
  return { handle, url };
}

export function client(url: string, apiKey = API_KEY): OpenAI {
  return new OpenAI({ baseURL: `${url}/v1`, apiKey, maxRetries: 0, timeout: 60_000 });
}

/**
 * The text `inkwell generate --model DIR` prints for `options` (its flags):
 * generation_config.json's defaults under them, a decoder of batch
 * `samples` (--num-samples), sample `index`.
 */
export async function generated(dir: string, prompt: string, options: GenerateOptions, samples = 1, index = 0): Promise<string> {
  const bundle = loadModel(dir);
  const decoder = await createDecoder(bundle, samples);
  try {
    const o = { ...generationDefaults(dir), ...options };
    return (await generateBatch({ decoder, tokenizer: bundle.tokenizer }, Array<string>(samples).fill(prompt), o))[index]!.text;
  } finally {
    await decoder.release();
  }
}

/** A metric's value in Prometheus text (the first series whose line starts with `series`). */
export async function metric(url: string, series: string): Promise<number | undefined> {
  const text = await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${API_KEY}` } })).text();
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** Polls `check` every 20 ms until it holds or `ms` pass. */
export async function eventually(check: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return check();
}
