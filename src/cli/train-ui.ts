/**
 * `inkwell train --ui`: the run's live dashboard (the web app's
 * dashboard.html over server-sent events of its metrics.jsonl, as
 * `inkwell serve --runs` shows it), served from the training process while
 * it trains. Only this run's directory is served, nothing beside it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { startSiteServer, type SiteServer } from '../../web/server/site-server.js';
import { InkwellError, errorMessage } from '../utils/errors.js';
import { intOption } from './options.js';

export interface UiFlags {
  ui?: boolean;
  uiPort?: number;
  uiHost?: string;
  uiSite?: string;
  uiKeep?: boolean;
}

export function addUiOptions(command: Command): Command {
  return command
    .option('--ui', 'serve the live dashboard of this run while it trains (its URL is printed at the start; needs the built web app)')
    .option('--ui-port <n>', '--ui: port to listen on (default: a free one)', intOption(0))
    .option('--ui-host <address>', "--ui: address to listen on (default 127.0.0.1; another one shows the run's files to that network)")
    .option('--ui-site <dir>', '--ui: the built web app (default: web/dist, built by npm run build:web)')
    .option('--ui-keep', '--ui: keep serving the dashboard after training ends, until Ctrl-C');
}

/**
 * The web app --ui serves, checked before any work: asked for and not
 * built is an error (the dashboard was the point of --ui), and a --ui-*
 * flag without --ui is one too. Undefined without --ui.
 */
export function uiSite(flags: UiFlags): string | undefined {
  if (!flags.ui) {
    const stray = (['uiPort', 'uiHost', 'uiSite', 'uiKeep'] as const).find((k) => flags[k] !== undefined);
    if (stray) throw new InkwellError(`--${stray.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())} needs --ui`);
    return undefined;
  }
  // This file runs as dist/src/cli/train-ui.js; the pages are built into web/dist of the same checkout.
  const site = flags.uiSite ?? fileURLToPath(new URL('../../../web/dist', import.meta.url));
  if (!fs.existsSync(path.join(site, 'dashboard.html'))) {
    throw new InkwellError(`${flags.uiSite === undefined ? '--ui needs the web app, and' : '--ui-site'} ${site} has no dashboard.html`, 'build the web app with npm run build:web');
  }
  return site;
}

export class TrainUi {
  private closed = false;

  private constructor(
    private readonly server: SiteServer,
    readonly url: string,
    private readonly keep: boolean,
  ) {}

  /** Serves the dashboard of the run in `runDir` (which exists) and prints its URL on stderr. */
  static async start(flags: UiFlags, site: string, runDir: string): Promise<TrainUi> {
    const base = path.basename(path.resolve(runDir));
    // A name the dashboard's URL (and the server's /runs/NAME/ routes) can carry as it is.
    const name = /^[\w.-]+$/.test(base) ? base : 'run';
    const host = flags.uiHost ?? '127.0.0.1';
    let server: SiteServer;
    try {
      server = await startSiteServer({ roots: { '/': site }, runs: { [name]: runDir }, host, port: flags.uiPort ?? 0 });
    } catch (err) {
      throw new InkwellError(`--ui: cannot listen on ${host}:${flags.uiPort ?? 0}: ${errorMessage(err)}`, 'pick another --ui-port or --ui-host');
    }
    const ui = new TrainUi(server, `${server.url}/dashboard.html?run=${encodeURIComponent(name)}`, flags.uiKeep ?? false);
    process.stderr.write(`inkwell train: live dashboard at ${ui.url}\n`);
    return ui;
  }

  /** Training ended (`ok`: it finished): the dashboard gets the run's last lines and stops, unless --ui-keep holds it. */
  async trainingEnded(ok: boolean): Promise<void> {
    if (ok && this.keep) return;
    await this.close(ok ? 'training finished' : 'training stopped with an error');
  }

  /** With --ui-keep, after training: serves until SIGINT or SIGTERM. */
  async held(): Promise<void> {
    if (this.closed) return;
    process.stderr.write(`inkwell train: the dashboard stays at ${this.url} until Ctrl-C\n`);
    const signal = await new Promise<string>((resolve) => {
      for (const s of ['SIGINT', 'SIGTERM'] as const) process.once(s, () => resolve(s));
    });
    await this.close(`${signal}: the dashboard stopped after training`);
  }

  private async close(reason: string): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.server.close(reason);
  }
}
