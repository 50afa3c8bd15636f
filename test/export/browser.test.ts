/**
 * The exported ONNX decoder in a real browser tab: headless Chromium loads
 * onnxruntime-web (wasm) and the folder from a local server and decodes
 * greedily; its tokens must equal inkwell's. Skips when Chromium is missing
 * (Debian package `chromium`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { exportModel } from '../../src/export/index.js';
import { createDecoder } from '../../src/generate/decoders.js';
import { generateText } from '../../src/generate/generate.js';
import { tempDir } from '../data/fixtures.js';
import { bpeGpt } from './fixtures.js';

const ORT_DIST = path.resolve(fileURLToPath(import.meta.url), '..', '..', '..', '..', 'node_modules', 'onnxruntime-web', 'dist');
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

test('headless Chromium runs the exported GPT decoder with onnxruntime-web and continues as inkwell does', { skip: CHROMIUM ? false : 'chromium is not installed (Debian package chromium)' }, async () => {
  const f = await bpeGpt();
  const out = path.join(path.dirname(f.dir), 'onnx');
  await exportModel(f.dir, { format: 'onnx', out });
  const prompt = f.bundle.tokenizer.encode('the cat sees');
  const decoder = await createDecoder(f.bundle, 1);
  const ours = await generateText({ decoder, tokenizer: f.bundle.tokenizer }, prompt, { greedy: true, maxNewTokens: NEW, stopAtEos: false });
  await decoder.release();

  let browser: ChildProcess | undefined;
  let timer: NodeJS.Timeout | undefined;
  const server = http.createServer();
  try {
    const result = await new Promise<string>((resolve, reject) => {
      server.on('request', (req, res) => {
        const url = req.url ?? '/';
        if (req.method === 'POST' && url === '/result') {
          let body = '';
          req.on('data', (d: Buffer) => (body += d.toString('utf8')));
          req.on('end', () => (res.end(), resolve(body)));
          return;
        }
        if (url === '/') return res.setHeader('content-type', 'text/html').end(page(prompt));
        const [root, rest] = url.startsWith('/ort/') ? [ORT_DIST, url.slice(5)] : url.startsWith('/model/') ? [out, url.slice(7)] : [undefined, ''];
        const file = root && path.join(root, path.basename(rest));
        if (!file || !fs.existsSync(file)) return res.writeHead(404).end();
        res.setHeader('content-type', file.endsWith('.mjs') ? 'text/javascript' : file.endsWith('.wasm') ? 'application/wasm' : 'application/octet-stream');
        fs.createReadStream(file).pipe(res);
      });
      server.listen(0, '127.0.0.1', () => {
        const { port } = server.address() as AddressInfo;
        browser = spawn(CHROMIUM!, ['--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run', `--user-data-dir=${tempDir('inkwell-chromium-')}`, `http://127.0.0.1:${port}/`], { stdio: 'ignore' });
        browser.on('error', reject);
      });
      timer = setTimeout(() => reject(new Error('the page reported nothing within 120 s')), 120_000);
    });
    assert.deepEqual(JSON.parse(result), ours.tokens, result);
  } finally {
    clearTimeout(timer);
    browser?.kill();
    server.close();
  }
});
