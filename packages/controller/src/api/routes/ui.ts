// Serves the dashboard (packages/controller/ui, bundled by `npm run build` into dist/ui) from the
// API's own process and port: `/` and `/ui` lead to `/ui/`, which answers index.html, and the
// few bundled files beside it. The files hold no data and no secret, so they are public (route
// config `public`); every figure the page shows comes from the API with the bearer token the
// user types into its sign-in form. The files are read once at start; a controller built
// without the dashboard answers 503 with what to do instead of a blank page.
//
// The Content-Security-Policy allows scripts from this origin only; inline styles are allowed
// because the HTML report (self-contained, no scripts) is opened from the page as a blob.

import { readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsync } from 'fastify';

export interface UiRoutesOptions {
  /** Directory of the built dashboard (default: packages/controller/dist/ui). */
  readonly dir?: string;
}

/** Where `npm run build` writes the dashboard; the same from src/api (tests) and dist/api. */
export const DEFAULT_UI_DIR = fileURLToPath(new URL('../../../dist/ui/', import.meta.url));

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.map': 'application/json; charset=utf-8',
};

export const UI_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

function loadFiles(dir: string): Map<string, Buffer> | { problem: string } {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    return { problem: `the dashboard is not built (${(e as NodeJS.ErrnoException).code ?? 'error'} reading ${dir}): run npm run build` };
  }
  const files = new Map<string, Buffer>();
  for (const n of names) if (TYPES[extname(n)] !== undefined) files.set(n, readFileSync(join(dir, n)));
  if (!files.has('index.html')) return { problem: `the dashboard is not built (no index.html in ${dir}): run npm run build` };
  return files;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Served without the bearer token (see requireBearerToken in access.ts). */
    public?: boolean;
  }
}

export const uiRoutes: FastifyPluginAsync<UiRoutesOptions> = async (app, opts) => {
  const loaded = loadFiles(opts.dir ?? DEFAULT_UI_DIR);
  const config = { public: true };
  const schema = { hide: true };

  app.get('/', { config, schema }, async (_req, reply) => reply.redirect('/ui/'));
  app.get('/ui', { config, schema }, async (_req, reply) => reply.redirect('/ui/'));
  app.get<{ Params: { file?: string } }>('/ui/:file', { config, schema }, async (request, reply) => {
    const name = request.params.file === undefined || request.params.file === '' ? 'index.html' : request.params.file;
    if (!(loaded instanceof Map)) {
      return reply.status(503).send({ code: 'UNAVAILABLE', message: loaded.problem, field: 'url' });
    }
    const body = loaded.get(name);
    if (body === undefined) return reply.status(404).send({ code: 'NOT_FOUND', message: `no dashboard file ${name}`, field: 'url' });
    return reply
      .type(TYPES[extname(name)]!)
      .header('cache-control', 'no-cache')
      .header('content-security-policy', UI_CSP)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .send(body);
  });
};
