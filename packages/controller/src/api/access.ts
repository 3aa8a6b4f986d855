// The gate in front of every route: the rate limit, then the bearer token. The rate limit runs
// before authentication so guessing tokens is throttled too. Both are installed on the root
// instance before the routes, so plugins registered later are covered without doing anything.

import type { FastifyInstance } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import { SeconetError } from '@seconet/core';
import { type TokenSet, bearerToken } from './auth.js';

/** Paths that need no token (besides routes whose config says `public`, the dashboard's files). */
export const PUBLIC_PATHS = new Set(['/healthz']);

export type RateLimitOption = { readonly max: number; readonly timeWindowMs: number } | false | undefined;

export async function registerRateLimit(app: FastifyInstance, option: RateLimitOption): Promise<void> {
  if (option === false) return;
  const rl = option ?? { max: 600, timeWindowMs: 60_000 };
  await app.register(rateLimit, {
    max: rl.max,
    timeWindow: rl.timeWindowMs,
    errorResponseBuilder: (_req, ctx) => ({
      statusCode: 429,
      code: 'RATE_LIMITED',
      message: `too many requests: at most ${ctx.max} per ${ctx.after}; retry after ${ctx.after}`,
    }),
  });
  // The plugin hooks routes as they are added; the not-found handler is no route, so unknown
  // URLs would escape the limit and tokens could be guessed there at full speed. The same
  // limiter (same store, same key) runs for them in onRequest, before the token check.
  const limit = app.rateLimit();
  app.addHook('onRequest', async (request, reply) => {
    if (request.is404) await limit.call(app, request, reply);
  });
}

/**
 * preParsing: after the rate limit's route-level onRequest hook (so failed logins count) and
 * before the body is read (so an unauthenticated caller cannot make the server parse anything).
 */
export function requireBearerToken(app: FastifyInstance, tokens: TokenSet): void {
  app.addHook('preParsing', async (request, _reply, payload) => {
    const path = request.url.split('?')[0] ?? '';
    if (PUBLIC_PATHS.has(path) || request.routeOptions.config?.public === true) return payload;
    const got = bearerToken(request.headers.authorization);
    if ('problem' in got) throw new SeconetError('UNAUTHORIZED', got.problem, { field: 'authorization' });
    if (!tokens.accepts(got.token)) throw new SeconetError('UNAUTHORIZED', 'the bearer token is not valid', { field: 'authorization' });
    return payload;
  });
}
