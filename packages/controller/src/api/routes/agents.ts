// Agent routes: the registry's view of every agent, its health and capabilities.

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { agentBody } from '../bodies.js';
import { Agent } from '../schemas.js';
import { type RouteOptions, errors } from './route-options.js';

export const agentRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { service }) => {
  app.get(
    '/v1/agents',
    { schema: { tags: ['agents'], summary: 'Agents, their health and capabilities', response: { 200: Type.Array(Agent), ...errors } } },
    async () => (await service.agents()).map(agentBody),
  );
};
