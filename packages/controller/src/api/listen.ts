// Where the REST API listens and how: HTTPS options from api.tls, and a warning when bearer
// tokens would cross a network in clear text (a non-loopback address without TLS).

import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { SeconetError } from '@seconet/core';

/** True for 127.0.0.0/8, ::1 and "localhost". */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '');
  if (h === 'localhost' || h === '::1') return true;
  return isIP(h) === 4 && h.startsWith('127.');
}

/** The warning to log at start, or undefined when the API is on loopback or behind TLS. */
export function plaintextApiWarning(host: string, tls: boolean): string | undefined {
  if (tls || isLoopback(host)) return undefined;
  return `the REST API listens on ${host} without TLS: bearer tokens and results cross the network in clear text; set api.tls (cert and key from \`seconet certs issue --kind server\`) or listen on 127.0.0.1 behind a TLS proxy`;
}

/** Reads api.tls into the options Fastify's `https` takes. */
export function readApiTls(tls: { readonly cert: string; readonly key: string }): { cert: Buffer; key: Buffer } {
  const read = (file: string, field: string): Buffer => {
    try {
      return readFileSync(file);
    } catch (e) {
      throw new SeconetError('INVALID_ARGUMENT', `${field}: cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? String(e)}); create it with \`seconet certs issue --kind server\``, { field, cause: e });
    }
  };
  return { cert: read(tls.cert, 'api.tls.cert'), key: read(tls.key, 'api.tls.key') };
}
