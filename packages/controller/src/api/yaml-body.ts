// Request bodies: the experiment spec may be sent as YAML or JSON. Both are parsed strictly
// (unique keys, string keys, bounded aliases) so a typo becomes an INVALID_SPEC naming the line,
// never a silently different spec. JSON replaces Fastify's parser, which keeps the last of two
// equal keys and answers a `__proto__` key with "not valid JSON"; here a duplicate is named and
// a `__proto__` key reaches the spec parser, which explains why it is refused.

import type { FastifyInstance } from 'fastify';
import { parseDocument } from 'yaml';
import { SeconetError, checkPrototypeKeys, parseJsonStrict } from '@seconet/core';

export const YAML_TYPES = ['application/yaml', 'text/yaml', 'application/x-yaml'];

export function parseYamlSpec(text: string): unknown {
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false, strict: true, stringKeys: true });
  const problem = doc.errors[0];
  if (problem !== undefined) {
    const line = problem.linePos?.[0]?.line;
    throw new SeconetError('INVALID_SPEC', `body: YAML does not parse${line === undefined ? '' : ` (line ${line})`}: ${problem.message.split('\n')[0]}`, { field: 'body' });
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 50 });
  } catch (e) {
    throw new SeconetError('INVALID_SPEC', `body: YAML does not resolve: ${(e as Error).message.split('\n')[0]}`, { field: 'body', cause: e });
  }
  checkPrototypeKeys(value);
  return value;
}

/** A JSON body, with a duplicate key refused like YAML refuses it. */
export function parseJsonBody(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    JSON.parse(text);
  } catch (e) {
    const pos = /position (\d+)/.exec((e as Error).message);
    const line = pos ? text.slice(0, Number(pos[1])).split('\n').length : undefined;
    throw new SeconetError('INVALID_SPEC', `body: the body is not valid JSON${line === undefined ? '' : ` (line ${line})`}: ${(e as Error).message}`, { field: 'body', cause: e });
  }
  const value = parseJsonStrict(text);
  checkPrototypeKeys(value);
  return value;
}

/** Teaches the app to read YAML and strict JSON bodies (on the root instance, so every route sees it). */
export function addYamlBodyParser(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, text, done) => {
    try {
      done(null, parseJsonBody(String(text)));
    } catch (e) {
      done(e as Error, undefined);
    }
  });
  app.addContentTypeParser(YAML_TYPES, { parseAs: 'string' }, (_req, text, done) => {
    try {
      done(null, parseYamlSpec(String(text)));
    } catch (e) {
      done(e as Error, undefined);
    }
  });
}
