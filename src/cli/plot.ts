/** `inkwell plot RUN_DIR...`: training and validation loss curves of one or more runs, as SVG and PNG. */
import path from 'node:path';
import type { Command } from 'commander';
import { svgToPng } from '../eval/png.js';
import { readRunCurves, runCurvesChart } from '../eval/run-curves.js';
import { InkwellError } from '../utils/errors.js';
import { writeFileAtomic } from '../utils/fs.js';
import { fractionOption, intOption, LIMITS } from './options.js';

interface PlotFlags {
  out?: string[];
  title?: string;
  logY?: boolean;
  smooth: number;
  width: number;
  height: number;
}

export function register(program: Command): void {
  program
    .command('plot')
    .description('draw the loss curves of training runs (several runs share one chart)')
    .argument('<runs...>', 'run directories containing metrics.jsonl')
    .option('--out <files...>', 'output files, .svg or .png by extension (default: loss.svg and loss.png in the first run)')
    .option('--title <text>', 'chart title')
    .option('--log-y', 'logarithmic loss axis')
    .option('--smooth <a>', 'exponential smoothing of training curves, in [0, 1)', fractionOption, 0)
    .option('--width <px>', `width in pixels, up to ${LIMITS.pixels}`, intOption(200, LIMITS.pixels), 900)
    .option('--height <px>', `height in pixels, up to ${LIMITS.pixels}`, intOption(150, LIMITS.pixels), 540)
    .action(async (runs: string[], flags: PlotFlags) => {
      const outs = flags.out ?? ['loss.svg', 'loss.png'].map((f) => path.join(runs[0]!, f));
      for (const out of outs) {
        if (!/\.(svg|png)$/i.test(out)) throw new InkwellError(`--out ${out}: the file name must end in .svg or .png`);
      }
      // Label runs by directory name, or by the path as given when two names clash (e.g. a/best and b/best).
      const base = runs.map((r) => path.basename(path.resolve(r)));
      const curves = runs.map((r, i) => readRunCurves(r, base.indexOf(base[i]!) === base.lastIndexOf(base[i]!) ? base[i] : r.replace(/\/+$/, '')));
      const empty = runs.filter((_, i) => curves[i]!.train.length + curves[i]!.val.length === 0);
      if (empty.length) throw new InkwellError(`no loss records in ${empty.map((r) => path.join(r, 'metrics.jsonl')).join(', ')}`);
      const svg = runCurvesChart(curves, { smoothing: flags.smooth, logY: flags.logY, width: flags.width, height: flags.height, ...(flags.title ? { title: flags.title } : {}) });
      for (const out of outs) {
        writeFileAtomic(out, /\.png$/i.test(out) ? await svgToPng(svg) : svg);
        console.log(out);
      }
    });
}
