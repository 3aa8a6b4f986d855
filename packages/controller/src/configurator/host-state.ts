// Desired state of every host of a cell (the Configurator's input to Apply): containers and
// addresses from the placement, the tunnel to every other involved host with the routes to
// its container network, per-scope secrets, and the filter whose allow-list is exactly the
// cell's pairs while every involved container network stays under default deny.
//
// The scope name is readable (experiment, network setup, container count) and leaves the rule
// count out on purpose: cells that differ only in rules Apply on the same scope, and the
// agent rewrites just the filter.

import { NAME_RE, RECIPES, SeconetError, generateTunnelSecrets, isRecipeName, overlayAddress, shortHash, type Cell, type NetworkSetup } from '@seconet/core';
import type { HostStateMsg, TunnelPeerMsg } from '../agents/contract.js';
import { allowedPairs, type CellPlacement } from '../scheduler/placement.js';

export interface HostSecrets {
  readonly privateKey: string;
  readonly preSharedKey: string;
  /** What the peers need to know of this host (WireGuard public key, tinc public key); "" when none. */
  readonly publicKey: string;
}

/** Generates per-scope tunnel secrets for the involved hosts (core's generateTunnelSecrets). */
export type SecretsProvider = (kind: string, hosts: readonly string[]) => ReadonlyMap<string, HostSecrets> | Promise<ReadonlyMap<string, HostSecrets>>;

export const NO_SECRETS: SecretsProvider = (_kind, hosts) => new Map(hosts.map((h) => [h, { privateKey: '', preSharedKey: '', publicKey: '' }]));

export function scopeName(experiment: string, setup: NetworkSetup, containers: number): string {
  const s = `x${shortHash([experiment], 6)}-${setup.network}-${setup.tunnel}-${setup.filter}-c${containers}`;
  if (!NAME_RE.test(s)) throw new SeconetError('INTERNAL', `derived scope name ${s} is not a valid name`);
  return s;
}

export interface HostStateInput {
  readonly cell: Cell;
  readonly placement: CellPlacement;
  /** Underlay address of every involved host, from GetInfo. */
  readonly underlay: ReadonlyMap<string, string>;
  readonly secrets: ReadonlyMap<string, HostSecrets>;
}

/** HostState per involved host, keyed by host name. */
export function buildHostStates(input: HostStateInput): Map<string, HostStateMsg> {
  const { cell, placement } = input;
  const guarded = placement.hosts.map((h) => h.containerCidr);
  const allow = allowedPairs(placement).map((p) => ({ src: p.source.address, dst: p.sink.address }));
  const multi = placement.hosts.length > 1;
  if (!multi && cell.tunnel !== 'none') {
    throw new SeconetError('UNSUPPORTED', `matrix.tunnel: ${cell.tunnel} needs two hosts; a single-host placement has nothing to tunnel between`, { field: 'matrix.tunnel' });
  }
  // A recipe cell's tunnel speaks on the CNI's port and VNI (spec/recipes.ts); 0 lets the agent use the kind's default.
  const recipe = cell.recipe !== undefined && isRecipeName(cell.recipe) ? RECIPES[cell.recipe] : undefined;
  // Every host as a peer, built once: each host's state lists all the others (64 hosts: 4,032 peer entries).
  const asPeer = new Map<string, TunnelPeerMsg>();
  if (multi) {
    for (const p of placement.hosts) {
      const addr = input.underlay.get(p.name);
      if (!addr) throw new SeconetError('UNAVAILABLE', `host ${p.name}: its agent did not report an underlay address`, { field: 'hosts' });
      asPeer.set(p.name, {
        name: p.name,
        underlayAddress: addr,
        overlayAddress: overlayAddress(p.index),
        routes: [p.containerCidr],
        publicKey: input.secrets.get(p.name)?.publicKey ?? '',
        index: p.index,
      });
    }
  }
  const out = new Map<string, HostStateMsg>();
  for (const h of placement.hosts) {
    const local = input.underlay.get(h.name);
    if (!local) throw new SeconetError('UNAVAILABLE', `host ${h.name}: its agent did not report an underlay address`, { field: 'hosts' });
    const secrets = input.secrets.get(h.name) ?? { privateKey: '', preSharedKey: '', publicKey: '' };
    const peers: TunnelPeerMsg[] = multi ? [...asPeer.values()].filter((p) => p.name !== h.name) : [];
    out.set(h.name, {
      network: cell.network,
      containerCidr: h.containerCidr,
      containers: h.containers.map((c) => ({ name: c.name, address: c.address })),
      tunnel: {
        kind: cell.tunnel,
        variant: 'VARIANT_UNSPECIFIED',
        localAddress: local,
        overlayAddress: `${overlayAddress(h.index)}/24`,
        peers,
        secrets: { privateKey: secrets.privateKey, preSharedKey: secrets.preSharedKey },
        port: recipe?.tunnelPort ?? 0,
        vni: recipe?.vni ?? 0,
      },
      filter: { kind: cell.filter, allow, extraRules: cell.rules, guarded, ruleMatch: cell.ruleMatch ?? '' },
    });
  }
  return out;
}

/** Fresh per-scope secrets from @seconet/core (WireGuard and tinc key pairs, IPsec and OpenVPN shared keys). */
export const generatedSecrets: SecretsProvider = (kind, hosts) => new Map(Object.entries(generateTunnelSecrets(kind, hosts)));
