/** Several named series over one x axis (uPlot), points added one by one, redrawn at most once per frame. */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface SeriesSpec {
  label: string;
  color: string;
  /** Draw points as well as the line (sparse series, e.g. validation loss). */
  points?: boolean;
}

export class LineChart {
  private plot: uPlot | undefined;
  private readonly values: Array<Map<number, number>>;
  private pending = false;
  /** What the element shows before the first point (and again after clear()). */
  private readonly placeholder: string;

  constructor(
    private readonly el: HTMLElement,
    private readonly series: readonly SeriesSpec[],
    private readonly axes: { x: string; y: string; log?: boolean; /** Tick labels of the y axis (default: uPlot's). */ yTicks?: (v: number) => string },
  ) {
    this.values = series.map(() => new Map());
    this.placeholder = el.innerHTML;
    new ResizeObserver(() => this.plot?.setSize(this.size())).observe(el);
  }

  add(series: number, x: number, y: number): void {
    this.values[series]!.set(x, y);
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.draw();
    });
  }

  clear(): void {
    for (const v of this.values) v.clear();
    this.plot?.destroy();
    this.plot = undefined;
    this.el.innerHTML = this.placeholder;
    this.series.forEach((_, i) => (this.el.dataset[`points${i}`] = '0'));
  }

  /** Points in series i (also as data-points-i on the element, for tests and scripts). */
  count(i: number): number {
    return this.values[i]!.size;
  }

  private draw(): void {
    const xs = [...new Set(this.values.flatMap((v) => [...v.keys()]))].sort((a, b) => a - b);
    const data: uPlot.AlignedData = [xs, ...this.values.map((v) => xs.map((x) => v.get(x) ?? null))];
    if (!this.plot && xs.length) {
      this.el.innerHTML = '';
      this.plot = new uPlot(
        {
          ...this.size(),
          scales: { x: { time: false }, ...(this.axes.log ? { y: { distr: 3 } } : {}) },
          axes: [{ label: this.axes.x }, { label: this.axes.y, ...(this.axes.yTicks ? { values: (_u: uPlot, ticks: number[]) => ticks.map(this.axes.yTicks!), size: 70 } : {}) }],
          // A legend names the series when there are several; one is named by its axis.
          legend: { show: this.series.length > 1 },
          series: [{ label: this.axes.x }, ...this.series.map((s) => ({ label: s.label, stroke: s.color, width: 2, spanGaps: true, points: { show: s.points ?? false } }))],
        },
        data,
        this.el,
      );
    } else {
      this.plot?.setData(data);
    }
    this.series.forEach((_, i) => (this.el.dataset[`points${i}`] = String(this.values[i]!.size)));
  }

  private size(): { width: number; height: number } {
    const width = Math.max(240, this.el.clientWidth);
    return { width, height: width < 500 ? 200 : 260 };
  }
}
