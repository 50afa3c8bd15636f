/**
 * Shared by the web tests: the app built once into a temp folder, served on
 * 127.0.0.1 with the headers that make a page cross-origin isolated (so
 * onnxruntime-web may use threads), and Debian's Chromium driven by
 * playwright-core. No browser is ever downloaded: without /usr/bin/chromium
 * the tests skip, saying why.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { buildWeb, type WebBuild } from '../../web/build.js';

export const CHROMIUM = '/usr/bin/chromium';

/** Why the browser tests cannot run here, or undefined when they can. */
export function skipReason(): string | undefined {
  return fs.existsSync(CHROMIUM) ? undefined : `${CHROMIUM} is missing (Debian package chromium: apt-get install -y chromium)`;
}

let built: Promise<WebBuild> | undefined;
/** The app, built once per test process. */
export function builtApp(): Promise<WebBuild> {
  built ??= buildWeb(fs.mkdtempSync(path.join(os.tmpdir(), 'inkwell-web-')));
  return built;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.css': 'text/css',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.map': 'application/json',
  '.onnx': 'application/octet-stream',
  '.safetensors': 'application/octet-stream',
};

export interface StaticServer {
  url: string;
  close(): Promise<void>;
}

/** Answers a request itself (returns true) or leaves it to the static files. */
export type ApiHandler = (req: http.IncomingMessage, res: http.ServerResponse, url: URL) => boolean;

/** Serves `roots` (URL prefix → folder) with COOP/COEP headers on 127.0.0.1 at a port the OS picks; `api` sees each request first. */
export async function serveStatic(roots: Readonly<Record<string, string>>, api?: ApiHandler): Promise<StaticServer> {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (api?.(req, res, url)) return;
    const prefix = Object.keys(roots).sort((a, b) => b.length - a.length).find((p) => url.pathname.startsWith(p));
    const file = prefix === undefined ? undefined : path.join(roots[prefix]!, decodeURIComponent(url.pathname.slice(prefix.length)) || 'index.html');
    const inside = file && prefix !== undefined && path.resolve(file).startsWith(path.resolve(roots[prefix]!));
    if (!file || !inside || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(200, {
      'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream',
      'cross-origin-opener-policy': 'same-origin',
      'cross-origin-embedder-policy': 'require-corp',
      'cache-control': 'no-store',
    });
    fs.createReadStream(file).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

export interface LaunchedBrowser {
  context: BrowserContext;
  close(): Promise<void>;
}

/**
 * Headless Chromium with a fresh profile (playwright passes it as
 * --user-data-dir) and no background network traffic, which this machine's
 * closed network would refuse.
 */
export async function launchChromium(): Promise<LaunchedBrowser> {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'inkwell-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    acceptDownloads: true,
    viewport: DESKTOP,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  return {
    context,
    close: async () => {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Where the tests' screenshots go (gitignored): INKWELL_SCREENSHOTS, else test-screenshots/ in the repository. */
export function screenshotDir(): string {
  const dir = process.env.INKWELL_SCREENSHOTS ?? path.join(process.cwd(), 'test-screenshots');
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

/** Resizes the page and waits until its layout (charts resize on the next frames) has settled. */
export async function resizeTo(page: Page, size: { width: number; height: number }): Promise<void> {
  await page.setViewportSize(size);
  await page.evaluate(() => new Promise<void>((resolve) => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(resolve, 50)))));
}

/**
 * Screenshots of the page as it is at desktop and phone widths, into
 * screenshotDir() as <name>-desktop.png and <name>-phone.png; fails when the
 * page is wider than the phone (a horizontal scroll bar). Leaves it at desktop width.
 */
export async function screenshots(page: Page, name: string, atPhone?: () => Promise<void>): Promise<void> {
  const dir = screenshotDir();
  await page.screenshot({ path: path.join(dir, `${name}-desktop.png`), fullPage: true });
  await resizeTo(page, PHONE);
  await atPhone?.();
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  if (width > PHONE.width) throw new Error(`${name}: at phone width the page is ${width} px wide, more than the ${PHONE.width} px screen`);
  await page.screenshot({ path: path.join(dir, `${name}-phone.png`), fullPage: true });
  await resizeTo(page, DESKTOP);
}
