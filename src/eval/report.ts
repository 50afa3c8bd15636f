/** The evaluation report as Markdown and as an SVG chart of loss by position in the context window. */
import type { EvalReport } from './evaluate.js';
import { lineChart, type Series } from './plot.js';

const n4 = (v: number) => (Number.isFinite(v) ? v.toFixed(4) : '–');
const n2 = (v: number) => (Number.isFinite(v) ? v.toFixed(2) : '–');
const pct = (v: number | undefined) => (v === undefined ? '–' : `${(100 * v).toFixed(1)}%`);
const int = (v: number) => v.toLocaleString('en-US');
/** Table cells and quotes must stay on one line and not close the table. */
const inline = (s: string) => s.replace(/\s+/g, ' ').replace(/\|/g, '\\|').trim();

export function reportMarkdown(r: EvalReport): string {
  const m = r.model;
  const lines: string[] = [
    `# Evaluation of \`${m.dir}\``,
    '',
    `- model: ${m.type}, ${int(m.parameters)} parameters, vocabulary ${int(m.vocabSize)} (${m.tokenizer} tokenizer)`,
    `- text: ${r.data.source} — ${int(r.data.evaluatedTokens)} tokens scored, ${int(r.data.characters)} characters, ${int(r.data.unknownTokens)} unknown (<unk>) tokens`,
    r.data.trainTokens === null ? '- training text: not available' : `- training text: ${int(r.data.trainTokens)} tokens`,
    '',
    '## Loss on held-out text',
    '',
    'Bits per character (total loss over the text ÷ characters ÷ ln 2) compares models with different tokenizers, and with general-purpose compressors (their output bits ÷ the same characters).',
    '',
    '| model | loss (nats/token) | perplexity | bits/token | bits/char | top-1 | top-5 |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...r.scores.map((s) => `| ${s.name} | ${n4(s.loss)} | ${n2(s.perplexity)} | ${n4(s.bitsPerToken)} | ${n4(s.bitsPerCharacter)} | ${pct(s.top1)} | ${pct(s.top5)} |`),
    ...r.compressors.map((c) => `| ${c.name} (${c.tool}, ${int(c.bytes)} bytes) | – | – | – | ${n4(c.bitsPerCharacter)} | – | – |`),
  ];
  const c = r.comparison;
  if (c) {
    const mem = (x: { memorisation?: { longest: number; mean: number } }) => (x.memorisation ? `${x.memorisation.longest} / ${n2(x.memorisation.mean)}` : '–');
    lines.push(
      '',
      '## Compared with the original',
      '',
      `${c.passages} held-out passages (seed ${c.seed}): the model continues the first ${c.promptTokens} tokens of each for ${c.newTokens} tokens, scored against what follows in the text. ` +
        'BLEU-4 is corpus BLEU with NLTK method1 smoothing; ROUGE-L is the mean LCS F1; both and distinct-n count words. ' +
        'The longest shared run is the longest token sequence also found in the training text (max / mean over passages).',
      '',
      '| continuation | BLEU-4 | ROUGE-L | distinct-1 | distinct-2 | distinct-3 | longest shared run | tokens/s |',
      '|---|---:|---:|---:|---:|---:|---:|---:|',
      ...c.decodings.map((d) => `| ${d.decoding} | ${n4(d.bleu4)} | ${n4(d.rougeL)} | ${d.distinct.map(n4).join(' | ')} | ${mem(d)} | ${d.tokensPerSecond.toFixed(1)} |`),
      `| original text | – | – | ${c.reference.distinct.map(n4).join(' | ')} | ${mem(c.reference)} | – |`,
    );
    const longest = c.decodings.filter((d) => d.memorisation && d.memorisation.longest > 0).sort((a, b) => b.memorisation!.longest - a.memorisation!.longest)[0];
    if (longest) lines.push('', `Longest run shared with the training text (${longest.decoding}, ${longest.memorisation!.longest} tokens): “${inline(longest.memorisation!.longestText)}”`);
    lines.push('', '### Samples', '');
    c.samples.forEach((s, i) => {
      lines.push(`**Passage ${i + 1}** (token ${int(s.offset)})`, '', `> ${inline(s.prompt)}`, '', `- original: ${inline(s.reference)}`);
      for (const [decoding, text] of Object.entries(s.generated)) lines.push(`- ${decoding}: ${inline(text)}`);
      lines.push('');
    });
  }
  if (r.notes.length) lines.push('', '## Notes', '', ...r.notes.map((n) => `- ${n}`));
  lines.push('', `Evaluated in ${r.seconds.toFixed(1)} s.`, '');
  return lines.join('\n');
}

/** Model loss by position within the context window, with each baseline's overall loss as a flat dashed line. */
export function reportChart(r: EvalReport): string {
  const positions = r.perplexity.perPositionLoss;
  const last = Math.max(positions.length - 1, 1);
  const series: Series[] = [{ name: 'this model', points: positions.map((v, t) => [t, v] as [number, number]) }];
  for (const s of r.scores.slice(1)) series.push({ name: `${s.name} (overall)`, points: [[0, s.loss], [last, s.loss]], dashed: true });
  return lineChart(series, { title: `loss by position in the context window (${r.model.type})`, xLabel: 'position in window', yLabel: 'loss (nats/token)' });
}
