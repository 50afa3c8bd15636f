/** The playground: sampling controls over `inkwell serve`'s /v1/completions, streamed, each token shaded by its probability. */
import { listModels, ServerError, streamCompletion, type CompletionRequest, type TokenInfo } from '../lib/completions.js';
import { byId, showStatus } from '../lib/dom.js';

const server = byId('server', HTMLInputElement);
const modelSelect = byId('model', HTMLSelectElement);
const prompt = byId('prompt', HTMLTextAreaElement);
const generateButton = byId('generate', HTMLButtonElement);
const cancelButton = byId('cancel', HTMLButtonElement);
const status = byId('status', HTMLElement);
const output = byId('output', HTMLElement);
const alternatives = byId('alternatives', HTMLElement);
const field = (id: string) => byId(id, HTMLInputElement);

let running: AbortController | undefined;
/** The API's base: the Server field, else the site serving this page (as `inkwell serve` does). */
const serverUrl = () => new URL(server.value.trim() || '/', location.href).href.replace(/\/?$/, '/');

/** A number field's value as the server should see it: sent as typed (the server validates it and says what is wrong). */
function num(id: string): number | undefined {
  const v = field(id).value.trim();
  return v === '' ? undefined : Number(v);
}

function request(): CompletionRequest {
  const stop = byId('stop', HTMLTextAreaElement).value.split('\n').filter((s) => s !== '');
  const r: CompletionRequest = { model: modelSelect.value, prompt: prompt.value, logprobs: 5 };
  const fields: Array<[keyof CompletionRequest, string]> = [
    ['max_tokens', 'max-tokens'], ['temperature', 'temperature'], ['top_k', 'top-k'], ['top_p', 'top-p'],
    ['repetition_penalty', 'repetition-penalty'], ['frequency_penalty', 'frequency-penalty'], ['presence_penalty', 'presence-penalty'], ['seed', 'seed'],
  ];
  for (const [key, id] of fields) {
    const v = num(id);
    if (v !== undefined) (r as unknown as Record<string, unknown>)[key] = v;
  }
  if (stop.length) r.stop = stop;
  return r;
}

/** Light red for unlikely tokens through yellow to light green for near-certain ones. */
function shade(p: number): string {
  return `hsl(${Math.round(120 * p)} 75% 86%)`;
}

function tokenSpan(t: TokenInfo): HTMLElement {
  const span = document.createElement('span');
  span.textContent = t.text;
  if (t.logprob === null) return span;
  const p = Math.exp(t.logprob);
  span.className = 'tok';
  span.tabIndex = 0;
  span.style.background = shade(p);
  span.dataset.p = p.toFixed(6);
  span.setAttribute('aria-label', `${JSON.stringify(t.text)}, probability ${(100 * p).toFixed(1)}%`);
  span.setAttribute('aria-describedby', 'alternatives');
  const show = () => showAlternatives(span, t);
  span.addEventListener('mouseenter', show);
  span.addEventListener('focus', show);
  span.addEventListener('mouseleave', hideAlternatives);
  span.addEventListener('blur', hideAlternatives);
  return span;
}

function showAlternatives(anchor: HTMLElement, t: TokenInfo): void {
  const rows = t.top.slice(0, 5).map((a) => {
    const tr = document.createElement('tr');
    if (a.token === t.text) tr.className = 'chosen';
    tr.append(Object.assign(document.createElement('td'), { textContent: JSON.stringify(a.token) }), Object.assign(document.createElement('td'), { textContent: `${(100 * Math.exp(a.logprob)).toFixed(1)}%` }));
    return tr;
  });
  const table = document.createElement('table');
  table.append(...rows);
  alternatives.replaceChildren(table);
  alternatives.hidden = false;
  const box = anchor.getBoundingClientRect();
  const left = Math.min(box.left + scrollX, scrollX + document.documentElement.clientWidth - alternatives.offsetWidth - 8);
  alternatives.style.left = `${Math.max(8, left)}px`;
  alternatives.style.top = `${box.bottom + scrollY + 6}px`;
}

function hideAlternatives(): void {
  alternatives.hidden = true;
}

async function loadModels(): Promise<void> {
  try {
    const ids = await listModels(serverUrl());
    modelSelect.replaceChildren(...ids.map((id) => new Option(id, id)));
    if (!ids.length) showStatus(status, 'The server serves no models.', true);
    else showStatus(status, `Connected to ${serverUrl()}.`);
  } catch (err) {
    showStatus(status, `Cannot list the server's models: ${err instanceof Error ? err.message : String(err)}`, true);
  }
}

generateButton.addEventListener('click', () => void generate());
cancelButton.addEventListener('click', () => running?.abort());
server.addEventListener('change', () => void loadModels());

async function generate(): Promise<void> {
  running = new AbortController();
  generateButton.disabled = true;
  cancelButton.disabled = false;
  output.replaceChildren(Object.assign(document.createElement('span'), { className: 'prompt', textContent: prompt.value }));
  delete output.dataset.done;
  output.dataset.text = '';
  showStatus(status, 'Generating…');
  let tokens = 0;
  const t0 = performance.now();
  try {
    for await (const e of streamCompletion(serverUrl(), request(), running.signal)) {
      if (e.type === 'text') {
        output.append(...e.tokens.map(tokenSpan));
        output.dataset.text += e.text;
        tokens += e.tokens.length;
      } else {
        const s = (performance.now() - t0) / 1000;
        showStatus(status, `${tokens} tokens in ${s.toFixed(2)} s (finished: ${e.reason}).`);
        output.dataset.done = e.reason;
      }
    }
  } catch (err) {
    if (running.signal.aborted) showStatus(status, `Stopped after ${tokens} tokens.`);
    else showStatus(status, err instanceof ServerError ? `The server refused: ${err.message}` : `Request failed: ${err instanceof Error ? err.message : String(err)}`, true);
  } finally {
    running = undefined;
    generateButton.disabled = false;
    cancelButton.disabled = true;
  }
}

const fromQuery = new URLSearchParams(location.search).get('server');
if (fromQuery) server.value = fromQuery;
void loadModels();
