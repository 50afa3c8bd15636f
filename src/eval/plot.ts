/**
 * A small, dependency-free SVG line chart: several named series, axes with
 * round-number ticks (linear or log y), grid lines and a legend. Enough for
 * loss curves and per-position losses; the SVG is self-contained, opens in
 * any browser and converts to PNG with svgToPng.
 */

export interface Series {
  name: string;
  /** [x, y] pairs; points with a non-finite coordinate (or y ≤ 0 on a log axis) are skipped. */
  points: ReadonlyArray<readonly [number, number]>;
  dashed?: boolean;
  /** CSS colour; default: the next colour of the palette. */
  color?: string;
}

export interface ChartOptions {
  title?: string;
  xLabel?: string;
  yLabel?: string;
  width?: number;
  height?: number;
  logY?: boolean;
}

/** Tableau 10: distinct colours that stay distinguishable for most colour-blind readers. */
export const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];

const FONT = 'DejaVu Sans, Helvetica, Arial, sans-serif';
const MARGIN = { left: 64, right: 16, top: 36, bottom: 48 };

export function lineChart(series: readonly Series[], o: ChartOptions = {}): string {
  const width = o.width ?? 800;
  const height = o.height ?? 480;
  const plotW = width - MARGIN.left - MARGIN.right;
  const plotH = height - MARGIN.top - MARGIN.bottom;
  const usable = (p: readonly [number, number]) => Number.isFinite(p[0]) && Number.isFinite(p[1]) && (!o.logY || p[1] > 0);
  const clean = series.map((s, i) => ({ ...s, color: s.color ?? PALETTE[i % PALETTE.length]!, points: s.points.filter(usable) }));
  const all = clean.flatMap((s) => s.points);

  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${FONT}" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
  ];
  if (o.title) out.push(text(width / 2, 22, o.title, { anchor: 'middle', size: 15, weight: 'bold' }));
  if (all.length === 0) {
    out.push(text(width / 2, height / 2, 'no data', { anchor: 'middle', size: 14, fill: '#666' }));
    return out.concat('</svg>').join('\n') + '\n';
  }

  // The x axis spans the data exactly (steps, positions); only y is widened to round numbers.
  const xLo = Math.min(...all.map((p) => p[0]));
  const xHi = Math.max(...all.map((p) => p[0]));
  const xs = axis(xLo, xHi, false);
  if (xHi > xLo) Object.assign(xs, { min: xLo, max: xHi, ticks: xs.ticks.filter((t) => t >= xLo && t <= xHi) });
  const ys = axis(Math.min(...all.map((p) => p[1])), Math.max(...all.map((p) => p[1])), o.logY ?? false);
  const px = (x: number) => MARGIN.left + ((x - xs.min) / (xs.max - xs.min)) * plotW;
  const py = (y: number) => MARGIN.top + plotH - ((ys.map(y) - ys.map(ys.min)) / (ys.map(ys.max) - ys.map(ys.min))) * plotH;
  const bottom = MARGIN.top + plotH;

  for (const t of ys.ticks) {
    out.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left + plotW}" y1="${f(py(t))}" y2="${f(py(t))}" stroke="#e5e5e5"/>`);
    out.push(text(MARGIN.left - 6, py(t) + 4, formatTick(t), { anchor: 'end' }));
  }
  for (const t of xs.ticks) {
    out.push(`<line x1="${f(px(t))}" x2="${f(px(t))}" y1="${MARGIN.top}" y2="${bottom}" stroke="#f0f0f0"/>`);
    out.push(text(px(t), bottom + 16, formatTick(t), { anchor: 'middle' }));
  }
  out.push(`<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#888"/>`);
  if (o.xLabel) out.push(text(MARGIN.left + plotW / 2, height - 10, o.xLabel, { anchor: 'middle' }));
  if (o.yLabel) out.push(text(16, MARGIN.top + plotH / 2, o.yLabel, { anchor: 'middle', rotate: true }));

  for (const s of clean) {
    const dash = s.dashed ? ' stroke-dasharray="6 4"' : '';
    if (s.points.length === 1) {
      const [x, y] = s.points[0]!;
      out.push(`<circle cx="${f(px(x))}" cy="${f(py(y))}" r="3" fill="${s.color}"/>`);
    } else if (s.points.length > 1) {
      const d = s.points.map(([x, y], i) => `${i ? 'L' : 'M'}${f(px(x))},${f(py(y))}`).join('');
      out.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.6"${dash}/>`);
    }
  }

  // Legend: top right, inside the plot area, on a translucent background.
  const named = clean.filter((s) => s.name);
  if (named.length > 0) {
    const rowH = 16;
    const boxW = Math.min(plotW - 8, 40 + 7 * Math.max(...named.map((s) => s.name.length)));
    const x0 = MARGIN.left + plotW - boxW - 6;
    const y0 = MARGIN.top + 6;
    out.push(`<rect x="${f(x0)}" y="${y0}" width="${f(boxW)}" height="${named.length * rowH + 8}" fill="#ffffff" fill-opacity="0.85" stroke="#ccc"/>`);
    named.forEach((s, i) => {
      const y = y0 + 4 + rowH * i + rowH / 2;
      const dash = s.dashed ? ' stroke-dasharray="6 4"' : '';
      out.push(`<line x1="${f(x0 + 6)}" x2="${f(x0 + 30)}" y1="${y}" y2="${y}" stroke="${s.color}" stroke-width="2"${dash}/>`);
      out.push(text(x0 + 36, y + 4, s.name, {}));
    });
  }
  return out.concat('</svg>').join('\n') + '\n';
}

interface Axis {
  min: number;
  max: number;
  ticks: number[];
  /** Data value → linear plotting coordinate. */
  map: (v: number) => number;
}

/** An axis range widened to round numbers, with 1-2-5 ticks (or powers of ten and their 2× and 5× on a log axis). */
function axis(lo: number, hi: number, log: boolean): Axis {
  if (log) {
    const a = Math.floor(Math.log10(lo));
    const b = Math.max(a + 1, Math.ceil(Math.log10(hi)));
    const candidates: number[] = [];
    for (let e = a; e <= b; e++) for (const m of b - a <= 2 ? [1, 2, 5] : [1]) candidates.push(Number((m * 10 ** e).toPrecision(12)));
    const min = candidates.filter((t) => t <= lo).pop() ?? candidates[0]!;
    const max = candidates.find((t) => t >= hi) ?? candidates[candidates.length - 1]!;
    return { min, max, ticks: candidates.filter((t) => t >= min && t <= max), map: Math.log10 };
  }
  if (lo === hi) {
    const pad = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  const step = niceStep((hi - lo) / 6);
  const min = Math.floor(lo / step) * step;
  const max = Math.ceil(hi / step) * step;
  const ticks: number[] = [];
  for (let t = min; t <= max + step / 2; t += step) ticks.push(Number(t.toPrecision(12)));
  return { min, max, ticks, map: (v) => v };
}

function niceStep(raw: number): number {
  const e = 10 ** Math.floor(Math.log10(raw));
  const m = raw / e;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * e;
}

function formatTick(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(0);
  if (a >= 1000) return `${Number((v / 1000).toPrecision(3))}k`;
  return String(Number(v.toPrecision(3)));
}

function f(v: number): string {
  return v.toFixed(1);
}

function text(x: number, y: number, s: string, o: { anchor?: 'start' | 'middle' | 'end'; size?: number; weight?: string; fill?: string; rotate?: boolean }): string {
  const attrs = [`x="${f(x)}"`, `y="${f(y)}"`];
  if (o.anchor && o.anchor !== 'start') attrs.push(`text-anchor="${o.anchor}"`);
  if (o.size) attrs.push(`font-size="${o.size}"`);
  if (o.weight) attrs.push(`font-weight="${o.weight}"`);
  attrs.push(`fill="${o.fill ?? '#222'}"`);
  if (o.rotate) attrs.push(`transform="rotate(-90 ${f(x)} ${f(y)})"`);
  return `<text ${attrs.join(' ')}>${escapeXml(s)}</text>`;
}

function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}
