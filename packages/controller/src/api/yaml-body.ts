// YAML request bodies: the experiment spec may be sent as YAML. The document is parsed strictly
// (unique keys, string keys, bounded aliases) so a typo becomes an INVALID_SPEC naming the line,
// never a silently different spec.

import type { FastifyInstance } from 'fastify';
import { parseDocument } from 'yaml';
import { SeconetError } from '@seconet/core';

export const YAML_TYPES = ['application/yaml', 'text/yaml', 'application/x-yaml'];

export function parseYamlSpec(text: string): unknown {
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false, strict: true, stringKeys: true });
  const problem = doc.errors[0];
  if (problem !== undefined) {
    const line = problem.linePos?.[0]?.line;
    throw new SeconetError('INVALID_SPEC', `body: YAML does not parse${line === undefined ? '' : ` (line ${line})`}: ${problem.message.split('\n')[0]}`, { field: 'body' });
  }
  try {
    return doc.toJS({ maxAliasCount: 50 });
  } catch (e) {
    throw new SeconetError('INVALID_SPEC', `body: YAML does not resolve: ${(e as Error).message.split('\n')[0]}`, { field: 'body', cause: e });
  }
}

/** Teaches the app to read YAML bodies (on the root instance, so every route sees it). */
export function addYamlBodyParser(app: FastifyInstance): void {
  app.addContentTypeParser(YAML_TYPES, { parseAs: 'string' }, (_req, text, done) => {
    try {
      done(null, parseYamlSpec(String(text)));
    } catch (e) {
      done(e as Error, undefined);
    }
  });
}
