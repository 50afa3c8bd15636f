/**
 * The training dashboard's data, for a server to mount (Node side of the web
 * app): a run directory's metrics.jsonl as server-sent events, the lines
 * already written first, then each new line as `inkwell train` appends it.
 *
 *   event: record   data: one metrics.jsonl object ({step, loss, lr, tokens_per_s, elapsed_s, …} or {step, val_loss, best_val_loss})
 *   event: state    data: {step, maxSteps} from trainer_state.json, whenever a checkpoint changes it
 *   event: reset    data: {}  (metrics.jsonl was rewritten, e.g. by a resume: the records that follow replace the earlier ones)
 *   event: end      data: {reason}  (the server is closing, e.g. `inkwell train --ui` after its run: nothing follows)
 */
import fs from 'node:fs';
import type http from 'node:http';
import path from 'node:path';

export interface RunEventsOptions {
  /** How often the files are checked for news (default 200 ms). */
  pollMs?: number;
}

/** An open event stream. */
export interface RunStream {
  /** Sends what the files hold now (the last lines of a run that just ended), then `end`, and closes the stream. */
  end(reason: string): Promise<void>;
}

/** Streams the run's events; undefined when there is no such run (answered 404). `onClose` is told when the stream ends, either side. */
export function streamRunEvents(runDir: string, req: http.IncomingMessage, res: http.ServerResponse, opts: RunEventsOptions = {}, onClose?: () => void): RunStream | undefined {
  if (!fs.existsSync(runDir) || !fs.statSync(runDir).isDirectory()) {
    res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: `run directory ${runDir} does not exist` } }));
    return undefined;
  }
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  // A comment line sends the headers now, so the page knows it is connected before the run logs anything.
  res.write(': inkwell run events\n\n');
  const send = (event: string, data: unknown) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  const metrics = path.join(runDir, 'metrics.jsonl');
  const stateFile = path.join(runDir, 'trainer_state.json');
  let offset = 0;
  let partial = '';
  let stateStamp = '';

  const poll = () => {
    const size = fs.existsSync(metrics) ? fs.statSync(metrics).size : 0;
    if (size < offset) {
      offset = 0;
      partial = '';
      send('reset', {});
    }
    if (size > offset) {
      const fd = fs.openSync(metrics, 'r');
      try {
        const buf = Buffer.alloc(size - offset);
        fs.readSync(fd, buf, 0, buf.length, offset);
        offset = size;
        const lines = (partial + buf.toString('utf8')).split('\n');
        // The last piece is a line still being written (or ''): kept for the next poll.
        partial = lines.pop()!;
        for (const line of lines) {
          if (!line.trim()) continue;
          try {
            send('record', JSON.parse(line));
          } catch {
            send('error', { message: `${metrics}: a line is not JSON: ${line.slice(0, 80)}` });
          }
        }
      } finally {
        fs.closeSync(fd);
      }
    }
    if (fs.existsSync(stateFile)) {
      const stamp = String(fs.statSync(stateFile).mtimeMs);
      if (stamp !== stateStamp) {
        stateStamp = stamp;
        try {
          const s = JSON.parse(fs.readFileSync(stateFile, 'utf8')) as { step?: number; config?: { maxSteps?: number } };
          send('state', { step: s.step ?? null, maxSteps: s.config?.maxSteps ?? null });
        } catch {
          // Caught between a checkpoint's renames: read on the next poll.
          stateStamp = '';
        }
      }
    }
  };
  poll();
  const timer = setInterval(poll, opts.pollMs ?? 200);
  req.on('close', () => {
    clearInterval(timer);
    onClose?.();
  });
  return {
    end: (reason) =>
      new Promise<void>((resolve) => {
        clearInterval(timer);
        if (res.writableEnded || res.destroyed) return resolve();
        poll();
        send('end', { reason });
        res.end(resolve);
      }),
  };
}
