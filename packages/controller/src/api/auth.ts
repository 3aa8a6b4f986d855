// Bearer-token authentication for the REST API. Tokens live in a file, one per line (blank lines
// and lines starting with # ignored), so ops can rotate them without a restart of anything but
// the API. A presented token is compared with every configured one through SHA-256 digests of
// equal length with crypto.timingSafeEqual, and the loop never stops early, so neither the
// content nor the position of a valid token leaks through timing.

import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { SeconetError } from '@seconet/core';

const TOKEN_RE = /^[\x21-\x7e]{16,512}$/;

/** Reads a token file; throws INVALID_ARGUMENT naming the file when it holds no usable token. */
export function readTokenFile(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new SeconetError('INVALID_ARGUMENT', `token file ${path}: cannot read it (${(e as NodeJS.ErrnoException).code ?? 'error'})`, { field: 'tokenFile', cause: e });
  }
  const tokens = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && !l.startsWith('#'));
  tokens.forEach((tok, i) => {
    if (!TOKEN_RE.test(tok)) throw new SeconetError('INVALID_ARGUMENT', `token file ${path}: token ${i + 1} must be 16-512 printable characters without spaces`, { field: 'tokenFile' });
  });
  if (tokens.length === 0) throw new SeconetError('INVALID_ARGUMENT', `token file ${path}: no token in it (one per line)`, { field: 'tokenFile' });
  return tokens;
}

export class TokenSet {
  private readonly digests: Buffer[];

  constructor(tokens: readonly string[]) {
    if (tokens.length === 0) throw new SeconetError('INVALID_ARGUMENT', 'the API needs at least one bearer token', { field: 'tokens' });
    for (const tok of tokens) {
      if (!TOKEN_RE.test(tok)) throw new SeconetError('INVALID_ARGUMENT', 'a bearer token must be 16-512 printable characters without spaces', { field: 'tokens' });
    }
    this.digests = tokens.map(digest);
  }

  /** True when `token` is one of the configured tokens; constant time in the token's content. */
  accepts(token: string): boolean {
    const d = digest(token);
    let ok = false;
    for (const known of this.digests) ok = timingSafeEqual(d, known) || ok;
    return ok;
  }
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/** The token of an `Authorization: Bearer <token>` header, or why there is none. */
export function bearerToken(header: string | undefined): { token: string } | { problem: string } {
  if (header === undefined || header.length === 0) return { problem: 'missing Authorization header; send "Authorization: Bearer <token>"' };
  const m = /^(\S+)\s+(\S+)\s*$/.exec(header);
  if (m === null || m[1]!.toLowerCase() !== 'bearer') return { problem: 'Authorization must use the Bearer scheme: "Authorization: Bearer <token>"' };
  return { token: m[2]! };
}
