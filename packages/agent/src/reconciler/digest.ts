// The desired state as the journal keeps it: secrets replaced by their SHA-256 (a journal on
// disk never holds a key), and digests of the whole state and of each component, so Apply can
// tell "same state again" (a no-op) from "this component changed" (re-ensure it and every
// component after it).

import { createHash } from 'node:crypto';
import type { HostState__Output } from '../gen/seconet/agent/v1/HostState.js';

export const COMPONENTS = ['containers', 'network', 'tunnel', 'filter'] as const;
export type Component = (typeof COMPONENTS)[number];

export function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) =>
    x !== null && typeof x === 'object' && !Array.isArray(x)
      ? Object.fromEntries(Object.entries(x as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : x,
  );
}

export function digestOf(v: unknown): string {
  return sha256(canonical(v));
}

/** The state with every secret replaced by "sha256:<hex>" (empty secrets stay empty). */
export function sanitizeState(s: HostState__Output): HostState__Output {
  if (s.tunnel === null || s.tunnel.secrets === null) return s;
  const hide = (x: string): string => (x === '' ? '' : `sha256:${sha256(x)}`);
  return { ...s, tunnel: { ...s.tunnel, secrets: { privateKey: hide(s.tunnel.secrets.privateKey), preSharedKey: hide(s.tunnel.secrets.preSharedKey) } } };
}

/** Digests per component of a (sanitized) state; `mtu` is the container MTU in effect. */
export function componentDigests(s: HostState__Output, mtu: number): Record<Component, string> {
  return {
    containers: digestOf({ containers: s.containers, mtu }),
    network: digestOf({ network: s.network, cidr: s.containerCidr }),
    tunnel: digestOf(s.tunnel),
    filter: digestOf(s.filter),
  };
}
