// Names: validation of user-given names and deterministic, kernel-safe object names.
// Kernel interface names are limited to IFNAMSIZ-1 = 15 characters, so object names are a
// short owner prefix plus a hash of what they stand for, never user text.

import { createHash } from 'node:crypto';
import { invalid } from './errors.js';

/** Names of scopes, experiments, hosts, agents: lowercase, digits, dashes. */
export const NAME_RE = /^[a-z0-9][a-z0-9-]{0,62}$/;
/** Container names within a scope. */
export const CONTAINER_NAME_RE = /^[a-z0-9][a-z0-9-]{0,31}$/;
/** An agent's object-name prefix: "sn" plus two characters, e.g. "sn01", "snab". */
export const PREFIX_RE = /^sn[a-z0-9]{2}$/;

export const IFNAMSIZ = 16;

export function requireName(field: string, value: string, re: RegExp = NAME_RE): string {
  if (!re.test(value)) {
    throw invalid(field, `${JSON.stringify(value)} is not a valid name: use lowercase letters, digits and dashes, starting with a letter or digit (${re.source})`);
  }
  return value;
}

const B32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** Lowercase base32 of the SHA-256 of the parts, cut to `length` characters. */
export function shortHash(parts: readonly string[], length = 8): string {
  const digest = createHash('sha256').update(parts.join('\u0000')).digest();
  let out = '';
  let bits = 0;
  let acc = 0;
  for (const byte of digest) {
    acc = (acc << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < length) {
      out += B32[(acc >>> (bits - 5)) & 31];
      bits -= 5;
    }
    if (out.length >= length) break;
  }
  return out;
}

/**
 * A kernel object name: prefix (4) + one letter for the object kind + hash, at most 15
 * characters. The same inputs always give the same name.
 */
export function objectName(prefix: string, kind: string, parts: readonly string[], hashLength = 8): string {
  if (!PREFIX_RE.test(prefix)) throw new Error(`bad prefix ${prefix}`);
  if (!/^[a-z]$/.test(kind)) throw new Error(`bad object kind ${kind}`);
  const name = `${prefix}${kind}${shortHash(parts, hashLength)}`;
  if (name.length > IFNAMSIZ - 1) throw new Error(`name ${name} exceeds IFNAMSIZ`);
  return name;
}
