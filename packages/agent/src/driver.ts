// The one shape of every building block the agent drives (network solution, tunnel, filter):
// probe what the host offers, ensure a desired state (twice is a no-op), check drift against
// the kernel, and remove (twice succeeds). Objects are recorded in the scope journal before
// they are created, so teardown and GC can remove them from the journal alone, after a crash
// and without the driver (journal/undo.ts knows how to remove every object type).

import type { Logger } from 'pino';
import type { HostEnv } from './host-env.js';
import type { Runner } from './runner/runner.js';
import type { ScopeJournal } from './journal/journal.js';
import type { ContainerSpec__Output } from './gen/seconet/agent/v1/ContainerSpec.js';
import type { TunnelSpec__Output } from './gen/seconet/agent/v1/TunnelSpec.js';
import type { FilterSpec__Output } from './gen/seconet/agent/v1/FilterSpec.js';

export type VariantName = 'kernel' | 'userspace';
export type Category = 'network' | 'tunnel' | 'filter' | 'workload';

export interface CapabilityReport {
  readonly category: Category;
  readonly kind: string;
  readonly variant: VariantName;
  readonly available: boolean;
  readonly version: string;
  /** When not available: what is missing and what to do about it. */
  readonly reason: string;
  readonly engine?: string;
}

export interface DriverContext {
  readonly env: HostEnv;
  readonly runner: Runner;
  readonly journal: ScopeJournal;
  readonly log: Logger;
  readonly scope: string;
  readonly signal?: AbortSignal;
}

/** What probes get: no scope, no journal. */
export interface ProbeContext {
  readonly env: HostEnv;
  readonly runner: Runner;
  readonly log: Logger;
}

export interface DriftReport {
  readonly object: string;
  readonly expected: string;
  readonly observed: string;
}

/** A container as the containers module made it: namespace and veth pair, no addresses yet. */
export interface ContainerHandle {
  readonly spec: ContainerSpec__Output;
  /** Network namespace name (ip netns). */
  readonly netns: string;
  /** Host-side veth in the host namespace. */
  readonly hostIface: string;
  /** Interface inside the container namespace (always "eth0"). */
  readonly iface: string;
  readonly mac: string;
}

/** What a network solution tells tunnels and filters about the host's container plumbing. */
export interface NetworkView {
  readonly kind: string;
  readonly containerCidr: string;
  /** The gateway address containers use (bridge address or 169.254.1.1 for routed kinds). */
  readonly gateway: string;
  /** Linux bridge or OVS bridge name, when the solution has one. */
  readonly bridge: string | undefined;
  /** OVS: ovsdb socket of this agent's switch (for ovs-vsctl --db=unix:...). */
  readonly ovsdb: string | undefined;
  readonly containers: readonly ContainerHandle[];
  readonly mtu: number;
}

export interface EnsureResult {
  readonly changed: boolean;
  readonly variant: VariantName;
  readonly version: string;
}

export interface NetworkDriver {
  readonly kind: string;
  probe(ctx: ProbeContext): Promise<CapabilityReport[]>;
  /** Joins the containers: bridge/ports, addresses, routes, gateway. */
  ensure(ctx: DriverContext, containerCidr: string, containers: readonly ContainerHandle[], mtu: number): Promise<{ result: EnsureResult; view: NetworkView }>;
  check(ctx: DriverContext, view: NetworkView): Promise<DriftReport[]>;
}

export interface TunnelDriver {
  readonly kind: string;
  probe(ctx: ProbeContext): Promise<CapabilityReport[]>;
  /** Bytes of encapsulation overhead; container MTU = underlay MTU - overhead. */
  overhead(spec: TunnelSpec__Output): number;
  /** Creates the tunnel to every peer and routes each peer's container networks through it. */
  ensure(ctx: DriverContext, spec: TunnelSpec__Output, view: NetworkView): Promise<EnsureResult>;
  check(ctx: DriverContext, spec: TunnelSpec__Output, view: NetworkView): Promise<DriftReport[]>;
}

export interface FilterDriver {
  readonly kind: string;
  probe(ctx: ProbeContext): Promise<CapabilityReport[]>;
  /** Loads default deny, `extraRules` non-matching rules, then the allow-list, in one batch. Replaces what it loaded before. */
  ensure(ctx: DriverContext, spec: FilterSpec__Output, view: NetworkView): Promise<EnsureResult>;
  check(ctx: DriverContext, spec: FilterSpec__Output, view: NetworkView): Promise<DriftReport[]>;
}
