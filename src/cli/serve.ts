/** `inkwell serve`: an OpenAI-compatible HTTP server over saved models, until SIGTERM/SIGINT (then it drains and exits 0). */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import type { SiteOptions } from '../../web/server/site-server.js';
import { QUANTIZE_MODES, type QuantizeMode } from '../graph/quantize.js';
import { parseModelSpec } from '../serve/models.js';
import { createServer } from '../serve/server.js';
import { InkwellError } from '../utils/errors.js';
import { intOption, LIMITS, numberOption, threadsOption } from './options.js';

interface ServeFlags {
  model?: string[];
  host: string;
  port: number;
  apiKey?: string;
  maxBatch: number;
  maxQueue: number;
  maxTokens: number;
  maxPromptTokens: number;
  quantize?: string;
  cors?: string;
  threads?: number;
  bodyLimit: number;
  timeout: number;
  grace: number;
  log?: boolean;
  runs?: string;
  site?: string;
}

export function register(program: Command): void {
  program
    .command('serve')
    .description('serve models over an OpenAI-compatible HTTP API (/v1/completions, /v1/chat/completions) with continuous batching')
    .option('--model <[name=]dir>', 'model directory to serve, as NAME=DIR (default name: the directory name); repeatable', (v: string, all: string[] | undefined) => [...(all ?? []), v])
    .option('--host <address>', 'address to listen on (not a loopback address: --api-key required)', '127.0.0.1')
    .option('--port <n>', 'port to listen on', intOption(0, 65535), 8080)
    .option('--api-key <key>', 'require Authorization: Bearer KEY (all routes but /health); default env INKWELL_API_KEY')
    .option('--max-batch <n>', 'sequences decoded together per model', intOption(1, LIMITS.samples), 16)
    .option('--max-queue <n>', 'sequences waiting per model before requests get 429', intOption(1, 1_000_000), 256)
    .option('--max-tokens <n>', 'largest max_tokens a request may ask for', intOption(1, LIMITS.newTokens), 4096)
    .option('--max-prompt-tokens <n>', 'most tokens in one prompt', intOption(1, LIMITS.newTokens), 16384)
    .option('--quantize <mode>', `decode with ${QUANTIZE_MODES.join(' or ')} weight matrices: faster, slightly different text`)
    .option('--cors <origin>', "allow browser requests from this origin ('*' for any)")
    .option('--threads <n>', 'ONNX Runtime threads per model (default: all cores)', threadsOption)
    .option('--body-limit <bytes>', 'largest request body, up to 1 GiB', intOption(1, 2 ** 30), 1024 * 1024)
    .option('--timeout <seconds>', 'deadline of one request', numberOption(0, 1e7, true), 600)
    .option('--grace <seconds>', 'on SIGTERM, how long running requests may finish before they are cancelled', numberOption(0, 1e6), 10)
    .option('--log', 'log every request (JSON lines on stdout)')
    .option('--runs <dir>', 'also serve live dashboards of the runs in DIR (inkwell train --out DIR/NAME) at /dashboard.html?run=NAME')
    .option('--site <dir>', 'the built web app served at / (default: web/dist when it is built)')
    .action(async (flags: ServeFlags) => {
      if (flags.quantize !== undefined && !QUANTIZE_MODES.includes(flags.quantize as QuantizeMode)) {
        throw new InkwellError(`--quantize must be one of ${QUANTIZE_MODES.join(', ')}, got '${flags.quantize}'`);
      }
      const site = siteOptions(flags);
      const handle = await createServer({
        models: (flags.model ?? []).map(parseModelSpec),
        host: flags.host,
        port: flags.port,
        apiKey: flags.apiKey ?? process.env.INKWELL_API_KEY,
        maxBatch: flags.maxBatch,
        maxQueue: flags.maxQueue,
        maxTokens: flags.maxTokens,
        maxPromptTokens: flags.maxPromptTokens,
        quantize: flags.quantize as QuantizeMode | undefined,
        cors: flags.cors,
        threads: flags.threads,
        bodyLimit: flags.bodyLimit,
        timeoutMs: Math.round(flags.timeout * 1000),
        logger: flags.log,
        site,
      });
      const url = await handle.listen();
      process.stderr.write(`inkwell serve: ${handle.stats().map((s) => s.model).join(', ') || 'no models'} on ${url}/v1 (${flags.maxBatch} slots per model)\n`);
      if (site) process.stderr.write(`inkwell serve: web app at ${url}/ (playground: ${url}/playground.html)${flags.runs ? `; dashboards: ${url}/dashboard.html?run=NAME for each run in ${flags.runs}` : ''}\n`);
      else process.stderr.write('inkwell serve: no web app (web/dist is not built: npm run build:web)\n');
      await new Promise<void>((resolve) => {
        const stop = (signal: string) => {
          process.stderr.write(`inkwell serve: ${signal}: draining (up to ${flags.grace} s)\n`);
          void handle.close(flags.grace * 1000).then(() => {
            process.stderr.write('inkwell serve: stopped\n');
            resolve();
          });
        };
        process.once('SIGTERM', () => stop('SIGTERM'));
        process.once('SIGINT', () => stop('SIGINT'));
      });
    });
}

/**
 * The pages beside the API when they are built. Unbuilt, the API alone is
 * served with a note (building needs the dev dependencies), unless the
 * user asked for pages (--site, --runs): then it is an error.
 */
function siteOptions(flags: ServeFlags): SiteOptions | undefined {
  if (flags.runs !== undefined && !(fs.existsSync(flags.runs) && fs.statSync(flags.runs).isDirectory())) throw new InkwellError(`--runs ${flags.runs} is not a directory`);
  if (flags.site !== undefined) {
    if (!fs.existsSync(path.join(flags.site, 'index.html'))) throw new InkwellError(`--site ${flags.site} has no index.html`, 'build it with npm run build:web');
    return { roots: { '/': flags.site }, runsDir: flags.runs };
  }
  // This file runs as dist/src/cli/serve.js; the pages are built into web/dist of the same checkout.
  const site = fileURLToPath(new URL('../../../web/dist', import.meta.url));
  if (fs.existsSync(path.join(site, 'index.html'))) return { roots: { '/': site }, runsDir: flags.runs };
  if (flags.runs !== undefined) throw new InkwellError(`--runs needs the web app, and ${site} is not built`, 'build it with npm run build:web');
  return undefined;
}
