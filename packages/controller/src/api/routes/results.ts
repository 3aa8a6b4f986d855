// Result routes: the long-format rows (JSON or CSV) and the self-contained HTML report.

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { ResultRow } from '@seconet/core';
import { toCsv } from '../../export/index.js';
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
};
