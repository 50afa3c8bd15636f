/**
 * The training dashboard: a run's metrics and samples as server-sent events (see
 * web/server/run-events.ts), from `?events=URL`, else `runs/<?run=NAME>/events`
 * on the serving site.
 */
import { byId, showStatus } from '../lib/dom.js';
import { LineChart } from '../lib/line-chart.js';

interface MetricsRecord {
  step: number;
  loss?: number;
  lr?: number;
  tokens_per_s?: number;
  elapsed_s?: number;
  val_loss?: number;
  best_val_loss?: number;
}

interface SampleRecord {
  step: number;
  prompt: string;
  text: string;
}

const params = new URLSearchParams(location.search);
const run = params.get('run');
const status = byId('status', HTMLElement);
const stat = (id: string, text: string) => (byId(`stat-${id}`, HTMLElement).textContent = text);
const loss = new LineChart(byId('loss-chart', HTMLElement), [{ label: 'training loss', color: '#2f5fd0' }, { label: 'validation loss', color: '#d9480f', points: true }], { x: 'step', y: 'loss (nats)' });
const lr = new LineChart(byId('lr-chart', HTMLElement), [{ label: 'learning rate', color: '#2b8a3e' }], { x: 'step', y: 'learning rate', yTicks: (v) => v.toExponential(1) });
const samples = byId('samples', HTMLOListElement);
const noSamples = samples.firstElementChild!;
/** Validation loss by step, shown beside that step's sample. */
const valLoss = new Map<number, number>();
let maxSteps: number | null = null;
let last: MetricsRecord | undefined;

const duration = (s: number) => (s < 60 ? `${s.toFixed(0)} s` : s < 3600 ? `${Math.floor(s / 60)} min ${Math.round(s % 60)} s` : `${(s / 3600).toFixed(1)} h`);

function showEta(): void {
  if (!last?.elapsed_s || maxSteps === null || last.step <= 0) return;
  const left = Math.max(0, maxSteps - last.step);
  stat('eta', left === 0 ? 'done' : duration((last.elapsed_s / last.step) * left));
  stat('step', `${last.step} / ${maxSteps}`);
}

function onRecord(r: MetricsRecord): void {
  if (r.loss !== undefined) {
    last = r;
    loss.add(0, r.step, r.loss);
    if (r.lr !== undefined) lr.add(0, r.step, r.lr);
    stat('step', maxSteps === null ? String(r.step) : `${r.step} / ${maxSteps}`);
    stat('loss', r.loss.toFixed(4));
    if (r.lr !== undefined) stat('lr', r.lr.toExponential(2));
    if (r.tokens_per_s !== undefined) stat('tps', Math.round(r.tokens_per_s).toLocaleString('en'));
    if (r.elapsed_s !== undefined) stat('elapsed', duration(r.elapsed_s));
    showEta();
  }
  if (r.val_loss !== undefined) {
    loss.add(1, r.step, r.val_loss);
    valLoss.set(r.step, r.val_loss);
    stat('val', `${r.val_loss.toFixed(4)} (${r.best_val_loss?.toFixed(4) ?? '–'})`);
  }
  document.body.dataset.lossPoints = String(loss.count(0));
  if (last) document.body.dataset.lastStep = String(last.step);
  document.body.dataset.valPoints = String(loss.count(1));
}

/** A sample as the newest item of the list: step beside it, the prompt set apart from what the model wrote. */
function onSample(s: SampleRecord): void {
  noSamples.remove();
  const item = document.createElement('li');
  item.className = 'sample';
  const step = document.createElement('span');
  step.className = 'sample-step';
  step.textContent = `step ${s.step}`;
  const val = valLoss.get(s.step);
  if (val !== undefined) {
    const hint = document.createElement('span');
    hint.className = 'hint';
    hint.textContent = `val loss ${val.toFixed(3)}`;
    step.append(hint);
  }
  const text = document.createElement('p');
  text.className = 'sample-text';
  const prompt = document.createElement('span');
  prompt.className = 'prompt';
  prompt.textContent = s.prompt;
  text.append(prompt, s.text);
  item.append(step, text);
  samples.prepend(item);
  document.body.dataset.samples = String(samples.querySelectorAll('.sample').length);
  document.body.dataset.lastSampleStep = String(s.step);
}

const url = params.get('events') ?? (run ? `runs/${encodeURIComponent(run)}/events` : null);
if (!url) {
  showStatus(status, 'Name a run: dashboard.html?run=NAME (or ?events=URL of a run\'s event stream).', true);
} else {
  byId('run-name', HTMLElement).textContent = run ? `— ${run}` : '';
  const events = new EventSource(url);
  events.addEventListener('open', () => showStatus(status, `Live: ${new URL(url, location.href).pathname}`));
  events.addEventListener('record', (e) => onRecord(JSON.parse((e as MessageEvent<string>).data) as MetricsRecord));
  events.addEventListener('state', (e) => {
    const s = JSON.parse((e as MessageEvent<string>).data) as { maxSteps: number | null };
    maxSteps = s.maxSteps;
    showEta();
  });
  events.addEventListener('sample', (e) => onSample(JSON.parse((e as MessageEvent<string>).data) as SampleRecord));
  events.addEventListener('reset', (e) => {
    const { file } = JSON.parse((e as MessageEvent<string>).data) as { file?: string };
    if (file === 'samples.jsonl') {
      samples.replaceChildren(noSamples);
      delete document.body.dataset.samples;
      return;
    }
    loss.clear();
    lr.clear();
    valLoss.clear();
  });
  // The server closes the stream on purpose (inkwell train --ui when its run ends): no reconnecting to a server that is gone.
  events.addEventListener('end', (e) => {
    events.close();
    const { reason } = JSON.parse((e as MessageEvent<string>).data) as { reason: string };
    showStatus(status, `Stopped: ${reason}. The charts hold the whole run.`);
    document.body.dataset.stream = 'ended';
  });
  events.addEventListener('error', () => showStatus(status, events.readyState === EventSource.CLOSED ? 'The event stream closed.' : 'Reconnecting…', events.readyState === EventSource.CLOSED));
}
