/** The model card: a model folder's config, size, tokenizer, training curves and latest evaluation, read by URL. */
import { modelFromConfigJson } from '../../../src/models/registry.js';
import { countParams } from '../../../src/nn/params.js';
import { fromTokenizerJson } from '../../../src/tokenizers/from-json.js';
import type { TokenizerJson } from '../../../src/tokenizers/tokenizer.js';
import { byId, showStatus } from '../lib/dom.js';
import { LineChart } from '../lib/line-chart.js';

interface ScoreRow { name: string; loss: number; perplexity: number; bitsPerCharacter: number; top1?: number; top5?: number }
interface EvalReport { data?: { source?: string; evaluatedTokens?: number }; scores?: ScoreRow[] }

const urlInput = byId('model-url', HTMLInputElement);
const status = byId('status', HTMLElement);
const stat = (id: string, text: string) => (byId(`stat-${id}`, HTMLElement).textContent = text);
const TOKENIZER_NAMES = { char: 'characters', word: 'words', bpe: 'byte-level BPE' } as const;

/** A file of the folder: its text, or undefined when the folder has none (404). */
async function fetchText(base: URL, name: string): Promise<string | undefined> {
  const url = new URL(name, base);
  const res = await fetch(url);
  if (res.status === 404) return undefined;
  if (!res.ok) throw new Error(`${url.href}: HTTP ${res.status}`);
  return res.text();
}

function parse(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error(`${where} is not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
}

async function show(base: URL): Promise<void> {
  const need = async (name: string) => {
    const t = await fetchText(base, name);
    if (t === undefined) throw new Error(`${new URL(name, base).href} does not exist`);
    return t;
  };
  const config = parse(await need('config.json'), 'config.json');
  const model = modelFromConfigJson(config, new URL('config.json', base).href);
  const tokenizer = fromTokenizerJson(parse(await need('tokenizer.json'), 'tokenizer.json') as Partial<TokenizerJson> | null);
  stat('type', String((config as Record<string, unknown>).model_type));
  stat('params', countParams(model.specs).toLocaleString('en'));
  stat('tokenizer', TOKENIZER_NAMES[tokenizer.kind]);
  stat('vocab', tokenizer.vocabSize.toLocaleString('en'));
  byId('config', HTMLElement).textContent = JSON.stringify(config, null, 2);

  const metrics = await fetchText(base, 'metrics.jsonl');
  if (metrics !== undefined) {
    const chart = new LineChart(byId('curves', HTMLElement), [{ label: 'training loss', color: '#2f5fd0' }, { label: 'validation loss', color: '#d9480f', points: true }], { x: 'step', y: 'loss (nats)' });
    metrics.split('\n').forEach((line, i) => {
      if (!line.trim()) return;
      const r = parse(line, `metrics.jsonl line ${i + 1}`) as { step: number; loss?: number; val_loss?: number };
      if (r.loss !== undefined) chart.add(0, r.step, r.loss);
      if (r.val_loss !== undefined) chart.add(1, r.step, r.val_loss);
    });
  }

  const evalText = await fetchText(base, 'eval.json');
  if (evalText !== undefined) {
    const report = parse(evalText, 'eval.json') as EvalReport;
    const table = document.createElement('table');
    const row = (cells: string[], head = false) => {
      const tr = table.insertRow();
      for (const c of cells) tr.append(Object.assign(document.createElement(head ? 'th' : 'td'), { textContent: c }));
    };
    row(['', 'loss', 'perplexity', 'bits/char', 'top-1', 'top-5'], true);
    const pct = (v?: number) => (v === undefined ? '–' : `${(100 * v).toFixed(1)}%`);
    for (const s of report.scores ?? []) row([s.name, s.loss.toFixed(4), s.perplexity.toFixed(2), s.bitsPerCharacter.toFixed(3), pct(s.top1), pct(s.top5)]);
    const caption = table.createCaption();
    caption.className = 'hint';
    caption.textContent = `${report.data?.evaluatedTokens?.toLocaleString('en') ?? '?'} tokens of ${report.data?.source ?? 'held-out text'}`;
    byId('eval', HTMLElement).replaceChildren(table);
  }
  byId('card', HTMLElement).hidden = false;
  byId('model-name', HTMLElement).textContent = `— ${base.pathname}`;
  document.body.dataset.model = 'shown';
}

byId('load', HTMLButtonElement).addEventListener('click', () => {
  const value = urlInput.value.trim();
  if (!value) return showStatus(status, 'Enter the URL of a model folder.', true);
  const base = new URL(value.replace(/\/?$/, '/'), location.href);
  showStatus(status, `Reading ${base.href}…`);
  show(base).then(
    () => showStatus(status, `Showing ${base.href}.`),
    (err: unknown) => showStatus(status, `Cannot show the model: ${err instanceof Error ? err.message : String(err)}`, true),
  );
});

const fromQuery = new URLSearchParams(location.search).get('model');
if (fromQuery) {
  urlInput.value = fromQuery;
  byId('load', HTMLButtonElement).click();
}
