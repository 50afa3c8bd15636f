/** The live loss curve (uPlot), sized to its container and redrawn at most once per frame. */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export class LossChart {
  private plot: uPlot | undefined;
  private readonly steps: number[] = [];
  private readonly losses: number[] = [];
  private pending = false;

  constructor(private readonly el: HTMLElement) {
    new ResizeObserver(() => this.plot?.setSize(this.size())).observe(el);
  }

  /** Replaces the curve (e.g. a run restored from IndexedDB). */
  reset(points: ReadonlyArray<readonly [number, number]>): void {
    this.steps.length = 0;
    this.losses.length = 0;
    for (const [s, l] of points) this.add(s, l);
    if (points.length === 0) {
      this.plot?.destroy();
      this.plot = undefined;
      this.el.innerHTML = '<div class="empty">The loss curve appears here while training.</div>';
      this.describe();
    }
  }

  add(step: number, loss: number): void {
    this.steps.push(step);
    this.losses.push(loss);
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.draw();
    });
  }

  private draw(): void {
    if (!this.plot && this.steps.length > 0) {
      this.el.innerHTML = '';
      this.plot = new uPlot(
        {
          ...this.size(),
          scales: { x: { time: false } },
          axes: [{ label: 'step' }, { label: 'loss (nats)' }],
          series: [{ label: 'step' }, { label: 'training loss', stroke: '#2f5fd0', width: 2 }],
          // One series, named by the axis label: a legend would only repeat it.
          legend: { show: false },
        },
        [this.steps, this.losses],
        this.el,
      );
    } else {
      this.plot?.setData([this.steps, this.losses]);
    }
    this.describe();
  }

  /** The curve in words and data attributes, for screen readers (and the end-to-end tests). */
  private describe(): void {
    const n = this.losses.length;
    this.el.setAttribute('role', 'img');
    this.el.setAttribute('aria-label', n ? `Training loss over ${n} steps: ${this.losses[0]!.toFixed(3)} at first, ${this.losses[n - 1]!.toFixed(3)} now` : 'Training loss: no steps yet');
    this.el.dataset.points = String(n);
    this.el.dataset.firstLoss = n ? String(this.losses[0]) : '';
    this.el.dataset.lastLoss = n ? String(this.losses[n - 1]) : '';
  }

  private size(): { width: number; height: number } {
    const width = Math.max(240, this.el.clientWidth);
    return { width, height: width < 500 ? 200 : 260 };
  }
}
