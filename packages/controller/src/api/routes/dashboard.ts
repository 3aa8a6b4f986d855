// REST routes the dashboard needs beyond the experiment list and its events: an experiment's
// cells (setup seconds per building block, isolation verdict), its runs (state, times, reason),
// its results bundle, and live host metrics as server-sent events. They are ordinary API routes
// behind the same bearer token, with TypeBox schemas, so the CLI and scripts can use them and
// they appear in the generated OpenAPI document.

import type { ServerResponse } from 'node:http';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { HostMetricsSample } from '../../service.js';
import { IdParams } from '../schemas.js';
import { type RouteOptions, errors } from './route-options.js';

const CellStatusT = Type.Object(
  {
    id: Type.String(),
    index: Type.Integer(),
    network: Type.String(),
    tunnel: Type.String(),
    filter: Type.String(),
    containers: Type.Integer(),
    rules: Type.Integer(),
    placement: Type.String(),
    hosts: Type.Array(Type.String()),
    state: Type.Union([Type.Literal('pending'), Type.Literal('measured'), Type.Literal('invalid'), Type.Literal('failed')]),
    tunnelVariant: Type.String({ description: 'kernel or userspace; empty until the cell is configured.' }),
    filterVariant: Type.String(),
    setupSeconds: Type.Record(Type.String(), Type.Number(), { description: 'Setup seconds per building block (containers, network, tunnel, filter).' }),
    isolation: Type.Union([Type.Boolean(), Type.Null()], { description: 'Pre-flight isolation: true held, false broke (cell not measured), null not checked.' }),
    isolationEvidence: Type.String(),
    error: Type.Optional(Type.String()),
  },
  { description: 'A cell with its setup cost and isolation verdict.' },
);

const RunStatusT = Type.Object(
  {
    id: Type.String(),
    cell: Type.String(),
    workload: Type.String(),
    repetition: Type.Integer(),
    state: Type.String({ description: 'pending, running, succeeded, failed or skipped.' }),
    attempts: Type.Integer(),
    startedAt: Type.Optional(Type.String({ format: 'date-time' })),
    finishedAt: Type.Optional(Type.String({ format: 'date-time' })),
    error: Type.Optional(Type.String({ description: 'Why the run failed or was skipped.' })),
  },
  { description: 'One run (workload x cell x repetition).' },
);

const HOST_LIST = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}(,[A-Za-z0-9][A-Za-z0-9_.-]{0,63}){0,63}$';

const HostMetricsQuery = Type.Object({
  hosts: Type.Optional(Type.String({ pattern: HOST_LIST, description: 'Comma-separated agent names (default: every agent).' })),
  intervalMs: Type.Optional(Type.String({ pattern: '^[0-9]{3,5}$', description: 'Sample interval in milliseconds, 250-10000 (default 1000).' })),
});

export const dashboardRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, opts) => {
  const { service } = opts;

  app.get(
    '/v1/experiments/:id/cells',
    { schema: { tags: ['experiments'], summary: 'Cells with state, variants, setup seconds per building block and isolation verdict', params: IdParams, response: { 200: Type.Array(CellStatusT), ...errors } } },
    async (request) =>
      (await service.cells(request.params.id)).map(({ error, ...c }) => ({ ...c, hosts: [...c.hosts], setupSeconds: { ...c.setupSeconds }, ...(error === undefined ? {} : { error }) })),
  );

  app.get(
    '/v1/experiments/:id/runs',
    { schema: { tags: ['experiments'], summary: 'Runs in run order with state, start and end, and the reason when failed or skipped', params: IdParams, response: { 200: Type.Array(RunStatusT), ...errors } } },
    async (request) =>
      (await service.runs(request.params.id)).map((r) => ({
        id: r.id, cell: r.cell, workload: r.workload, repetition: r.repetition, state: r.state, attempts: r.attempts,
        ...(r.startedAt === undefined ? {} : { startedAt: r.startedAt }),
        ...(r.finishedAt === undefined ? {} : { finishedAt: r.finishedAt }),
        ...(r.error === undefined ? {} : { error: r.error }),
      })),
  );

  app.get(
    '/v1/experiments/:id/bundle',
    {
      schema: {
        tags: ['results'],
        summary: 'The results bundle (*.seconet.json.gz) that `seconet report --bundle` renders offline',
        params: IdParams,
        produces: ['application/gzip'],
        response: { 200: { content: { 'application/gzip': { schema: Type.String({ format: 'binary' }) } } }, ...errors },
      },
    },
    async (request, reply) => {
      const buf = await service.bundle(request.params.id);
      return reply
        .type('application/gzip')
        .header('content-disposition', `attachment; filename="${request.params.id}.seconet.json.gz"`)
        .send(buf as unknown as string);
    },
  );

  app.get(
    '/v1/hosts/metrics',
    {
      schema: {
        tags: ['agents'],
        summary: 'Live host metrics (CPU shares incl. softirq, interface rates) as server-sent events, one `sample` event per host and interval',
        querystring: HostMetricsQuery,
        produces: ['text/event-stream'],
        response: { 200: { description: 'text/event-stream: `event: sample`, `data` {host, timestamp, cpu, interfaces, dropped} or {host, error, dropped}; `dropped` counts the samples lost so far on the way to this client', content: { 'text/event-stream': { schema: Type.String() } } }, ...errors },
      },
    },
    async (request, reply) => {
      const hosts = request.query.hosts === undefined ? [] : request.query.hosts.split(',');
      const intervalMs = request.query.intervalMs === undefined ? 1000 : Number(request.query.intervalMs);
      if (intervalMs < 250 || intervalMs > 10_000) {
        return reply.status(400).send({ code: 'INVALID_ARGUMENT', message: `intervalMs: ${intervalMs} is outside 250-10000`, field: 'intervalMs' });
      }
      const abort = new AbortController();
      // Throws NOT_FOUND for an unknown host before anything is written.
      const samples = service.hostMetrics(hosts, intervalMs, abort.signal);
      const release = opts.streams.acquire();
      request.raw.on('close', () => abort.abort());
      reply.raw.on('close', () => abort.abort());
      reply.hijack();
      try {
        await pipeSamples(reply.raw, samples, abort.signal, opts.heartbeatMs);
      } catch (e) {
        request.log.error({ err: e }, 'host metrics stream failed');
        reply.raw.destroy();
      } finally {
        abort.abort();
        release();
      }
      return reply;
    },
  );
};

const MAX_UNSENT_BYTES = 256 * 1024;

async function pipeSamples(res: ServerResponse, samples: AsyncIterable<HostMetricsSample>, signal: AbortSignal, heartbeatMs: number): Promise<void> {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  res.write(': seconet host metrics\n\n');
  // Samples of many hosts arrive together (every agent samples on the second): the socket is
  // corked until the event loop has handled what arrived, so a burst is one write, not one per host.
  let corked = false;
  const write = (chunk: string): void => {
    if (!corked) {
      corked = true;
      res.cork();
      setImmediate(() => {
        corked = false;
        res.uncork();
      });
    }
    res.write(chunk);
  };
  const beat = setInterval(() => write(': keep-alive\n\n'), heartbeatMs);
  beat.unref();
  // Samples skipped for this client, added to every later sample's `dropped` count.
  let skipped = 0;
  try {
    for await (const s of samples) {
      if (signal.aborted) break;
      // Live figures: a client that does not keep up misses samples instead of growing our buffer.
      if (res.writableLength > MAX_UNSENT_BYTES) {
        skipped++;
        continue;
      }
      write(`event: sample\ndata: ${JSON.stringify({ ...s, dropped: (s.dropped ?? 0) + skipped })}\n\n`);
    }
  } finally {
    clearInterval(beat);
    res.end();
  }
}
