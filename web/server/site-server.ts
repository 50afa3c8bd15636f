/**
 * A small HTTP server for the web app: static files (the built site, model
 * folders) with the headers that make pages cross-origin isolated, so
 * onnxruntime-web may use threads, and, given a runs directory, each run's
 * live metrics at /runs/NAME/events (run-events.ts), the run names at
 * /runs/ and their files (model cards) under /runs/NAME/. `inkwell web` runs it, `inkwell serve` mounts its handler beside /v1; the web tests serve with it too.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { streamRunEvents, type RunStream } from './run-events.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.css': 'text/css',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.jsonl': 'application/x-ndjson',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/** Answers a request itself (returns true) or leaves it to the static files. */
export type ApiHandler = (req: http.IncomingMessage, res: http.ServerResponse, url: URL) => boolean;

export interface SiteServer {
  url: string;
  /** Ends the open event streams (their last lines, then an `end` event with `reason`), then stops. */
  close(reason?: string): Promise<void>;
}

export interface SiteServerOptions {
  /** URL prefix → folder served under it (the longest matching prefix wins). */
  roots: Readonly<Record<string, string>>;
  /** Run directories (each a folder of `inkwell train --out`): events at /runs/NAME/events, names at /runs/, files under /runs/NAME/. */
  runsDir?: string;
  /** Run directories by name, served as those of runsDir are (`inkwell train --ui`: its one run, and nothing beside it). */
  runs?: Readonly<Record<string, string>>;
  /** Sees each request before the static files. */
  api?: ApiHandler;
  host?: string;
  /** 0 (the default) lets the OS pick a free port. */
  port?: number;
}

const RUN_EVENTS = /^\/runs\/([\w.-]+)\/events$/;

/** What the site serves: static folders by URL prefix and, optionally, the run directories. */
export type SiteOptions = Pick<SiteServerOptions, 'roots' | 'runsDir' | 'runs'>;

/** The site's request handler; answers a request (true) or leaves it (false). */
export interface SiteHandler {
  (req: http.IncomingMessage, res: http.ServerResponse): boolean;
  /** Ends every open run event stream, telling the pages why. */
  endStreams(reason: string): Promise<void>;
}

/**
 * The site as one request handler, so that `inkwell serve` (fastify, beside
 * /v1) serves exactly what `inkwell web` does: it answers the request
 * (returns true) or returns false when no page, run or file matches, leaving
 * the 404 to the caller.
 */
export function siteHandler(o: SiteOptions): SiteHandler {
  const named = o.runs ?? {};
  const roots: Record<string, string> = {
    ...o.roots,
    ...(o.runsDir === undefined ? {} : { '/runs/': o.runsDir }),
    ...Object.fromEntries(Object.entries(named).map(([name, dir]) => [`/runs/${name}/`, dir])),
  };
  const prefixes = Object.keys(roots).sort((a, b) => b.length - a.length);
  const hasRuns = o.runsDir !== undefined || Object.keys(named).length > 0;
  const runDir = (name: string) => (Object.hasOwn(named, name) ? named[name] : o.runsDir === undefined ? undefined : path.join(o.runsDir, name));
  const streams = new Set<RunStream>();
  const handler = (req: http.IncomingMessage, res: http.ServerResponse): boolean => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (hasRuns) {
      const run = RUN_EVENTS.exec(url.pathname);
      if (run) {
        const dir = runDir(run[1]!);
        if (dir === undefined) {
          res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: `no run named ${run[1]} here; this server shows ${Object.keys(named).join(', ')}` } }));
          return true;
        }
        const stream = streamRunEvents(dir, req, res, {}, () => stream && streams.delete(stream));
        if (stream) streams.add(stream);
        return true;
      }
      if (url.pathname === '/runs/') {
        const listed = o.runsDir !== undefined && fs.existsSync(o.runsDir) ? fs.readdirSync(o.runsDir).filter((n) => fs.existsSync(path.join(o.runsDir!, n, 'metrics.jsonl'))) : [];
        const names = [...new Set([...listed, ...Object.keys(named)])];
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ runs: names.sort() }));
        return true;
      }
    }
    const prefix = prefixes.find((p) => url.pathname.startsWith(p));
    const root = prefix === undefined ? undefined : path.resolve(roots[prefix]!);
    let file = root === undefined ? undefined : path.resolve(root, decoded(url.pathname.slice(prefix!.length)));
    if (file && fs.existsSync(file) && fs.statSync(file).isDirectory()) file = path.join(file, 'index.html');
    // Never a file outside the folder (../ in the path).
    if (!file || !root || (file !== root && !file.startsWith(root + path.sep)) || !fs.existsSync(file) || !fs.statSync(file).isFile()) return false;
    res.writeHead(200, {
      'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream',
      'cross-origin-opener-policy': 'same-origin',
      'cross-origin-embedder-policy': 'require-corp',
      'cache-control': 'no-store',
    });
    fs.createReadStream(file).pipe(res);
    return true;
  };
  return Object.assign(handler, {
    endStreams: async (reason: string) => {
      await Promise.all([...streams].map((s) => s.end(reason)));
      streams.clear();
    },
  });
}

/** A malformed escape (%zz) names no file rather than throwing. */
function decoded(p: string): string {
  try {
    return decodeURIComponent(p);
  } catch {
    return '\0';
  }
}

export async function startSiteServer(o: SiteServerOptions): Promise<SiteServer> {
  const site = siteHandler(o);
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (o.api?.(req, res, url)) return;
    if (!site(req, res)) res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, o.host ?? '127.0.0.1', resolve);
  });
  const { address, port } = server.address() as AddressInfo;
  return {
    url: `http://${address.includes(':') ? `[${address}]` : address}:${port}`,
    close: async (reason = 'the server stopped') => {
      await site.endStreams(reason);
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
    },
  };
}
