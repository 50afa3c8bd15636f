/** `inkwell web`: serves the web app (pages that train and run models in the browser, the playground, run dashboards and model cards). */
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { InkwellError, errorMessage } from '../utils/errors.js';
import { intOption } from './options.js';

interface WebFlags {
  runs?: string;
  site?: string;
  host: string;
  port: number;
}

export function register(program: Command): void {
  program
    .command('web')
    .description('serve the web app; with --runs, live dashboards and model cards of the runs in a directory')
    .option('--runs <dir>', 'a directory of run directories (inkwell train --out DIR/NAME): dashboard.html?run=NAME follows each live')
    .option('--site <dir>', 'the built site (default: web/dist, built now if missing)')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <n>', 'port (0 = any free one)', intOption(0, 65535), 8080)
    .action(async (flags: WebFlags) => {
      if (flags.runs !== undefined && !(fs.existsSync(flags.runs) && fs.statSync(flags.runs).isDirectory())) {
        throw new InkwellError(`--runs ${flags.runs} is not a directory`);
      }
      const { repoRoot, buildWeb } = await import('../../web/build.js');
      const site = flags.site ?? path.join(repoRoot(), 'web', 'dist');
      if (!fs.existsSync(path.join(site, 'index.html'))) {
        if (flags.site) throw new InkwellError(`--site ${flags.site} has no index.html`, 'build it with npm run build:web');
        console.error(`building the web app into ${site}`);
        await buildWeb(site, { minify: true });
      }
      const { startSiteServer } = await import('../../web/server/site-server.js');
      let server;
      try {
        server = await startSiteServer({ roots: { '/': site }, runsDir: flags.runs, host: flags.host, port: flags.port });
      } catch (err) {
        throw new InkwellError(`cannot listen on ${flags.host}:${flags.port}: ${errorMessage(err)}`);
      }
      console.log(`serving the web app at ${server.url}/`);
      if (flags.runs) console.log(`dashboards: ${server.url}/dashboard.html?run=NAME for each run in ${flags.runs}`);
      await new Promise<void>((resolve) => {
        for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve());
      });
      await server.close();
    });
}
