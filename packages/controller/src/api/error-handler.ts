// The app-wide error and not-found handlers: every failure leaves as the one error body
// {code, message, field} chosen by error-mapping.ts. Installed on the root instance before any
// route plugin, so every encapsulated route context inherits them.

import type { FastifyInstance } from 'fastify';
import { mapError } from './error-mapping.js';

export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error, request, reply) => {
    const mapped = mapError(error, request.id);
    if (mapped.internal) request.log.error({ err: error }, 'request failed');
    else request.log.info({ code: mapped.body.code, field: mapped.body.field }, 'request rejected');
    void reply.status(mapped.status).type('application/json; charset=utf-8').send(mapped.body);
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.status(404).send({ code: 'NOT_FOUND', message: `no route ${request.method} ${request.url.split('?')[0]}`, field: 'url' });
  });
}
