// known_hosts matching for the SSH features (host checks, agent recovery). A host key is only
// accepted when known_hosts lists exactly that key for the host (plain or hashed entries,
// "[host]:port" form for other ports) — never trust on first use.

import { createHmac } from 'node:crypto';

export interface KnownKey {
  readonly type: string;
  readonly key: string; // base64 blob
}

function hostPatterns(host: string, port: number): string[] {
  return port === 22 ? [host, `[${host}]:22`] : [`[${host}]:${port}`];
}

function matchesHashed(entry: string, candidates: readonly string[]): boolean {
  // |1|base64(salt)|base64(hmac-sha1(salt, host))
  const m = /^\|1\|([^|]+)\|([^|]+)$/.exec(entry);
  if (!m) return false;
  const salt = Buffer.from(m[1]!, 'base64');
  return candidates.some((c) => createHmac('sha1', salt).update(c).digest('base64') === m[2]);
}

/** The keys known_hosts lists for host:port. */
export function knownKeys(knownHostsText: string, host: string, port: number): KnownKey[] {
  const candidates = hostPatterns(host, port);
  const out: KnownKey[] = [];
  for (const raw of knownHostsText.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith('@')) continue;
    const [hosts, type, key] = line.split(/\s+/);
    if (!hosts || !type || !key) continue;
    const names = hosts.split(',');
    const hit = names.some((n) => (n.startsWith('|1|') ? matchesHashed(n, candidates) : candidates.includes(n)));
    if (hit) out.push({ type, key });
  }
  return out;
}

/** Whether the raw host key blob the server presented is one known_hosts lists. */
export function isKnownHostKey(knownHostsText: string, host: string, port: number, presented: Buffer): boolean {
  const b64 = presented.toString('base64');
  return knownKeys(knownHostsText, host, port).some((k) => k.key === b64);
}
