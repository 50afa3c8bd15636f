/** "Run in your browser": load an exported GPT folder (by URL or from disk) and generate with inkwell's sampler, no server. */
import { generate } from '../../../src/generate/generate.js';
import { configureRuntime } from '../../../src/runtime/ort-backend.web.js';
import { fromTokenizerJson } from '../../../src/tokenizers/from-json.js';
import type { Tokenizer, TokenizerJson } from '../../../src/tokenizers/tokenizer.js';
import { byId, numberField, runtimeLabel, showStatus, wantedExecution, wantedThreads } from '../lib/dom.js';
import { ExportedGptDecoder, exportedGptConfig } from '../lib/exported-decoder.js';

const urlInput = byId('model-url', HTMLInputElement);
const folder = byId('folder', HTMLInputElement);
const loadButton = byId('load', HTMLButtonElement);
const status = byId('status', HTMLElement);
const genStatus = byId('gen-status', HTMLElement);
const prompt = byId('prompt', HTMLInputElement);
const maxTokens = byId('max-tokens', HTMLInputElement);
const temperature = byId('temperature', HTMLInputElement);
const seed = byId('seed', HTMLInputElement);
const generateButton = byId('generate', HTMLButtonElement);
const output = byId('output', HTMLElement);

// Before any session: WebGPU when the browser has an adapter for it, else wasm.
const runtime = await configureRuntime({ wasmPaths: new URL('ort/', location.href).href, threads: wantedThreads(), prefer: wantedExecution() });
showRuntime();

function showRuntime(): void {
  const label = runtimeLabel(runtime);
  byId('stat-runtime', HTMLElement).textContent = label.text;
  byId('runtime-note', HTMLElement).textContent = label.detail ? `Not on WebGPU: ${label.detail}.` : '';
  document.body.dataset.execution = runtime.execution;
}

let loaded: { decoder: ExportedGptDecoder; tokenizer: Tokenizer } | undefined;

/** The three files of an export, read by `read(path)` (a fetch or a picked file); `source` names the folder in errors. */
async function load(read: (path: string) => Promise<Uint8Array>, source: string): Promise<void> {
  const text = async (p: string) => new TextDecoder().decode(await read(p));
  const parse = async (p: string): Promise<unknown> => {
    try {
      return JSON.parse(await text(p));
    } catch (err) {
      throw new Error(`${source}${p} is not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  const config = exportedGptConfig(await parse('config.json'), `${source}config.json`);
  let tokenizer: Tokenizer;
  try {
    tokenizer = fromTokenizerJson((await parse('tokenizer.json')) as Partial<TokenizerJson> | null);
  } catch (err) {
    throw new Error(`${source}tokenizer.json: ${err instanceof Error ? err.message : String(err)}`);
  }
  const decoder = await ExportedGptDecoder.create(config, await read('onnx/model.onnx'), `${source}onnx/model.onnx`);
  await loaded?.decoder.release();
  loaded = { decoder, tokenizer };
  byId('stat-layers', HTMLElement).textContent = String(config.nLayer);
  byId('stat-width', HTMLElement).textContent = `${config.nHead} × ${config.nEmbd}`;
  byId('stat-context', HTMLElement).textContent = String(config.nPositions);
  byId('stat-vocab', HTMLElement).textContent = config.vocabSize.toLocaleString('en');
  byId('model-stats', HTMLElement).hidden = false;
  document.body.dataset.model = 'loaded';
}

async function guarded(what: string, where: HTMLElement, fn: () => Promise<void>): Promise<void> {
  loadButton.disabled = generateButton.disabled = true;
  try {
    await fn();
  } catch (err) {
    showStatus(where, `${what}: ${err instanceof Error ? err.message : String(err)}`, true);
  } finally {
    loadButton.disabled = false;
    generateButton.disabled = !loaded;
  }
}

loadButton.addEventListener('click', () =>
  void guarded('Cannot load the model', status, async () => {
    if (!urlInput.value.trim()) throw new Error('enter the URL of a model folder');
    const base = new URL(urlInput.value.trim().replace(/\/?$/, '/'), location.href);
    showStatus(status, `Loading ${base.href}…`);
    await load(async (p) => {
      const res = await fetch(new URL(p, base));
      if (!res.ok) throw new Error(`${new URL(p, base).href}: HTTP ${res.status}`);
      return new Uint8Array(await res.arrayBuffer());
    }, base.href);
    showStatus(status, `Loaded ${base.href}.`);
  }),
);

folder.addEventListener('change', () =>
  void guarded('Cannot load the model', status, async () => {
    const files = [...(folder.files ?? [])];
    // A picked folder's files are named "<folder>/<path>": match by the path inside it.
    const find = (p: string) => files.find((f) => f.webkitRelativePath.split('/').slice(1).join('/') === p || f.name === p);
    const name = files[0]?.webkitRelativePath.split('/')[0] ?? 'the folder';
    await load(async (p) => {
      const f = find(p);
      if (!f) throw new Error(`${name}/${p} is missing`);
      return new Uint8Array(await f.arrayBuffer());
    }, `${name}/`);
    showStatus(status, `Loaded ${name}.`);
  }),
);

generateButton.addEventListener('click', () =>
  void guarded('Cannot generate', genStatus, async () => {
    if (!loaded) throw new Error('load a model first');
    const maxNewTokens = numberField(maxTokens, 'New tokens', 1, 2000, true);
    const t = numberField(temperature, 'Temperature', 0, 5);
    const s = numberField(seed, 'Seed', 0, 2 ** 31 - 1, true);
    output.textContent = '';
    output.append(Object.assign(document.createElement('span'), { className: 'prompt', textContent: prompt.value }));
    delete output.dataset.tokens;
    showStatus(genStatus, 'Generating…');
    const it = generate(loaded, prompt.value, { maxNewTokens, temperature: t, seed: s });
    for (let r = await it.next(); ; r = await it.next()) {
      if (r.done) {
        output.dataset.tokens = JSON.stringify(r.value.tokens);
        showStatus(genStatus, `${r.value.tokens.length} tokens, ${r.value.timing.tokensPerSecond.toFixed(0)} tokens/s (finished: ${r.value.finishReason}).`);
        break;
      }
      output.append(r.value);
    }
  }),
);

const fromQuery = new URLSearchParams(location.search).get('model');
if (fromQuery) {
  urlInput.value = fromQuery;
  loadButton.click();
}
