/**
 * The model card (README.md) of a Hugging Face folder: the Hub's YAML front
 * matter, then the architecture, the training run and the evaluation, each
 * from the files the run left (see run-record.ts).
 *
 * The front matter's values are written as JSON, which is also YAML (flow
 * style), so strings never need YAML quoting rules.
 */
import type { EvalReport } from '../eval/evaluate.js';
import type { ModelBundle } from '../io/model-dir.js';
import { countParams } from '../nn/params.js';
import { plainModel } from '../models/registry.js';
import type { TrainingRecord } from './run-record.js';

export interface ModelCardOptions {
  name: string;
  license: string;
  datasets: readonly string[];
  training?: TrainingRecord;
  evaluation?: EvalReport;
  /** File name of the loss-curve image in the folder, when there is one. */
  lossCurve?: string;
}

const int = (v: number) => Math.round(v).toLocaleString('en-US');
const f4 = (v: number | null) => (v === null ? '–' : v.toFixed(4));

export function modelCard(bundle: ModelBundle, o: ModelCardOptions): string {
  const config = plainModel(bundle.model, 'hf').configJson();
  const params = countParams(bundle.model.specs);
  const modelType = String(config.model_type);
  // What the Hub and transformers load as they are: GPT-2 (GPT2LMHeadModel); LSTM/GRU folders are PyTorch state dicts.
  const isGpt = modelType === 'gpt2';
  const front: Record<string, unknown> = {
    library_name: isGpt ? 'transformers' : 'pytorch',
    license: o.license,
    ...(o.datasets.length ? { datasets: o.datasets } : {}),
    metrics: ['perplexity'],
    tags: ['inkwell', 'text-generation', modelType],
    pipeline_tag: 'text-generation',
  };
  const model = o.evaluation?.scores[0];
  if (model && o.evaluation) {
    front['model-index'] = [
      {
        name: o.name,
        results: [
          {
            task: { type: 'text-generation', name: 'Text generation' },
            dataset: { type: o.datasets[0] ?? 'text', name: o.evaluation.data.source },
            metrics: [
              { type: 'perplexity', value: round(model.perplexity), name: 'Perplexity' },
              { type: 'loss', value: round(model.loss), name: 'Loss (nats/token)' },
              { type: 'bits_per_character', value: round(model.bitsPerCharacter), name: 'Bits per character' },
            ],
          },
        ],
      },
    ];
  }
  const lines = ['---', ...Object.entries(front).map(([k, v]) => `${k}: ${JSON.stringify(v)}`), '---', '', `# ${o.name}`, ''];
  lines.push(
    `A ${isGpt ? 'GPT-2-style transformer' : `${modelType.toUpperCase()} language model`} with ${int(params)} parameters, trained with inkwell (TypeScript, ONNX Runtime).`,
    '',
    '## Architecture',
    '',
    '| | |',
    '|---|---|',
  );
  const c = config;
  if (isGpt) {
    lines.push(`| type | GPT-2 (\`GPT2LMHeadModel\`, tied LM head, gelu_new) |`, `| layers × heads × width | ${c.n_layer} × ${c.n_head} × ${c.n_embd} |`, `| context | ${c.n_positions} tokens |`);
  } else {
    const cell = modelType.toUpperCase();
    lines.push(`| type | ${cell} (PyTorch nn.${cell} layout) |`, `| layers × hidden | ${c.num_layers} × ${c.hidden_size} |`, `| embedding | ${c.embedding_dim}${c.tie_word_embeddings ? ' (tied to the head)' : ''} |`);
  }
  lines.push(`| vocabulary | ${int(bundle.model.vocabSize)} (${bundle.tokenizer.kind} tokenizer, \`tokenizer.json\`) |`, `| parameters | ${int(params)} |`, '');
  lines.push(...trainingSection(o), ...evaluationSection(o.evaluation), ...usageSection(isGpt, modelType));
  return lines.join('\n') + '\n';
}

function trainingSection(o: ModelCardOptions): string[] {
  const t = o.training;
  if (!t) return ['## Training', '', 'No training record (metrics.jsonl) was found beside this model.', ''];
  const rows: Array<[string, string]> = [['steps', int(t.steps)]];
  if (t.tokens !== null) rows.push(['tokens seen', int(t.tokens)]);
  if (t.seconds !== null) rows.push(['wall time', `${(t.seconds / 60).toFixed(1)} min`]);
  if (t.optimizer) rows.push(['optimizer', t.optimizer]);
  rows.push(['final training loss', f4(t.finalTrainLoss)]);
  if (t.finalValLoss !== null) rows.push(['final validation loss', f4(t.finalValLoss)], ['best validation loss', f4(t.bestValLoss)]);
  return [
    '## Training',
    '',
    ...(o.datasets.length ? [`Data: ${o.datasets.join(', ')}.`, ''] : []),
    ...(t.corpus ? [`Token cache: ${int(t.corpus.trainTokens)} training and ${int(t.corpus.valTokens)} validation tokens from ${t.corpus.documents.length} document${t.corpus.documents.length === 1 ? '' : 's'} (${t.corpus.documents.slice(0, 20).join(', ')}${t.corpus.documents.length > 20 ? ', …' : ''}).`, ''] : []),
    '| | |',
    '|---|---|',
    ...rows.map(([k, v]) => `| ${k} | ${v} |`),
    '',
    ...(o.lossCurve ? [`![Training and validation loss](${o.lossCurve})`, ''] : []),
  ];
}

function evaluationSection(r: EvalReport | undefined): string[] {
  if (!r) return [];
  return [
    '## Evaluation',
    '',
    `\`inkwell eval\` on ${r.data.source} (${int(r.data.evaluatedTokens)} tokens), beside count-based baselines on the same tokens:`,
    '',
    '| model | loss (nats/token) | perplexity | bits/char |',
    '|---|---:|---:|---:|',
    ...r.scores.map((s) => `| ${s.name} | ${s.loss.toFixed(4)} | ${s.perplexity.toFixed(2)} | ${s.bitsPerCharacter.toFixed(4)} |`),
    '',
  ];
}

function usageSection(isGpt: boolean, modelType: string): string[] {
  if (!isGpt) {
    const cell = modelType.toUpperCase();
    return ['## Use', '', `\`model.safetensors\` holds PyTorch \`nn.Embedding\`, \`nn.${cell}\` (batch_first) and \`nn.Linear\` tensors under their state-dict names (\`config.json\` gives the sizes); \`inkwell generate --model .\` runs it, and \`inkwell export --format onnx\` makes an onnxruntime-web decoder.`, ''];
  }
  return [
    '## Use',
    '',
    '```python',
    'from transformers import AutoModelForCausalLM, AutoTokenizer',
    'tok = AutoTokenizer.from_pretrained("PATH_OR_REPO")',
    'model = AutoModelForCausalLM.from_pretrained("PATH_OR_REPO")',
    'ids = model.generate(**tok("Once upon a time", return_tensors="pt"), max_new_tokens=50, do_sample=True, top_k=40)',
    'print(tok.decode(ids[0]))',
    '```',
    '',
    'For transformers.js, llama.cpp or onnxruntime-web, export it with `inkwell export --format transformers.js | gguf | onnx`.',
    '',
  ];
}

const round = (v: number) => Number(v.toFixed(4));
