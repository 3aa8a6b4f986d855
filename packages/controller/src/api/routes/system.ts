// System routes: liveness (the only route without a token) and Prometheus metrics.

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { PROMETHEUS_CONTENT_TYPE, renderMetrics } from '../prometheus.js';
import { Health } from '../schemas.js';
import { type RouteOptions, errors } from './route-options.js';

export const systemRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { service }) => {
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
};
