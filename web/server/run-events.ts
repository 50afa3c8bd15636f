/**
 * The training dashboard's data, for a server to mount (Node side of the web
 * app): a run directory's metrics.jsonl and samples.jsonl as server-sent
 * events, the lines already written first, then each new line as
 * `inkwell train` appends it.
 *
 *   event: record   data: one metrics.jsonl object ({step, loss, lr, tokens_per_s, elapsed_s, …} or {step, val_loss, best_val_loss})
 *   event: sample   data: one samples.jsonl object ({step, prompt, text, tokens, temperature, seed}: what the model wrote after an evaluation)
 *   event: state    data: {step, maxSteps} from trainer_state.json, whenever a checkpoint changes it
 *   event: reset    data: {file}  (metrics.jsonl or samples.jsonl was rewritten, e.g. by a resume: its records that follow replace the earlier ones)
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
  const files = [tailJsonl(runDir, 'metrics.jsonl', 'record', send), tailJsonl(runDir, 'samples.jsonl', 'sample', send)];
  const stateFile = path.join(runDir, 'trainer_state.json');
  let stateStamp = '';

  const poll = () => {
    for (const f of files) f();
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

/**
 * A poll of one JSON-lines file of the run: each complete line it gained since
 * the last poll sent as `event`, and `reset` when the file shrank (rewritten).
 */
function tailJsonl(runDir: string, name: string, event: string, send: (event: string, data: unknown) => void): () => void {
  const file = path.join(runDir, name);
  // Bytes up to `offset` have been sent, as whole lines: a line still being written is read again on the next poll
  // (so a character cut in two by a write in progress is never decoded).
  let offset = 0;
  return () => {
    const size = fs.existsSync(file) ? fs.statSync(file).size : 0;
    if (size < offset) {
      offset = 0;
      send('reset', { file: name });
    }
    if (size <= offset) return;
    const fd = fs.openSync(file, 'r');
    try {
      const buf = Buffer.alloc(size - offset);
      fs.readSync(fd, buf, 0, buf.length, offset);
      const end = buf.lastIndexOf(0x0a) + 1;
      offset += end;
      for (const line of buf.subarray(0, end).toString('utf8').split('\n')) {
        if (!line.trim()) continue;
        try {
          send(event, JSON.parse(line));
        } catch {
          send('error', { message: `${file}: a line is not JSON: ${line.slice(0, 80)}` });
        }
      }
    } finally {
      fs.closeSync(fd);
    }
  };
}
