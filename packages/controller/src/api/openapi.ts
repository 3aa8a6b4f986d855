// The generated OpenAPI document (/openapi.json) and its browsable page (/docs). @fastify/swagger
// collects the schemas of every route registered after it, so this is registered before the
// route plugins; nothing here is written by hand except the document's header.

import type { FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { specJsonSchema } from '@seconet/core';

export interface OpenApiOptions {
  readonly version?: string | undefined;
  /** Published as components.schemas.ExperimentSpec (default: the spec schema of @seconet/core). */
  readonly specSchema?: object | undefined;
}

export async function registerOpenApi(app: FastifyInstance, opts: OpenApiOptions): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'seconet controller API',
        version: opts.version ?? '1',
        description: 'Queue and follow benchmark experiments of secure container networking. Errors: docs/errors.md.',
      },
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
        schemas: { ExperimentSpec: (opts.specSchema ?? specJsonSchema()) as Record<string, unknown> },
      },
      security: [{ bearer: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
