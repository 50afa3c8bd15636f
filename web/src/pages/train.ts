/** "Train in your browser": the page's controls, talking to the training worker (train-worker.ts). */
import { byId, numberField, runtimeLabel, showStatus, wantedExecution, wantedThreads } from '../lib/dom.js';
import { LineChart } from '../lib/line-chart.js';
import type { FromWorker, ModelInfo, ToWorker } from '../lib/protocol.js';
import { RECIPES } from '../lib/recipes.js';
import { SAMPLE_TEXT } from '../lib/sample-text.js';

const text = byId('text', HTMLTextAreaElement);
const file = byId('file', HTMLInputElement);
const chars = byId('chars', HTMLElement);
const recipeSelect = byId('recipe', HTMLSelectElement);
const steps = byId('steps', HTMLInputElement);
const trainButton = byId('train', HTMLButtonElement);
const stopButton = byId('stop', HTMLButtonElement);
const forgetButton = byId('forget', HTMLButtonElement);
const status = byId('status', HTMLElement);
const prompt = byId('prompt', HTMLInputElement);
const maxTokens = byId('max-tokens', HTMLInputElement);
const temperature = byId('temperature', HTMLInputElement);
const generateButton = byId('generate', HTMLButtonElement);
const downloadButton = byId('download', HTMLButtonElement);
const output = byId('output', HTMLElement);
const chartEl = byId('chart', HTMLElement);
const chart = new LineChart(chartEl, [{ label: 'training loss', color: '#2f5fd0' }], { x: 'step', y: 'loss (nats)' });
/** The curve's points, also described in words for screen readers (and read by the end-to-end tests). */
const losses: number[] = [];

function addLoss(step: number, loss: number): void {
  chart.add(0, step, loss);
  losses.push(loss);
  const n = losses.length;
  chartEl.setAttribute('aria-label', `Training loss over ${n} steps: ${losses[0]!.toFixed(3)} at first, ${loss.toFixed(3)} now`);
  chartEl.dataset.points = String(n);
  chartEl.dataset.firstLoss = String(losses[0]);
  chartEl.dataset.lastLoss = String(loss);
}

function resetLosses(points: ReadonlyArray<readonly [number, number]>): void {
  chart.clear();
  losses.length = 0;
  chartEl.setAttribute('aria-label', 'Training loss: no steps yet');
  chartEl.dataset.points = '0';
  for (const [s, l] of points) addLoss(s, l);
}
const stat = (id: string) => byId(`stat-${id}`, HTMLElement);

for (const [name, r] of Object.entries(RECIPES)) {
  if (name === 'bench-gpt') continue;
  recipeSelect.add(new Option(r.label, name));
}

const worker = new Worker(new URL('./train-worker.js', import.meta.url), { type: 'module' });
const send = (m: ToWorker) => worker.postMessage(m);

type State = 'starting' | 'idle' | 'training' | 'generating';
let state: State = 'starting';
let model: ModelInfo | null = null;

function setState(s: State): void {
  state = s;
  document.body.dataset.state = s;
  const busy = s !== 'idle';
  trainButton.disabled = busy;
  stopButton.disabled = s !== 'training';
  forgetButton.disabled = busy || !model;
  generateButton.disabled = busy || !model;
  downloadButton.disabled = busy || !model;
  // A model's text and recipe are fixed: "New model" frees them.
  text.readOnly = !!model;
  recipeSelect.disabled = !!model || busy;
  trainButton.textContent = model ? `Train ${steps.value || ''} more steps` : 'Train';
}

function showModel(info: ModelInfo | null): void {
  model = info;
  document.body.dataset.step = String(info?.step ?? 0);
  if (info) {
    text.value = info.text;
    recipeSelect.value = info.recipe;
    stat('step').textContent = String(info.step);
    const last = info.losses.at(-1);
    stat('loss').textContent = last ? last[1].toFixed(3) : '–';
  } else {
    for (const id of ['step', 'loss', 'ms']) stat(id).textContent = '–';
  }
  resetLosses(info?.losses ?? []);
  countChars();
}

function countChars(): void {
  chars.textContent = text.value ? `${text.value.length.toLocaleString('en')} characters` : '';
}

worker.onmessage = (e: MessageEvent<FromWorker>) => {
  const m = e.data;
  switch (m.type) {
    case 'ready': {
      const label = runtimeLabel(m.runtime);
      stat('runtime').textContent = label.text;
      byId('runtime-note', HTMLElement).textContent = label.detail ? `Not on WebGPU: ${label.detail}.` : '';
      document.body.dataset.execution = m.runtime.execution;
      send({ type: 'restore' });
      break;
    }
    case 'model':
      showModel(m.info);
      if (m.resumed && m.info) showStatus(status, `Resumed the model saved in this browser at step ${m.info.step}.`);
      else if (state === 'starting') showStatus(status, 'Ready. Paste a text (or use the sample) and press Train.');
      if (state === 'starting') setState('idle');
      break;
    case 'step': {
      const r = m.result;
      addLoss(r.step, r.loss);
      document.body.dataset.step = String(r.step);
      stat('step').textContent = String(r.step);
      stat('loss').textContent = r.loss.toFixed(3);
      stat('ms').textContent = `${r.ms.toFixed(0)} ms`;
      break;
    }
    case 'trained':
      showModel(m.info);
      showStatus(status, `${m.stopped ? 'Stopped' : 'Trained'} at step ${m.info.step} (loss ${m.info.losses.at(-1)?.[1].toFixed(3) ?? '–'}); saved in this browser. ${m.info.parameters.toLocaleString('en')} parameters, ${m.info.vocabSize} characters in the vocabulary.`);
      setState('idle');
      break;
    case 'saved':
      document.body.dataset.saved = String(m.step);
      break;
    case 'token':
      output.append(m.text);
      break;
    case 'generated':
      output.dataset.tokens = JSON.stringify(m.tokens);
      output.dataset.text = m.text;
      showStatus(status, `Generated ${m.tokens.length} characters.`);
      setState('idle');
      break;
    case 'zip': {
      const url = URL.createObjectURL(new Blob([m.bytes], { type: 'application/zip' }));
      const a = Object.assign(document.createElement('a'), { href: url, download: m.name });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      setState('idle');
      break;
    }
    case 'error':
      showStatus(status, m.message, true);
      setState('idle');
      break;
  }
};
worker.onerror = (e) => {
  showStatus(status, `The training worker failed: ${e.message}`, true);
  setState('idle');
};

/** Runs a control's action; a bad field shows its message instead. */
function act(fn: () => void): void {
  try {
    fn();
  } catch (err) {
    showStatus(status, err instanceof Error ? err.message : String(err), true);
  }
}

trainButton.addEventListener('click', () =>
  act(() => {
    const n = numberField(steps, 'Steps to train', 1, 100000, true);
    if (!text.value.trim()) throw new Error('Paste a text to train on first (or use the sample paragraph).');
    showStatus(status, model ? `Training ${n} more steps…` : `Building the model and training ${n} steps…`);
    setState('training');
    send({ type: 'train', recipe: recipeSelect.value, text: text.value, steps: n });
  }),
);
stopButton.addEventListener('click', () => send({ type: 'stop' }));
forgetButton.addEventListener('click', () => {
  if (!confirm('Start a new model? The one saved in this browser is deleted.')) return;
  output.textContent = '';
  showStatus(status, 'Ready for a new model.');
  send({ type: 'forget' });
});
generateButton.addEventListener('click', () =>
  act(() => {
    const maxNewTokens = numberField(maxTokens, 'New characters', 1, 2000, true);
    const t = numberField(temperature, 'Temperature', 0, 5);
    output.textContent = '';
    const shown = Object.assign(document.createElement('span'), { className: 'prompt', textContent: prompt.value });
    output.append(shown);
    delete output.dataset.tokens;
    setState('generating');
    showStatus(status, 'Generating…');
    send({ type: 'generate', prompt: prompt.value, maxNewTokens, temperature: t, seed: 1 });
  }),
);
downloadButton.addEventListener('click', () => {
  setState('generating');
  send({ type: 'download' });
});
steps.addEventListener('input', () => setState(state));
text.addEventListener('input', countChars);
byId('sample', HTMLButtonElement).addEventListener('click', () => {
  if (text.readOnly) return showStatus(status, 'Press "New model" to train on another text.', true);
  text.value = SAMPLE_TEXT;
  countChars();
});

async function readFile(f: File): Promise<void> {
  if (text.readOnly) return showStatus(status, 'Press "New model" to train on another text.', true);
  if (f.size > 5_000_000) return showStatus(status, `${f.name} is ${(f.size / 1e6).toFixed(1)} MB; the browser trainer takes up to 5 MB of text.`, true);
  text.value = await f.text();
  countChars();
  showStatus(status, `Loaded ${f.name}.`);
}
file.addEventListener('change', () => void (file.files?.[0] && readFile(file.files[0])));
text.addEventListener('dragover', (e) => {
  e.preventDefault();
  text.classList.add('dragging');
});
text.addEventListener('dragleave', () => text.classList.remove('dragging'));
text.addEventListener('drop', (e) => {
  e.preventDefault();
  text.classList.remove('dragging');
  const f = e.dataTransfer?.files[0];
  if (f) void readFile(f);
});

setState('starting');
send({ type: 'init', threads: wantedThreads(), prefer: wantedExecution() });
