// Result routes: the long-format rows (JSON or CSV) and the self-contained HTML report. Rows
// are streamed from the store page by page when the service can (resultPages), so an
// experiment of a hundred thousand rows is never held in memory as one array or one string.

import { Readable } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { ResultRow } from '@seconet/core';
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
};

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
