/**
 * The OpenAI-compatible HTTP server (fastify): /v1/completions,
 * /v1/chat/completions, /v1/models, /health and /metrics over the models it
 * was given, each decoded with continuous batching (scheduler.ts).
 *
 * Hostile input is refused before it costs anything: bodies over the size
 * cap, types and ranges by JSON schema (never coerced), unknown models by
 * name, a missing or wrong API key; a full queue answers 429 with
 * Retry-After; every request has a deadline. close() drains: it stops
 * accepting, lets running requests finish within a grace period, cancels the
 * rest and frees the sessions.
 */
import { timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyError, type FastifyReply, type FastifyRequest } from 'fastify';
import cors from '@fastify/cors';
import { siteHandler, type SiteOptions } from '../../web/server/site-server.js';
import type { QuantizeMode } from '../graph/quantize.js';
import { InkwellError } from '../utils/errors.js';
import { ApiError } from './errors.js';
import type { RunContext } from './generation.js';
import { ServerMetrics } from './metrics.js';
import { loadServedModel, type ModelSpec, type ServedModel } from './models.js';
import { registerCompletions } from './completions.js';
import { registerChat } from './chat.js';
import type { Limits } from './schemas.js';

export interface ServerOptions {
  /** Models by the names clients ask for. */
  models: readonly ModelSpec[];
  /** Default 127.0.0.1. Any other (non-loopback) address needs `apiKey`. */
  host?: string;
  /** Default 8080; 0 picks a free port. */
  port?: number;
  /** Required as `Authorization: Bearer KEY` on every route but /health. */
  apiKey?: string;
  /** Sequences decoded together per model (decoding slots); default 16. */
  maxBatch?: number;
  /** Sequences that may wait for a slot per model before requests get 429; default 256. */
  maxQueue?: number;
  quantize?: QuantizeMode;
  /** ONNX Runtime threads per model (default: all cores). */
  threads?: number;
  /** Allowed CORS origin ('*' for any); default: no CORS headers. */
  cors?: string;
  /** Largest request body, bytes; default 1 MiB. */
  bodyLimit?: number;
  /** Deadline of one request, ms; default 10 minutes. */
  timeoutMs?: number;
  /** Largest max_tokens; default 4096. */
  maxTokens?: number;
  /** Most tokens in a prompt; default 16384 (a GPT keeps the last n_positions of a longer one, as generate does). */
  maxPromptTokens?: number;
  /** Log each request (fastify's logger) to stdout. */
  logger?: boolean;
  /**
   * The web app beside the API, same-origin (so the playground needs no
   * CORS): the built pages at / and, with `runsDir`, the run dashboards'
   * event streams, exactly as `inkwell web` serves them. Pages and
   * dashboards are public: `apiKey` guards the API, not them.
   */
  site?: SiteOptions;
}

export interface ServerHandle {
  /** Starts listening; resolves to the base URL (e.g. http://127.0.0.1:8080). */
  listen(): Promise<string>;
  /** Stops accepting, waits up to `graceMs` (default 10 s) for running requests, cancels the rest, frees the models. */
  close(graceMs?: number): Promise<void>;
  /** Decoding slots, busy slots and waiting sequences, per model. */
  stats(): Array<{ model: string; slots: number; active: number; queued: number }>;
}

/** What the routes need from the server. */
export interface ServerContext {
  /** The model a request names, or 404. */
  model(name: string): ServedModel;
  runContext(request: FastifyRequest): RunContext;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** performance.now() when the request arrived. */
    arrived: number;
  }
}

const LOOPBACK = /^(127(\.\d{1,3}){3}|::1|localhost)$/i;

export async function createServer(o: ServerOptions): Promise<ServerHandle> {
  const host = o.host ?? '127.0.0.1';
  if (!LOOPBACK.test(host) && !o.apiKey) throw new InkwellError(`serving on ${host} (not a loopback address) needs an API key`, 'give --api-key KEY (clients send it as Authorization: Bearer KEY)');
  // Dashboards alone are worth serving; an empty API alone is not.
  if (o.models.length === 0 && o.site?.runsDir === undefined) throw new InkwellError('no models to serve', 'give --model DIR or --model NAME=DIR (or --runs DIR for the dashboards alone)');
  const names = new Set<string>();
  for (const m of o.models) {
    if (names.has(m.name)) throw new InkwellError(`two models are named '${m.name}'`, 'name them with --model NAME=DIR');
    names.add(m.name);
  }
  const positive = (v: number | undefined, fallback: number, what: string) => {
    const x = v ?? fallback;
    if (!(Number.isInteger(x) && x > 0)) throw new InkwellError(`${what} must be a positive integer, got ${x}`);
    return x;
  };
  const maxBatch = positive(o.maxBatch, 16, '--max-batch');
  const maxQueue = positive(o.maxQueue, 256, '--max-queue');
  const timeoutMs = positive(o.timeoutMs, 600_000, 'the request timeout');
  const limits: Limits = { maxTokens: positive(o.maxTokens, 4096, '--max-tokens'), maxChoices: 16, maxPrompts: 64, maxPromptTokens: positive(o.maxPromptTokens, 16384, '--max-prompt-tokens') };

  const models: ServedModel[] = [];
  for (const spec of o.models) models.push(await loadServedModel(spec, { maxBatch, maxQueue, quantize: o.quantize, threads: o.threads }));
  const byName = new Map(models.map((m) => [m.name, m]));
  const metrics = new ServerMetrics(models);
  let draining = false;

  const app = Fastify({
    logger: o.logger ?? false,
    bodyLimit: o.bodyLimit ?? 1024 * 1024,
    // Validation only: a wrong type is an error, never silently converted or dropped.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: false, allErrors: false } },
    // A path fastify cannot decode (e.g. /%zz) fails before any route: answer it as OpenAI's error too.
    frameworkErrors: (err, _request, reply: FastifyReply) => reply.code(400).send(new ApiError(400, err.message, 'invalid_request_error', null, 'bad_url').body()),
  });
  if (o.cors) await app.register(cors, { origin: o.cors === '*' ? '*' : o.cors });
  app.decorateRequest('arrived', 0);
  const site = o.site === undefined ? undefined : siteHandler(o.site);

  app.addHook('onRequest', async (request, reply) => {
    request.arrived = performance.now();
    reply.raw.once('close', () => {
      const status = reply.raw.writableEnded ? String(reply.raw.statusCode) : 'disconnected';
      metrics.requests.inc({ route: request.routeOptions.url ?? 'unmatched', status });
    });
    if (draining) throw new ApiError(503, 'the server is shutting down', 'server_error', null, 'shutting_down');
    if (o.apiKey && request.url !== '/health' && !(request.method === 'OPTIONS' && o.cors) && !(site && isSiteRequest(request))) checkKey(request.headers.authorization, o.apiKey);
  });
  app.setErrorHandler((err: FastifyError, request, reply) => {
    const api = toApiError(err, o.bodyLimit ?? 1024 * 1024);
    // A 500 that is not an ApiError is a bug: keep its stack where someone will see it, logger or not.
    if (api.status >= 500 && !(err instanceof ApiError)) {
      if (o.logger) request.log.error(err);
      else console.error(err);
    }
    if (api.status === 429) void reply.header('retry-after', '1');
    return reply.code(api.status).send(api.body());
  });
  app.setNotFoundHandler((request, reply) => {
    // The site writes its answer straight to the socket; fastify must then leave the reply alone.
    if (site && isSiteRequest(request) && site(request.raw, reply.raw)) return reply.hijack();
    return reply.code(404).send(new ApiError(404, `no route ${request.method} ${request.url}`, 'not_found_error').body());
  });

  const context: ServerContext = {
    model(name) {
      const m = byName.get(name);
      if (!m) throw new ApiError(404, `model '${name}' does not exist; this server serves: ${[...byName.keys()].join(', ')}`, 'not_found_error', 'model', 'model_not_found');
      return m;
    },
    runContext: (request) => ({ metrics, arrived: request.arrived, timeoutMs }),
  };
  registerCompletions(app, context, limits);
  registerChat(app, context, limits);
  const modelEntry = (m: ServedModel) => ({ id: m.name, object: 'model', created: m.created, owned_by: 'inkwell' });
  app.get('/v1/models', async () => ({ object: 'list', data: models.map(modelEntry) }));
  app.get<{ Params: { model: string } }>('/v1/models/:model', async (request) => modelEntry(context.model(request.params.model)));
  app.get('/health', async () => ({ status: 'ok', models: models.map((m) => m.name) }));
  app.get('/metrics', async (_request, reply: FastifyReply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()));

  let closing: Promise<void> | undefined;
  return {
    async listen() {
      await app.listen({ host, port: o.port ?? 8080 });
      const address = app.server.address();
      const port = typeof address === 'object' && address ? address.port : o.port;
      return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
    },
    close(graceMs = 10_000) {
      closing ??= (async () => {
        draining = true;
        // Stops listening now; resolves once every open response has ended.
        const stopped = app.close();
        const idle = Promise.all(models.map((m) => m.scheduler.idle()));
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([idle, new Promise((resolve) => (timer = setTimeout(resolve, graceMs)))]);
        clearTimeout(timer);
        for (const m of models) m.scheduler.cancelAll('shutdown', 'the server is shutting down');
        await idle;
        app.server.closeIdleConnections();
        // Keep-alive connections that go idle after this are closed shortly.
        const force = setTimeout(() => app.server.closeAllConnections(), 500);
        await stopped;
        clearTimeout(force);
        for (const m of models) await m.decoder.release();
      })();
      return closing;
    },
    stats: () => models.map((m) => ({ model: m.name, slots: m.scheduler.slots, active: m.scheduler.active, queued: m.scheduler.queued })),
  };
}

/** A GET for a page, a file or a run: everything but the API's own routes. */
function isSiteRequest(request: FastifyRequest): boolean {
  return (request.method === 'GET' || request.method === 'HEAD') && !/^\/(v1|metrics|health)(\/|\?|$)/.test(request.url);
}

function checkKey(header: string | undefined, key: string): void {
  if (!header) throw new ApiError(401, 'missing API key: send it as Authorization: Bearer KEY', 'authentication_error', null, 'missing_api_key');
  const given = Buffer.from(header);
  const expected = Buffer.from(`Bearer ${key}`);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new ApiError(401, 'invalid API key', 'authentication_error', null, 'invalid_api_key');
}

/** Any error a request can raise, as OpenAI's error with the right status; nothing internal leaks. */
function toApiError(err: FastifyError, bodyLimit: number): ApiError {
  if (err instanceof ApiError) return err;
  if (err.validation && err.validation.length > 0) return validationError(err.validation);
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ApiError(413, `the request body is larger than the limit of ${bodyLimit} bytes`, 'invalid_request_error', null, 'request_too_large');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ApiError(415, 'send the request body as JSON (Content-Type: application/json)', 'invalid_request_error', null, 'unsupported_media_type');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new ApiError(400, 'the request body is empty; send a JSON object', 'invalid_request_error', null, 'invalid_json');
  }
  if (err instanceof SyntaxError || err.code === 'FST_ERR_CTP_INVALID_JSON_BODY') return new ApiError(400, `the request body is not valid JSON: ${err.message}`, 'invalid_request_error', null, 'invalid_json');
  if (err instanceof InkwellError) return new ApiError(400, err.message);
  if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) return new ApiError(err.statusCode, err.message, 'invalid_request_error', null, err.code ?? null);
  return new ApiError(500, 'internal server error', 'server_error');
}

type AjvError = NonNullable<FastifyError['validation']>[number];

/**
 * Ajv's first error names the field. A field with alternatives (a string or a
 * list, a number or null) fails every branch: the branch whose type matched
 * says what is wrong (e.g. too many stop strings); if none matched, the
 * message lists the types accepted.
 */
function validationError(errors: readonly AjvError[]): ApiError {
  const first = errors[0]!;
  const related = errors.filter((e) => e.instancePath.startsWith(first.instancePath));
  const v = related.find((e) => e.keyword !== 'type' && e.keyword !== 'anyOf') ?? first;
  const missing = (v.params as { missingProperty?: string }).missingProperty;
  const path = v.instancePath.split('/').filter(Boolean).map((p) => (/^\d+$/.test(p) ? `[${p}]` : `.${p}`)).join('').replace(/^\./, '');
  const param = missing ? (path ? `${path}.${missing}` : missing) : path;
  let message: string;
  if (missing) message = `${param} is required`;
  else if (v.keyword === 'type') {
    const types = [...new Set(related.filter((e) => e.keyword === 'type').map((e) => String((e.params as { type: unknown }).type)))];
    message = `${param || 'the body'} must be ${types.join(' or ')}`;
  } else message = `${param || 'the body'} ${v.message ?? 'is invalid'}`;
  return new ApiError(400, message, 'invalid_request_error', param || null, 'invalid_value');
}
