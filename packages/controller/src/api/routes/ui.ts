// Serves the dashboard (packages/controller/ui, bundled by `npm run build` into dist/ui) from the
// API's own process and port: `/` and `/ui/` answer index.html (`/ui` leads to `/ui/`), and
// `/ui/FILE` the few bundled files. The files hold no data and no secret, so they are public (route
// config `public`); every figure the page shows comes from the API with the bearer token the
// user types into its sign-in form. The files are read once at start; a controller built
// without the dashboard answers 503 with what to do instead of a blank page.
//
// The Content-Security-Policy allows scripts from this origin only; inline styles are allowed
// because the HTML report (self-contained, no scripts) is opened from the page as a blob.

import { readdirSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';

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

interface UiFile {
  readonly body: Buffer;
  readonly etag: string;
}

function loadFiles(dir: string): Map<string, UiFile> | { problem: string } {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    return { problem: `the dashboard is not built (${(e as NodeJS.ErrnoException).code ?? 'error'} reading ${dir}): run npm run build` };
  }
  const files = new Map<string, UiFile>();
  for (const n of names) {
    if (TYPES[extname(n)] === undefined) continue;
    const body = readFileSync(join(dir, n));
    files.set(n, { body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` });
  }
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

  const serve = async (name: string, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    if (!(loaded instanceof Map)) {
      return reply.status(503).send({ code: 'UNAVAILABLE', message: loaded.problem, field: 'url' });
    }
    const file = loaded.get(name);
    if (file === undefined) return reply.status(404).send({ code: 'NOT_FOUND', message: `no dashboard file ${name}`, field: 'url' });
    void reply
      .type(TYPES[extname(name)]!)
      // esbuild names chunks by their content hash: they never change; the rest is revalidated.
      .header('cache-control', name.startsWith('chunk-') ? 'public, max-age=31536000, immutable' : 'no-cache')
      .header('etag', file.etag)
      .header('content-security-policy', UI_CSP)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer');
    if (request.headers['if-none-match'] === file.etag) return reply.status(304).send();
    return reply.send(file.body);
  };
  // The page refers to its files by absolute path, so `/` can answer it without a redirect.
  app.get('/', { config, schema }, async (request, reply) => serve('index.html', request, reply));
  app.get('/ui', { config, schema }, async (_req, reply) => reply.redirect('/ui/'));
  app.get<{ Params: { file?: string } }>('/ui/:file', { config, schema }, async (request, reply) =>
    serve(request.params.file === undefined || request.params.file === '' ? 'index.html' : request.params.file, request, reply));
};
