import cliProgress from 'cli-progress';

/** A progress display for long work: a cli-progress bar on stderr when it is a terminal, silent otherwise. */
export interface Progress {
  start(total: number, label: string): void;
  update(value: number, label?: string): void;
  stop(): void;
}

export function createProgress(stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!stream.isTTY) return { start() {}, update() {}, stop() {} };
  const bar = new cliProgress.SingleBar(
    { stream, format: '{bar} {percentage}% | {value}/{total} | {label}', hideCursor: true, clearOnComplete: true },
    cliProgress.Presets.shades_classic,
  );
  let running = false;
  return {
    start(total, label) {
      bar.start(total, 0, { label });
      running = true;
    },
    update(value, label) {
      if (running) bar.update(value, label === undefined ? {} : { label });
    },
    stop() {
      if (running) bar.stop();
      running = false;
    },
  };
}
