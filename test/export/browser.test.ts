/**
 * Exports in a real browser tab: headless Chromium loads onnxruntime-web
 * (wasm) or transformers.js and an exported folder from a local server and
 * decodes greedily; its tokens must equal inkwell's. Skips when Chromium is
 * missing (Debian package `chromium`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { exportModel } from '../../src/export/index.js';
import { createDecoder } from '../../src/generate/decoders.js';
import { generateText } from '../../src/generate/generate.js';
import { bpeGpt } from './fixtures.js';

const MODULES = path.resolve(fileURLToPath(import.meta.url), '..', '..', '..', '..', 'node_modules');
const ORT_DIST = path.join(MODULES, 'onnxruntime-web', 'dist');
const TRANSFORMERS_DIST = path.join(MODULES, '@huggingface', 'transformers', 'dist');
/** transformers.js wants its own onnxruntime-web build (npm nests it when it differs from ours). */
const TRANSFORMERS_ORT = [path.join(MODULES, '@huggingface', 'transformers', 'node_modules', 'onnxruntime-web', 'dist'), ORT_DIST].find((d) => fs.existsSync(d))!;
const CHROMIUM = (process.env['PATH'] ?? '').split(':').map((d) => path.join(d, 'chromium')).find((p) => fs.existsSync(p));
const NEW = 12;

/** Greedy decoding in the page, driven by inference.json as the export's README describes; posts the new ids back. */
const page = (prompt: number[]) => `<!doctype html><script type="module">
import * as ort from '/ort/ort.wasm.min.mjs';
ort.env.wasm.numThreads = 1;
ort.env.wasm.wasmPaths = '/ort/';
const report = (body) => fetch('/result', { method: 'POST', body });
try {
  const info = await (await fetch('/model/inference.json')).json();
  const session = await ort.InferenceSession.create(new Uint8Array(await (await fetch('/model/model.onnx')).arrayBuffer()));
  const int64 = (v) => new ort.Tensor('int64', BigInt64Array.from(v, BigInt), [1, v.length]);
  let state = Object.fromEntries(info.state.map((s) => [s.input, new ort.Tensor('float32', new Float32Array(s.initial_shape.reduce((a, b) => a * b, 1)), s.initial_shape)]));
  let fresh = ${JSON.stringify(prompt)}, seen = 0;
  const out = [];
  while (out.length < ${NEW}) {
    const r = await session.run({ ...state, input_ids: int64(fresh), attention_mask: int64(Array(seen + fresh.length).fill(1)), position_ids: int64(fresh.map((_, t) => seen + t)) });
    const V = r.logits.dims[2];
    const last = r.logits.data.subarray((fresh.length - 1) * V, fresh.length * V);
    let next = 0;
    for (let v = 1; v < V; v++) if (last[v] > last[next]) next = v;
    state = Object.fromEntries(info.state.map((s) => [s.input, r[s.output]]));
    seen += fresh.length;
    out.push(next);
    fresh = [next];
  }
  await report(JSON.stringify(out));
} catch (e) {
  await report('error: ' + e);
}
</script>`;

const TYPES: Record<string, string> = { '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json' };

/** Serves `html` at / and each prefix of `routes` from its folder on 127.0.0.1, opens it in headless Chromium, and returns what the page POSTs to /result. */
async function inBrowser(html: string, routes: Record<string, string>): Promise<string> {
  let browser: ChildProcess | undefined;
  let timer: NodeJS.Timeout | undefined;
  const server = http.createServer();
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'inkwell-chromium-'));
  try {
    return await new Promise<string>((resolve, reject) => {
      server.on('request', (req, res) => {
        const url = decodeURIComponent((req.url ?? '/').split('?')[0]!);
        if (req.method === 'POST' && url === '/result') {
          let body = '';
          req.on('data', (d: Buffer) => (body += d.toString('utf8')));
          req.on('end', () => (res.end(), resolve(body)));
          return;
        }
        if (url === '/') return res.setHeader('content-type', 'text/html').end(html);
        const prefix = Object.keys(routes).find((p) => url.startsWith(p));
        const file = prefix && path.join(routes[prefix]!, url.slice(prefix.length));
        if (!file || !file.startsWith(routes[prefix]! + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) return res.writeHead(404).end();
        res.setHeader('content-type', TYPES[path.extname(file)] ?? 'application/octet-stream');
        fs.createReadStream(file).pipe(res);
      });
      server.listen(0, '127.0.0.1', () => {
        const { port } = server.address() as AddressInfo;
        // Its own process group, so that stop() ends Chromium's helper processes too (they write the profile).
        const flags = ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
        browser = spawn(CHROMIUM!, [...flags, `--user-data-dir=${profile}`, `http://127.0.0.1:${port}/`], { stdio: 'ignore', detached: true });
        browser.on('error', reject);
      });
      timer = setTimeout(() => reject(new Error('the page reported nothing within 120 s')), 120_000);
    });
  } finally {
    clearTimeout(timer);
    server.close();
    await stop(browser);
    // Chromium's helper processes may still be writing the profile for a moment after it exits.
    fs.rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  }
}

/** Ends the browser's process group and waits for the browser (SIGKILL after 10 s). */
async function stop(browser: ChildProcess | undefined): Promise<void> {
  if (!browser || browser.pid === undefined) return;
  const group = (signal: NodeJS.Signals) => {
    try { process.kill(-browser.pid!, signal); } catch { /* the group is gone */ }
  };
  const exited = browser.exitCode !== null || browser.signalCode !== null ? Promise.resolve() : new Promise<void>((resolve) => browser.once('exit', () => resolve()));
  group('SIGTERM');
  const force = setTimeout(() => group('SIGKILL'), 10_000);
  await exited;
  clearTimeout(force);
  group('SIGKILL');
}

const skip = CHROMIUM ? false : 'chromium is not installed (Debian package chromium)';
const gpt = CHROMIUM ? await bpeGpt() : undefined;

async function inkwellGreedy(prompt: number[]): Promise<number[]> {
  const decoder = await createDecoder(gpt!.bundle, 1);
  const r = await generateText({ decoder, tokenizer: gpt!.bundle.tokenizer }, prompt, { greedy: true, maxNewTokens: NEW, stopAtEos: false });
  await decoder.release();
  return r.tokens;
}

test('headless Chromium runs the exported GPT decoder with onnxruntime-web and continues as inkwell does', { skip }, async () => {
  const out = path.join(path.dirname(gpt!.dir), 'onnx');
  await exportModel(gpt!.dir, { format: 'onnx', out });
  const prompt = gpt!.bundle.tokenizer.encode('the cat sees');
  const result = await inBrowser(page(prompt), { '/ort/': ORT_DIST, '/model/': out });
  assert.deepEqual(JSON.parse(result), await inkwellGreedy(prompt), result);
});

test('transformers.js in headless Chromium loads the exported folder offline and its greedy tokens equal inkwell\'s', { skip }, async () => {
  const root = path.dirname(gpt!.dir);
  await exportModel(gpt!.dir, { format: 'transformers.js', out: path.join(root, 'tjs') });
  const prompt = 'the cat sees';
  const html = `<!doctype html>
<script type="importmap">{ "imports": { "onnxruntime-web/webgpu": "/ort/ort.webgpu.bundle.min.mjs", "onnxruntime-common": "/ort/ort.webgpu.bundle.min.mjs" } }</script>
<script type="module">
import { env, AutoModelForCausalLM, AutoTokenizer } from '/transformers/transformers.web.js';
Object.assign(env, { allowRemoteModels: false, allowLocalModels: true, useBrowserCache: false, localModelPath: '/models/' });
env.backends.onnx.wasm.wasmPaths = '/ort/';
env.backends.onnx.wasm.numThreads = 1;
try {
  const tokenizer = await AutoTokenizer.from_pretrained('tjs');
  const model = await AutoModelForCausalLM.from_pretrained('tjs', { dtype: 'fp32', device: 'wasm' });
  const inputs = tokenizer(${JSON.stringify(prompt)});
  const out = await model.generate({ ...inputs, max_new_tokens: ${NEW}, min_new_tokens: ${NEW}, do_sample: false });
  await fetch('/result', { method: 'POST', body: JSON.stringify(out.tolist()[0].slice(inputs.input_ids.dims[1]).map(Number)) });
} catch (e) {
  await fetch('/result', { method: 'POST', body: 'error: ' + e.stack });
}
</script>`;
  const result = await inBrowser(html, { '/ort/': TRANSFORMERS_ORT, '/transformers/': TRANSFORMERS_DIST, '/models/': root });
  assert.deepEqual(JSON.parse(result), await inkwellGreedy(gpt!.bundle.tokenizer.encode(prompt)), result);
});
