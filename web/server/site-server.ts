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
import { streamRunEvents } from './run-events.js';

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
  close(): Promise<void>;
}

export interface SiteServerOptions {
  /** URL prefix → folder served under it (the longest matching prefix wins). */
  roots: Readonly<Record<string, string>>;
  /** Run directories (each a folder of `inkwell train --out`): events at /runs/NAME/events, names at /runs/, files under /runs/NAME/. */
  runsDir?: string;
  /** Sees each request before the static files. */
  api?: ApiHandler;
  host?: string;
  /** 0 (the default) lets the OS pick a free port. */
  port?: number;
}

const RUN_EVENTS = /^\/runs\/([\w.-]+)\/events$/;

/** What the site serves: static folders by URL prefix and, optionally, the run directories. */
export type SiteOptions = Pick<SiteServerOptions, 'roots' | 'runsDir'>;

/**
 * The site as one request handler, so that `inkwell serve` (fastify, beside
 * /v1) serves exactly what `inkwell web` does: it answers the request
 * (returns true) or returns false when no page, run or file matches, leaving
 * the 404 to the caller.
 */
export function siteHandler(o: SiteOptions): (req: http.IncomingMessage, res: http.ServerResponse) => boolean {
  const roots: Record<string, string> = { ...o.roots, ...(o.runsDir === undefined ? {} : { '/runs/': o.runsDir }) };
  const prefixes = Object.keys(roots).sort((a, b) => b.length - a.length);
  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (o.runsDir !== undefined) {
      const run = RUN_EVENTS.exec(url.pathname);
      if (run) {
        streamRunEvents(path.join(o.runsDir, run[1]!), req, res);
        return true;
      }
      if (url.pathname === '/runs/') {
        const names = fs.existsSync(o.runsDir) ? fs.readdirSync(o.runsDir).filter((n) => fs.existsSync(path.join(o.runsDir!, n, 'metrics.jsonl'))) : [];
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
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
