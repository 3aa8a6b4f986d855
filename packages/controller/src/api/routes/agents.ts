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
  // since the last request are serialized, and kept as UTF-8 bytes: the body is one copy of them
  // outside the JS heap, not a 1.4 MB string to flatten and encode on every request (a
  // heap profile of 1,000 agents put 11 % of the controller's allocations there).
  const json = new WeakMap<AgentStatus, Buffer>();
  const agentJson = (a: AgentStatus): Buffer => {
    let b = json.get(a);
    if (b === undefined) json.set(a, (b = Buffer.from(JSON.stringify(agentBody(a)))));
    return b;
  };
  const OPEN = Buffer.from('[');
  const COMMA = Buffer.from(',');
  const CLOSE = Buffer.from(']');
  app.get(
    '/v1/agents',
    { schema: { tags: ['agents'], summary: 'Agents, their health and capabilities', response: { 200: Type.Array(Agent), ...errors } } },
    async (_request, reply) => {
      const parts: Buffer[] = [OPEN];
      for (const a of await service.agents()) {
        if (parts.length > 1) parts.push(COMMA);
        parts.push(agentJson(a));
      }
      parts.push(CLOSE);
      const body = Buffer.concat(parts);
      // Already JSON of the schema's shape (api-routes.test.ts checks it): fastify sends bytes
      // as they are, without the schema's serializer. The type provider only knows the schema's
      // object type, hence the cast.
      return reply.type('application/json; charset=utf-8').send(body as unknown as AgentT[]);
    },
  );
};
