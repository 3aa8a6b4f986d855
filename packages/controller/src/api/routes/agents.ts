// Agent routes: the registry's view of every agent, its health and capabilities.

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { AgentStatus } from '../../service.js';
import { agentBody } from '../bodies.js';
import { Agent, type AgentT } from '../schemas.js';
import { type RouteOptions, errors } from './route-options.js';

export const agentRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { service }) => {
  // Each agent's JSON, kept while the registry hands out the same view of it (it makes a new one
  // when the agent changes). At 1,000 agents the whole list is about 1.4 MB; serializing it on
  // every request took 41 ms of the event loop (the schema's serializer; 18 ms with
  // JSON.stringify), so every other request waited behind it. Now only the agents that changed
  // since the last request are serialized.
  const json = new WeakMap<AgentStatus, string>();
  const agentJson = (a: AgentStatus): string => {
    let s = json.get(a);
    if (s === undefined) json.set(a, (s = JSON.stringify(agentBody(a))));
    return s;
  };
  app.get(
    '/v1/agents',
    { schema: { tags: ['agents'], summary: 'Agents, their health and capabilities', response: { 200: Type.Array(Agent), ...errors } } },
    async (_request, reply) => {
      const body = `[${(await service.agents()).map(agentJson).join(',')}]`;
      // Already JSON of the schema's shape (api-routes.test.ts checks it): fastify sends a string
      // with a JSON content type as it is, without the schema's serializer. The type provider
      // only knows the schema's object type, hence the cast.
      return reply.type('application/json; charset=utf-8').send(body as unknown as AgentT[]);
    },
  );
};
