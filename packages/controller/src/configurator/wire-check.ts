// The wire check: encryption shown on the wire, not assumed. During a cell's pre-flight every
// host of the cell captures its underlay (the agent's StartCapture) while the pre-flight ping
// fills its payload with a random 16-byte marker; then the captures are stopped and merged. A
// tunnel that claims encryption (IPsec, WireGuard, OpenVPN, Tinc) and lets the marker cross the
// underlay in clear fails the cell; a plaintext one (none, VXLAN, GRE, ...) is recorded as
// `encrypted: no`. The encapsulation seen (ESP, UDP 51820, ...) is kept beside the verdict.

import { randomBytes, randomUUID } from 'node:crypto';
import type { Cell } from '@seconet/core';
import type { AgentLink, CaptureResultMsg } from '../agents/contract.js';
import type { CellPlacement } from '../scheduler/placement.js';

/** Tunnels whose purpose is confidentiality: a marker seen in clear fails their cell. */
export const ENCRYPTING_TUNNELS: ReadonlySet<string> = new Set(['ipsec', 'wireguard', 'openvpn', 'tinc']);

export interface WireVerdict {
  /** yes: the marker crossed the hosts and never showed in clear; no: it did; unknown: not shown either way. */
  readonly encrypted: 'yes' | 'no' | 'unknown';
  readonly claimsEncryption: boolean;
  readonly markerInClear: boolean;
  /** Encapsulations seen between the cell's hosts, most packets first ("ESP-in-UDP 4500, IKE UDP 500"). */
  readonly encapsulation: string;
  /** A claimed encryption that leaked: the cell must not be measured. */
  readonly leak: boolean;
  readonly evidence: string;
}

export interface WireSession {
  /** The ping pattern to send (hex). */
  readonly patternHex: string;
  /** Stops every capture and gives the verdict. */
  finish(): Promise<WireVerdict>;
}

function notChecked(cell: Cell, why: string): WireVerdict {
  return { encrypted: 'unknown', claimsEncryption: ENCRYPTING_TUNNELS.has(cell.tunnel), markerInClear: false, encapsulation: '', leak: false, evidence: `wire check not done: ${why}` };
}

/** Merges the hosts' captures into one verdict (exported for unit tests). */
export function wireVerdict(cell: Cell, results: ReadonlyMap<string, CaptureResultMsg>, errors: readonly string[]): WireVerdict {
  const claims = ENCRYPTING_TUNNELS.has(cell.tunnel);
  const classes = new Map<string, { packets: number; markerPackets: number }>();
  let marker = 0;
  let packets = 0;
  const lines: string[] = [];
  for (const [host, r] of results) {
    marker += r.markerPackets;
    packets += r.packets;
    for (const e of r.encapsulations) {
      const c = classes.get(e.name) ?? { packets: 0, markerPackets: 0 };
      c.packets += e.packets;
      c.markerPackets += e.markerPackets;
      classes.set(e.name, c);
    }
    const enc = r.encapsulations.map((e) => `${e.name} ${e.packets}${e.markerPackets ? ` (${e.markerPackets} with marker)` : ''}`).join(', ') || 'none between the hosts';
    lines.push(`${host} ${r.device}: ${r.packets} packets, ${r.markerPackets} with the marker in clear; ${enc}${r.truncated ? ' (packet limit reached)' : ''}`);
  }
  lines.push(...errors.map((e) => `capture failed: ${e}`));
  const between = [...classes.values()].reduce((a, c) => a + c.packets, 0);
  const encapsulation = [...classes].sort((a, b) => b[1].packets - a[1].packets || a[0].localeCompare(b[0])).map(([n]) => n).join(', ');
  const markerInClear = marker > 0;
  const encrypted = markerInClear ? 'no' : between > 0 && results.size > 0 ? 'yes' : 'unknown';
  const leak = claims && markerInClear;
  if (leak) lines.unshift(`${cell.tunnel} claims encryption but the marker payload crossed the underlay in clear`);
  else if (encrypted === 'unknown') lines.unshift(packets === 0 && errors.length === 0 ? 'no packet between the hosts was captured: encryption not shown' : 'encryption not shown');
  return { encrypted, claimsEncryption: claims, markerInClear, encapsulation, leak, evidence: lines.join('\n') };
}

/**
 * Starts a capture on every host of a multi-host cell. Returns a session whose `finish()`
 * stops them; hosts whose link cannot capture, or whose capture fails to start, are named in
 * the evidence (the verdict is then `unknown` unless another host saw the marker).
 */
export async function startWireCheck(
  scope: string,
  cell: Cell,
  placement: CellPlacement,
  agents: ReadonlyMap<string, AgentLink>,
  underlay: ReadonlyMap<string, string>,
  maxDurationMs: number,
): Promise<WireSession> {
  const marker = randomBytes(16);
  const patternHex = marker.toString('hex');
  const hosts = placement.hosts.map((h) => h.name);
  if (hosts.length < 2) return { patternHex, finish: () => Promise.resolve(notChecked(cell, 'single host: no traffic crosses the underlay')) };
  const errors: string[] = [];
  const started = new Map<string, { link: AgentLink; id: string }>();
  await Promise.all(hosts.map(async (h) => {
    const link = agents.get(h);
    if (!link?.startCapture || !link.stopCapture) {
      errors.push(`${h}: the agent link offers no capture`);
      return;
    }
    const peers = hosts.filter((o) => o !== h).map((o) => underlay.get(o)).filter((a): a is string => a !== undefined);
    try {
      const r = await link.startCapture({ requestId: randomUUID(), scope, marker, peers, maxDurationMs }, { deadlineMs: 20_000 });
      started.set(h, { link, id: r.captureId });
    } catch (err) {
      errors.push(`${h}: ${(err as Error).message}`);
    }
  }));
  return {
    patternHex,
    async finish() {
      const results = new Map<string, CaptureResultMsg>();
      await Promise.all([...started].map(async ([h, s]) => {
        try {
          results.set(h, await s.link.stopCapture!({ requestId: randomUUID(), captureId: s.id }, { deadlineMs: 20_000 }));
        } catch (err) {
          errors.push(`${h}: ${(err as Error).message}`);
        }
      }));
      if (results.size === 0) return notChecked(cell, errors.join('; ') || 'no capture');
      return wireVerdict(cell, results, errors);
    },
  };
}
