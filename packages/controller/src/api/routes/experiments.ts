// Experiment routes: submit (or dry-run a plan), list, read, cancel, resume a paused one, and
// follow by server-sent events.

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { SeconetError } from '@seconet/core';
import type { PlanResult } from '../../service.js';
import { experimentBody } from '../bodies.js';
import { Accepted, ErrorBody, EventsHeaders, EventsQuery, Experiment, IdParams, Plan, SpecBody, SubmitQuery } from '../schemas.js';
import { pipeEvents } from '../sse.js';
import { YAML_TYPES } from '../yaml-body.js';
import { type RouteOptions, errors } from './route-options.js';

function requireBody(body: unknown): unknown {
  if (body === undefined || body === null || body === '') {
    throw new SeconetError('INVALID_SPEC', 'body: send the experiment spec as JSON or YAML', { field: 'body' });
  }
  return body;
}

function planBody(plan: PlanResult) {
  return {
    cells: plan.cells.map(({ pathMtu, recipe, ruleMatch, ...c }) => ({ ...c, hosts: [...c.hosts], ...(pathMtu === undefined ? {} : { pathMtu }), ...(recipe === undefined ? {} : { recipe }), ...(ruleMatch === undefined ? {} : { ruleMatch }) })),
    runs: plan.runs.map((r) => ({ id: r.id, cell: r.cell, workload: r.workload.id, repetition: r.repetition, order: r.order })),
    runsTotal: plan.runs.length,
    skipped: plan.skipped.map(({ cell: { recipe, ruleMatch, ...cell }, ...s }) => ({ cell: { ...cell, hosts: [...cell.hosts], ...(recipe === undefined ? {} : { recipe }), ...(ruleMatch === undefined ? {} : { ruleMatch }) }, reason: s.reason, ...(s.workload === undefined ? {} : { workload: s.workload }) })),
    estimatedSeconds: plan.estimatedSeconds,
    notes: [...(plan.notes ?? [])],
  };
}

export const experimentRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { service, heartbeatMs, streams }) => {
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
      if (request.query.dryRun === 'true') return reply.status(200).send(planBody(await service.plan(spec)));
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

  app.post(
    '/v1/experiments/:id/resume',
    { schema: { tags: ['experiments'], summary: 'Queue a paused experiment again (it paused on a full store disk); the sweep goes on from the first run it lacks', params: IdParams, response: { 200: Experiment, 409: ErrorBody, ...errors } } },
    async (request) => experimentBody(await service.resume(request.params.id)),
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
      const release = streams.acquire();
      const abort = new AbortController();
      request.raw.on('close', () => abort.abort());
      reply.raw.on('close', () => abort.abort());
      reply.hijack();
      try {
        await pipeEvents(reply.raw, service.events(id, after, abort.signal), abort.signal, heartbeatMs);
      } catch (e) {
        request.log.error({ err: e }, 'event stream failed');
        reply.raw.destroy();
      } finally {
        abort.abort();
        release();
      }
    },
  );
};
