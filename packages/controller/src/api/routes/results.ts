// Result routes: the long-format rows (JSON or CSV) and the self-contained HTML report. Rows
// are streamed from the store page by page when the service can (resultPages), so an
// experiment of a hundred thousand rows is never held in memory as one array or one string.

import { Readable } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { SeconetError, type ResultRow } from '@seconet/core';
import { RESULT_COLUMNS, csvField, toCsv } from '../../export/index.js';
import { IdParams, ResultRowT, ResultsQuery } from '../schemas.js';
import { type RouteOptions, errors } from './route-options.js';

export const resultRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { service }) => {
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
      const csv = request.query.format === 'csv';
      if (service.resultPages !== undefined) {
        const pages = await service.resultPages(request.params.id);
        const body = Readable.from(csv ? csvChunks(pages) : jsonChunks(pages), { objectMode: false });
        if (csv) void reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${request.params.id}.csv"`);
        else void reply.type('application/json; charset=utf-8');
        // The typed reply knows the schema body types; a stream bypasses serialization.
        return reply.send(body as never);
      }
      const rows: ResultRow[] = await service.results(request.params.id);
      if (csv) {
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
    '/v1/experiments/:id/time-split',
    {
      schema: {
        tags: ['results'],
        summary: 'Where the experiment\'s wall time went: measuring, setup, teardown, storing and waiting, from stored timestamps (null before it started)',
        params: IdParams,
        response: { 200: Type.Union([TimeSplitT, Type.Null()]), ...errors },
      },
    },
    async (request) => {
      if (service.timeSplit === undefined) throw new SeconetError('UNSUPPORTED', 'this controller does not compute time splits');
      return await service.timeSplit(request.params.id);
    },
  );
};

const seconds = (what: string): ReturnType<typeof Type.Number> => Type.Number({ minimum: 0, description: `Seconds ${what}.` });
const TimeSplitT = Type.Object(
  {
    wallS: seconds('from the experiment\'s first start to its end (while it runs: to its last event)'),
    measuringS: seconds('inside measurement windows (sinks up, traffic, barrier)'),
    setupS: seconds('in Apply and the pre-flight isolation proof'),
    teardownS: seconds('removing cells\' scopes'),
    storingS: seconds('flushing host samples, aggregating and storing runs'),
    waitingS: seconds('in nothing above (queue pickup, health waits, decisions, failed attempts); the five sum to wallS'),
    percent: Type.Object({ measuring: Type.Number(), setup: Type.Number(), teardown: Type.Number(), storing: Type.Number(), waiting: Type.Number() }, { description: 'Share of wallS per part, in percent.' }),
    windows: Type.Integer({ minimum: 0, description: 'Measurement windows counted (one per measured run attempt).' }),
    final: Type.Boolean({ description: 'False while the experiment runs.' }),
  },
  { description: 'Where an experiment\'s wall time went.' },
);

async function* jsonChunks(pages: AsyncIterable<readonly ResultRow[]>): AsyncGenerator<string> {
  let first = true;
  yield '[';
  for await (const page of pages) {
    if (page.length === 0) continue;
    yield (first ? '' : ',') + page.map((r) => JSON.stringify(r)).join(',');
    first = false;
  }
  yield ']';
}

async function* csvChunks(pages: AsyncIterable<readonly ResultRow[]>): AsyncGenerator<string> {
  yield `${RESULT_COLUMNS.join(',')}\r\n`;
  for await (const page of pages) {
    if (page.length === 0) continue;
    yield page.map((r) => `${RESULT_COLUMNS.map((c) => csvField(r[c])).join(',')}\r\n`).join('');
  }
}
