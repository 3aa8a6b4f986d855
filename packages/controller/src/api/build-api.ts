// The REST API: a fastify factory over a ControllerService, so tests drive it with inject()
// and a fake service, and `seconet controller` serves it over a socket. Every route has TypeBox
// schemas (validation, serialization and the generated OpenAPI document at /openapi.json, with
// a browsable page at /docs). Everything but /healthz needs a bearer token; the rate limit runs
// before authentication so guessing tokens is throttled too. Errors share one body
// {code, message, field}; 5xx bodies carry no internals (see error-mapping.ts).
//
// This file only assembles the parts, in an order that matters: content parsers, error
// handlers, rate limit and token check, and the OpenAPI collector are set on the root instance
// first; the route groups are fastify plugins registered after them, so they inherit all of it.
// A new route group is a plugin in routes/ plus one line in ROUTE_GROUPS.

import { StreamGate } from './sse.js';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { ControllerService } from '../service.js';
import { registerRateLimit, requireBearerToken } from './access.js';
import { TokenSet } from './auth.js';
import { installErrorHandlers } from './error-handler.js';
import { registerOpenApi } from './openapi.js';
import { agentRoutes } from './routes/agents.js';
import { dashboardRoutes } from './routes/dashboard.js';
import { experimentRoutes } from './routes/experiments.js';
import { resultRoutes } from './routes/results.js';
import { systemRoutes } from './routes/system.js';
import { uiRoutes } from './routes/ui.js';
import { addYamlBodyParser } from './yaml-body.js';

export { parseYamlSpec } from './yaml-body.js';

export interface ApiOptions {
  readonly service: ControllerService;
  /** Accepted bearer tokens (see readTokenFile). */
  readonly tokens: readonly string[];
  readonly logger?: FastifyBaseLogger;
  /** Requests per client address and window; false turns the limit off. Default 600 per minute. */
  readonly rateLimit?: { readonly max: number; readonly timeWindowMs: number } | false;
  /** Largest accepted request body (default 1 MiB). */
  readonly bodyLimit?: number;
  /** Interval of SSE keep-alive comments (default 15 s). */
  readonly heartbeatMs?: number;
  /** Event streams (progress, host metrics) open at once (default 64). */
  readonly maxStreams?: number;
  /** Published in the OpenAPI document as components.schemas.ExperimentSpec (default: the spec schema of @seconet/core). */
  readonly specSchema?: object;
  readonly version?: string;
  /** Directory of the built dashboard served at /ui/ (default: the controller's dist/ui). */
  readonly uiDir?: string;
  /** Serve HTTPS with this certificate and key (PEM), see readApiTls. */
  readonly https?: { readonly cert: Buffer | string; readonly key: Buffer | string };
}

/** The route groups, in the order their paths appear in the OpenAPI document. */
const ROUTE_GROUPS = [systemRoutes, experimentRoutes, resultRoutes, agentRoutes, dashboardRoutes];

export async function buildApi(opts: ApiOptions): Promise<FastifyInstance> {
  const app = Fastify({
    ...(opts.logger === undefined ? { logger: false } : { loggerInstance: opts.logger }),
    ...(opts.https === undefined ? {} : { https: { cert: opts.https.cert, key: opts.https.key, minVersion: 'TLSv1.2' as const } }),
    bodyLimit: opts.bodyLimit ?? 1 << 20,
    // Query strings stay strings and bodies stay as sent: the spec is validated by the
    // controller, which must see "2" as a string, not a coerced 2, and every unknown field.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: true, allErrors: false } },
    return503OnClosing: true,
  }).withTypeProvider<TypeBoxTypeProvider>();

  addYamlBodyParser(app);
  installErrorHandlers(app);
  await registerRateLimit(app, opts.rateLimit);
  requireBearerToken(app, new TokenSet(opts.tokens));
  await registerOpenApi(app, { version: opts.version, specSchema: opts.specSchema });

  const routeOptions = { service: opts.service, heartbeatMs: opts.heartbeatMs ?? 15_000, streams: new StreamGate(opts.maxStreams ?? 64) };
  for (const group of ROUTE_GROUPS) await app.register(group, routeOptions);
  await app.register(uiRoutes, opts.uiDir === undefined ? {} : { dir: opts.uiDir });
  return app;
}
