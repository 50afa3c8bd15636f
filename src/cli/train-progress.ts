/**
 * Training progress: a live bar (step, loss, lr, tokens/s, ETA) on a terminal,
 * plain log lines otherwise (CI, pipes), one line per evaluation and one per
 * sample (its start, quoted as JSON so that its newlines stay on the line).
 */
import cliProgress from 'cli-progress';
import type { EvalInfo, SampleInfo, StepInfo, TrainerEvents } from '../train/trainer.js';

/** Characters of a sample shown on its one log line (samples.jsonl has it whole). */
const SAMPLE_CHARS = 100;

export function trainProgress(totalSteps: number, startStep: number, stream: NodeJS.WriteStream = process.stderr): TrainerEvents & { stop(): void } {
  const tty = Boolean(stream.isTTY);
  const bar = tty
    ? new cliProgress.SingleBar(
        { stream, format: '{bar} {value}/{total} | loss {loss} | lr {lr} | {tps} tok/s | ETA {eta_formatted}', hideCursor: true, etaBuffer: 50 },
        cliProgress.Presets.shades_classic,
      )
    : null;
  bar?.start(totalSteps, startStep, { loss: '-', lr: '-', tps: '-' });
  // On a terminal, clear the bar's line first; the bar redraws itself on the next update.
  const line = (s: string) => stream.write(bar ? `\r\x1b[2K${s}\n` : `${s}\n`);
  let lastPrinted = startStep;
  return {
    onStep(s: StepInfo) {
      if (bar) {
        bar.update(s.step, { loss: s.loss.toFixed(4), lr: s.lr.toExponential(2), tps: Math.round(s.tokensPerSecond) });
      } else if (s.step - lastPrinted >= Math.max(1, Math.floor(totalSteps / 20)) || s.step === totalSteps) {
        lastPrinted = s.step;
        line(`step ${s.step}/${totalSteps}  loss ${s.loss.toFixed(4)}  lr ${s.lr.toExponential(2)}  ${Math.round(s.tokensPerSecond)} tok/s  ${s.elapsedSeconds.toFixed(0)}s`);
      }
    },
    onEval(e: EvalInfo) {
      line(`step ${e.step}: val loss ${e.valLoss.toFixed(4)}${e.improved ? ' (best)' : `, best ${e.bestValLoss.toFixed(4)}`}`);
    },
    onSample(s: SampleInfo) {
      const text = s.prompt + s.text;
      line(`step ${s.step} sample: ${JSON.stringify(text.length > SAMPLE_CHARS ? text.slice(0, SAMPLE_CHARS) + '…' : text)}`);
    },
    stop() {
      bar?.stop();
    },
  };
}
