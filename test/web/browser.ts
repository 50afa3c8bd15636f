/**
 * Shared by the web tests: the app built once into a temp folder, served on
 * 127.0.0.1 by the app's own site server (cross-origin isolated, so
 * onnxruntime-web may use threads), and Debian's Chromium driven by
 * playwright-core. No browser is ever downloaded: without /usr/bin/chromium
 * the tests skip, saying why.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { toOnnx } from '../../src/graph/onnx.js';
import { modelFiles } from '../../src/io/model-files.js';
import type { Gpt } from '../../src/models/gpt.js';
import { StepTrainer } from '../../web/src/lib/step-trainer.js';
import { buildWeb, type WebBuild } from '../../web/build.js';
import { unzipModel } from '../../web/src/lib/zip.js';
import { startSiteServer, type ApiHandler, type SiteServer } from '../../web/server/site-server.js';

export const CHROMIUM = '/usr/bin/chromium';

/** Why the browser tests cannot run here, or undefined when they can. */
export function skipReason(): string | undefined {
  return fs.existsSync(CHROMIUM) ? undefined : `${CHROMIUM} is missing (Debian package chromium: apt-get install -y chromium)`;
}

let built: Promise<WebBuild> | undefined;
/** The app, built once per test process into a temp folder (~45 MB with onnxruntime-web's files) that goes when the process exits. */
export function builtApp(): Promise<WebBuild> {
  if (!built) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inkwell-web-'));
    process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
    built = buildWeb(dir);
  }
  return built;
}

export type { ApiHandler } from '../../web/server/site-server.js';

/** Serves `roots` (URL prefix → folder) on 127.0.0.1 at a port the OS picks, cross-origin isolated; `api` sees each request first. */
export function serveStatic(roots: Readonly<Record<string, string>>, api?: ApiHandler): Promise<SiteServer> {
  return startSiteServer({ roots, api });
}

export interface LaunchedBrowser {
  context: BrowserContext;
  close(): Promise<void>;
}

/**
 * Headless Chromium with a fresh profile (playwright passes it as
 * --user-data-dir) and no background network traffic, which this machine's
 * closed network would refuse. No GPU, so no WebGPU adapter, unless `webgpu`:
 * then the GPU process stays and WebGPU is on (on a machine without a GPU,
 * Chromium's adapter is SwiftShader, a software fallback).
 */
export async function launchChromium(o: { webgpu?: boolean } = {}): Promise<LaunchedBrowser> {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'inkwell-chromium-'));
  const gpu = o.webgpu ? ['--enable-unsafe-webgpu'] : ['--disable-gpu'];
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    acceptDownloads: true,
    viewport: DESKTOP,
    args: ['--headless', '--no-sandbox', ...gpu, '--disable-quic', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
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

const TEXT = `Far out in the uncharted backwaters of the western spiral arm there lies a small unregarded yellow sun.
Orbiting this at a distance of roughly ninety-two million miles is an utterly insignificant little blue green planet.
`.repeat(3);

/** A briefly trained char GPT, exported as transformers.js reads a model folder (the "Run in your browser" tests'). */
export async function exportedModel(dir: string): Promise<{ trainer: StepTrainer }> {
  const trainer = await StepTrainer.create('char-gpt', TEXT, { seed: 5, threads: 1 });
  for (let i = 0; i < 40; i++) await trainer.next();
  const { bundle } = trainer;
  // The decode graph is a GPT's: the recipe above makes one.
  const { graph, outputs } = (bundle.model as Gpt).buildDecodeGraph();
  const exported = Object.fromEntries(Object.entries(outputs).filter(([name]) => name === 'logits' || name.startsWith('present.')));
  fs.mkdirSync(path.join(dir, 'onnx'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'onnx', 'model.onnx'), toOnnx(graph, exported, { initializers: bundle.weights }).bytes);
  for (const [name, data] of modelFiles(bundle)) if (name.endsWith('.json')) fs.writeFileSync(path.join(dir, name), data);
  return { trainer };
}

/** Clicks the page's Download button and unzips the model it saves into TMP/model, the folder `inkwell generate --model` reads. */
export async function downloadModel(page: Page, tmp: string): Promise<string> {
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
  const zipPath = path.join(tmp, 'model.zip');
  await download.saveAs(zipPath);
  const dir = path.join(tmp, 'model');
  fs.mkdirSync(dir);
  for (const [name, data] of unzipModel(fs.readFileSync(zipPath), zipPath)) fs.writeFileSync(path.join(dir, name), data);
  return dir;
}
