// Turns anything a route throws into the one error body {code, message, field}. SeconetErrors
// carry their code (HTTP status from the registry in @seconet/core); fastify's own request
// errors (schema validation, bad JSON, body too large, wrong media type, rate limit) become
// the matching registry codes with the field at fault; anything else is a 5xx whose body says
// only that it happened and which request to look for in the log.

import { ErrorCodes, isSeconetError, type ErrorCode } from '@seconet/core';
import type { ErrorBodyT } from './schemas.js';

export interface MappedError {
  readonly status: number;
  readonly body: ErrorBodyT;
  /** True when the details belong in the log only (5xx). */
  readonly internal: boolean;
}

interface ValidationItem {
  instancePath?: string;
  keyword?: string;
  params?: Record<string, unknown>;
  message?: string;
}

interface FastifyLikeError {
  statusCode?: number;
  code?: string;
  message?: string;
  validation?: ValidationItem[];
  validationContext?: string;
}

/** "/matrix/tunnel/0" -> "matrix.tunnel[0]"; a context prefix names the request part. */
export function jsonPointerToField(pointer: string, context?: string): string {
  const parts = pointer
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  let out = '';
  for (const p of parts) out += /^[0-9]+$/.test(p) ? `[${p}]` : out.length === 0 ? p : `.${p}`;
  if (context === undefined || context === 'body') return out.length === 0 ? 'body' : out;
  if (context === 'headers') return out.length === 0 ? 'headers' : out;
  return out.length === 0 ? context : `${context}.${out}`;
}

function validationField(err: FastifyLikeError): string {
  const first = err.validation?.[0];
  const ctx = err.validationContext === 'querystring' ? 'query' : err.validationContext;
  if (first === undefined) return ctx ?? 'body';
  let pointer = first.instancePath ?? '';
  const p = first.params ?? {};
  if (typeof p['missingProperty'] === 'string') pointer += `/${p['missingProperty']}`;
  if (typeof p['additionalProperty'] === 'string') pointer += `/${p['additionalProperty']}`;
  return jsonPointerToField(pointer, ctx);
}

function body(code: ErrorCode, message: string, field?: string): ErrorBodyT {
  return field === undefined ? { code, message } : { code, message, field };
}

export function mapError(error: unknown, requestId: string): MappedError {
  if (isSeconetError(error)) {
    const status = ErrorCodes[error.code].http;
    if (status >= 500) return internal(error.code, requestId);
    // A spec that is not a document at all has no field inside it: the body as a whole is at fault.
    const field = error.field ?? (error.code === 'INVALID_SPEC' ? 'body' : undefined);
    return { status, body: body(error.code, error.message, field), internal: false };
  }
  const e = (typeof error === 'object' && error !== null ? error : {}) as FastifyLikeError;
  if (Array.isArray(e.validation)) {
    const field = validationField(e);
    const detail = e.validation[0]?.message ?? 'is invalid';
    return { status: 400, body: body('INVALID_ARGUMENT', `${field}: ${detail}`, field), internal: false };
  }
  const status = e.statusCode ?? 500;
  if (status === 429) return { status, body: body('RATE_LIMITED', e.message ?? 'too many requests; retry later'), internal: false };
  if (status === 413) return { status, body: body('INVALID_ARGUMENT', 'body: the request body is too large', 'body'), internal: false };
  if (status === 415) return { status, body: body('INVALID_ARGUMENT', 'content-type: send application/json, application/yaml or text/yaml', 'content-type'), internal: false };
  if (status === 404) return { status, body: body('NOT_FOUND', e.message ?? 'not found'), internal: false };
  if (status >= 400 && status < 500) {
    const code: ErrorCode = e.code?.startsWith('FST_ERR_CTP') === true ? 'INVALID_SPEC' : 'INVALID_ARGUMENT';
    return { status: 400, body: body(code, `body: ${e.message ?? 'malformed request'}`, 'body'), internal: false };
  }
  return internal('INTERNAL', requestId);
}

function internal(code: ErrorCode, requestId: string): MappedError {
  const status = ErrorCodes[code].http;
  const what = code === 'INTERNAL' ? 'internal error' : ErrorCodes[code].description.replace(/\.$/, '');
  return { status, body: { code, message: `${what} (request ${requestId}); the controller log has the details` }, internal: true };
}
