// The REST API: a fastify factory over a ControllerService, so tests drive it with inject()
// and a fake service, and `seconet controller` serves it over a socket. Every route has TypeBox
// schemas (validation, serialization and the generated OpenAPI document at /openapi.json, with
// a browsable page at /docs). Everything but /healthz needs a bearer token; the rate limit runs
// before authentication so guessing tokens is throttled too. Errors share one body
// {code, message, field}; 5xx bodies carry no internals (see error-mapping.ts).

import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { parseDocument } from 'yaml';
import { SeconetError, specJsonSchema } from '@seconet/core';
import type { ResultRow } from '@seconet/core';
import type { ControllerService } from '../service.js';
import { TokenSet, bearerToken } from './auth.js';
import { agentBody, experimentBody } from './bodies.js';
import { mapError } from './error-mapping.js';
import { PROMETHEUS_CONTENT_TYPE, renderMetrics } from './prometheus.js';
import { pipeEvents } from './sse.js';
import { toCsv } from '../export/index.js';
import {
  Accepted,
  Agent,
  ErrorBody,
  EventsHeaders,
  EventsQuery,
  Experiment,
  Health,
  IdParams,
  Plan,
  ResultRowT,
  ResultsQuery,
  SpecBody,
  SubmitQuery,
} from './schemas.js';

export interface ApiOptions {
  readonly service: ControllerService;
  /** Accepted bearer tokens (see readTokenFile). */
  readonly tokens: readonly string[];
  readonly logger?: FastifyBaseLogger;
  /** Requests per client address and window; false turns the limit off. Default 600 per minute. */
  readonly rateLimit?: { readonly max: number; readonly timeWindowMs: number } | false;
  /** Largest accepted request body (default 1 MiB). */
  readonly bodyLimit?: number;
  /** Interval of SSE keep-alive comments (default 15 s). */
  readonly heartbeatMs?: number;
  /** Published in the OpenAPI document as components.schemas.ExperimentSpec (default: the spec schema of @seconet/core). */
  readonly specSchema?: object;
  readonly version?: string;
}

const PUBLIC_PATHS = new Set(['/healthz']);
const YAML_TYPES = ['application/yaml', 'text/yaml', 'application/x-yaml'];

const errors = { 400: ErrorBody, 401: ErrorBody, 404: ErrorBody, 429: ErrorBody, 500: ErrorBody } as const;

export function parseYamlSpec(text: string): unknown {
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false, strict: true, stringKeys: true });
  const problem = doc.errors[0];
  if (problem !== undefined) {
    const line = problem.linePos?.[0]?.line;
    throw new SeconetError('INVALID_SPEC', `body: YAML does not parse${line === undefined ? '' : ` (line ${line})`}: ${problem.message.split('\n')[0]}`, { field: 'body' });
  }
  try {
    return doc.toJS({ maxAliasCount: 50 });
  } catch (e) {
    throw new SeconetError('INVALID_SPEC', `body: YAML does not resolve: ${(e as Error).message.split('\n')[0]}`, { field: 'body', cause: e });
  }
}

function requireBody(body: unknown): unknown {
  if (body === undefined || body === null || body === '') {
    throw new SeconetError('INVALID_SPEC', 'body: send the experiment spec as JSON or YAML', { field: 'body' });
  }
  return body;
}

export async function buildApi(opts: ApiOptions): Promise<FastifyInstance> {
  const tokens = new TokenSet(opts.tokens);
  const service = opts.service;
  const app = Fastify({
    ...(opts.logger === undefined ? { logger: false } : { loggerInstance: opts.logger }),
    bodyLimit: opts.bodyLimit ?? 1 << 20,
    // Query strings stay strings and bodies stay as sent: the spec is validated by the
    // controller, which must see "2" as a string, not a coerced 2, and every unknown field.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: true, allErrors: false } },
    return503OnClosing: true,
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.addContentTypeParser(YAML_TYPES, { parseAs: 'string' }, (_req, text, done) => {
    try {
      done(null, parseYamlSpec(String(text)));
    } catch (e) {
      done(e as Error, undefined);
    }
  });

  app.setErrorHandler((error, request, reply) => {
    const mapped = mapError(error, request.id);
    if (mapped.internal) request.log.error({ err: error }, 'request failed');
    else request.log.info({ code: mapped.body.code, field: mapped.body.field }, 'request rejected');
    void reply.status(mapped.status).type('application/json; charset=utf-8').send(mapped.body);
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.status(404).send({ code: 'NOT_FOUND', message: `no route ${request.method} ${request.url.split('?')[0]}`, field: 'url' });
  });

  if (opts.rateLimit !== false) {
    const rl = opts.rateLimit ?? { max: 600, timeWindowMs: 60_000 };
    await app.register(rateLimit, {
      max: rl.max,
      timeWindow: rl.timeWindowMs,
      errorResponseBuilder: (_req, ctx) => ({
        statusCode: 429,
        code: 'RATE_LIMITED',
        message: `too many requests: at most ${ctx.max} per ${ctx.after}; retry after ${ctx.after}`,
      }),
    });
  }

  // preParsing: after the rate limit's route-level onRequest hook (so failed logins count) and
  // before the body is read (so an unauthenticated caller cannot make the server parse anything).
  app.addHook('preParsing', async (request, _reply, payload) => {
    const path = request.url.split('?')[0] ?? '';
    if (PUBLIC_PATHS.has(path)) return payload;
    const got = bearerToken(request.headers.authorization);
    if ('problem' in got) throw new SeconetError('UNAUTHORIZED', got.problem, { field: 'authorization' });
    if (!tokens.accepts(got.token)) throw new SeconetError('UNAUTHORIZED', 'the bearer token is not valid', { field: 'authorization' });
    return payload;
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'seconet controller API',
        version: opts.version ?? '1',
        description: 'Queue and follow benchmark experiments of secure container networking. Errors: docs/errors.md.',
      },
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
        schemas: { ExperimentSpec: (opts.specSchema ?? specJsonSchema()) as Record<string, unknown> },
      },
      security: [{ bearer: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  app.get('/healthz', { schema: { tags: ['system'], summary: 'Liveness; needs no token', security: [], response: { 200: Health } } }, async () => ({ status: 'ok' as const }));

  app.get(
    '/metrics',
    {
      schema: {
        tags: ['system'],
        summary: 'Prometheus metrics: queue depth, runs done and failed, experiments by state, agents healthy',
        produces: ['text/plain'],
        response: { 200: { content: { 'text/plain': { schema: Type.String() } } }, ...errors },
      },
    },
    async (_req, reply) => reply.type(PROMETHEUS_CONTENT_TYPE).send(renderMetrics(await service.metrics())),
  );

  app.post(
    '/v1/experiments',
    {
      schema: {
        tags: ['experiments'],
        summary: 'Submit an experiment (202 {id}); with dryRun=true answer the plan instead (200)',
        consumes: ['application/json', ...YAML_TYPES],
        querystring: SubmitQuery,
        body: SpecBody,
        response: { 200: Plan, 202: Accepted, 413: ErrorBody, 415: ErrorBody, 422: ErrorBody, ...errors },
      },
    },
    async (request, reply) => {
      const spec = requireBody(request.body);
      if (request.query.dryRun === 'true') {
        const plan = await service.plan(spec);
        return reply.status(200).send({
          cells: plan.cells.map((c) => ({ ...c, hosts: [...c.hosts] })),
          runs: plan.runs.map((r) => ({ id: r.id, cell: r.cell, workload: r.workload.id, repetition: r.repetition, order: r.order })),
          runsTotal: plan.runs.length,
          skipped: plan.skipped.map((s) => ({ cell: { ...s.cell, hosts: [...s.cell.hosts] }, reason: s.reason })),
          estimatedSeconds: plan.estimatedSeconds,
        });
      }
      const { id } = await service.submit(spec);
      return reply.status(202).header('location', `/v1/experiments/${encodeURIComponent(id)}`).send({ id });
    },
  );

  app.get(
    '/v1/experiments',
    { schema: { tags: ['experiments'], summary: 'List experiments with state and progress', response: { 200: Type.Array(Experiment), ...errors } } },
    async () => (await service.list()).map(experimentBody),
  );

  app.get(
    '/v1/experiments/:id',
    { schema: { tags: ['experiments'], summary: 'State and progress {runsDone, runsTotal} of one experiment', params: IdParams, response: { 200: Experiment, ...errors } } },
    async (request) => experimentBody(await service.get(request.params.id)),
  );

  app.delete(
    '/v1/experiments/:id',
    { schema: { tags: ['experiments'], summary: 'Cancel an experiment; finished runs stay', params: IdParams, response: { 200: Experiment, 409: ErrorBody, ...errors } } },
    async (request) => experimentBody(await service.cancel(request.params.id)),
  );

  app.get(
    '/v1/experiments/:id/events',
    {
      schema: {
        tags: ['experiments'],
        summary: 'Server-sent progress events; resumes after the Last-Event-ID header (or ?after=)',
        params: IdParams,
        querystring: EventsQuery,
        headers: EventsHeaders,
        produces: ['text/event-stream'],
        response: { 200: { description: 'text/event-stream: `id`, `event` (state|run|cell|log), `data` (JSON)', content: { 'text/event-stream': { schema: Type.String() } } }, ...errors },
      },
    },
    async (request, reply) => {
      const id = request.params.id;
      await service.get(id);
      const after = Number(request.headers['last-event-id'] ?? request.query.after ?? 0);
      const abort = new AbortController();
      request.raw.on('close', () => abort.abort());
      reply.raw.on('close', () => abort.abort());
      reply.hijack();
      try {
        await pipeEvents(reply.raw, service.events(id, after, abort.signal), abort.signal, opts.heartbeatMs ?? 15_000);
      } catch (e) {
        request.log.error({ err: e }, 'event stream failed');
        reply.raw.destroy();
      } finally {
        abort.abort();
      }
    },
  );

  app.get(
    '/v1/experiments/:id/results',
    {
      schema: {
        tags: ['results'],
        summary: 'Results in long format, one row per run x pair x metric (format=json or csv)',
        params: IdParams,
        querystring: ResultsQuery,
        produces: ['application/json', 'text/csv'],
        response: { 200: { content: { 'application/json': { schema: Type.Array(ResultRowT) }, 'text/csv': { schema: Type.String() } } }, ...errors },
      },
    },
    async (request, reply) => {
      const rows: ResultRow[] = await service.results(request.params.id);
      if (request.query.format === 'csv') {
        return reply
          .type('text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="${request.params.id}.csv"`)
          .send(toCsv(rows));
      }
      return reply.type('application/json; charset=utf-8').send(rows);
    },
  );

  app.get(
    '/v1/experiments/:id/report',
    {
      schema: {
        tags: ['results'],
        summary: 'The self-contained HTML report (also while the experiment runs)',
        params: IdParams,
        produces: ['text/html'],
        response: { 200: { content: { 'text/html': { schema: Type.String() } } }, ...errors },
      },
    },
    async (request, reply) => reply.type('text/html; charset=utf-8').send(await service.report(request.params.id)),
  );

  app.get(
    '/v1/agents',
    { schema: { tags: ['agents'], summary: 'Agents, their health and capabilities', response: { 200: Type.Array(Agent), ...errors } } },
    async () => (await service.agents()).map(agentBody),
  );

  return app;
}
