// The agent registry: one connection per configured agent, health by GetInfo polling, and the
// last GetInfo answer as the capability cache. When an agent comes back (it was unreachable,
// or its start time changed because it restarted), the registry runs GC on it keeping the
// scopes the engine still uses, so objects of abandoned scopes never pile up on a host.

import { SeconetError, type HostKind } from '@seconet/core';
import type { AgentStatus } from '../service.js';
import { openSsh, type SshTarget } from '../ssh/session.js';
import { restartAgentOverSsh, type RecoveryResult } from '../ssh/recovery.js';
import type { AgentInfo, AgentLink } from './contract.js';
import { diagnoseAgentTls } from './tls-diagnosis.js';

export interface AgentEndpointConfig {
  readonly name: string;
  /** host:port */
  readonly address: string;
  readonly tls: { readonly ca: string; readonly cert: string; readonly key: string };
  readonly serverName?: string;
  /** How to restart the agent over SSH when it stops answering (optional). */
  readonly recovery?: AgentRecoveryConfig | undefined;
  /** What the agent runs on (netns-lab, vm-kvm, vm-tcg, remote; default remote): result provenance. */
  readonly hostKind?: HostKind | undefined;
}

export interface AgentRecoveryConfig {
  readonly ssh: Omit<SshTarget, 'name'>;
  /** argv run on the host, e.g. ["systemctl", "restart", "seconet-agent"]. */
  readonly restartCommand: readonly string[];
  readonly logFile?: string | undefined;
  readonly logLines?: number | undefined;
  /** Down for this long before a restart is tried (default 10 s); at most one try per this interval. */
  readonly afterMs?: number | undefined;
  /**
   * After a restart that succeeded, how long the agent has to answer before another restart is
   * tried (default 30 s), counted from the end of the restart command: an agent that is still
   * starting (slow disks, emulated CPUs) is not restarted again under itself.
   */
  readonly startGraceMs?: number | undefined;
}

export type ConnectFn = (endpoint: AgentEndpointConfig) => AgentLink;

export interface RegistryOptions {
  readonly healthIntervalMs?: number;
  readonly deadlineMs?: number;
  /** Deadline of the first GetInfo of an agent (it probes its host then). */
  readonly firstDeadlineMs?: number;
  /**
   * Longest time a health check may go without a GetInfo for an agent it hears from anyway
   * (default 60 s): its kernel, tools and capabilities are read again at least this often.
   */
  readonly infoMaxAgeMs?: number;
  readonly log?: { warn(obj: object, msg?: string): void; info(obj: object, msg?: string): void };
}

interface Entry {
  readonly config: AgentEndpointConfig;
  readonly link: AgentLink;
  healthy: boolean;
  info?: AgentInfo;
  lastSeen?: string;
  /** performance.now() of the last GetInfo answer. */
  infoAt?: number;
  error?: string;
  everSeen: boolean;
  downSince?: number;
  lastRecovery?: number;
  /** No restart before this time: a restart succeeded and the agent is still starting. */
  graceUntil?: number;
  /** status()'s view, kept until the entry changes: GET /v1/agents at 1,000 agents reuses all but the changed ones. */
  view?: AgentStatus;
}

/** The error's message; when the agent was UNAVAILABLE and TLS is why, that first (tls-diagnosis.ts). */
async function explainUnreachable(config: AgentEndpointConfig, err: unknown): Promise<string> {
  const message = (err as Error).message;
  if ((err as { code?: unknown }).code !== 'UNAVAILABLE') return message;
  const tls = await diagnoseAgentTls(config);
  return tls === undefined ? message : `${tls} (gRPC: ${message})`;
}

export class AgentRegistry {
  private readonly entries = new Map<string, Entry>();
  private timer: NodeJS.Timeout | undefined;
  private scopesInUse: () => readonly string[] = () => [];
  private polling = false;

  constructor(configs: readonly AgentEndpointConfig[], connect: ConnectFn, private readonly opts: RegistryOptions = {}) {
    for (const c of configs) {
      if (this.entries.has(c.name)) throw new SeconetError('INVALID_ARGUMENT', `agents: ${c.name} is listed twice`, { field: 'agents' });
      this.entries.set(c.name, { config: c, link: connect(c), healthy: false, everSeen: false });
    }
  }

  names(): string[] {
    return [...this.entries.keys()];
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  /** Tells the registry which scopes GC after a reconnect must keep. */
  keepScopes(fn: () => readonly string[]): void {
    this.scopesInUse = fn;
  }

  /** Throws NOT_FOUND for an agent the configuration does not list. */
  get(name: string): AgentLink {
    const e = this.entries.get(name);
    if (!e) throw new SeconetError('NOT_FOUND', `agent ${JSON.stringify(name)} is not in the controller's agent list`, { field: 'hosts' });
    return e.link;
  }

  healthy(name: string): boolean {
    return this.entries.get(name)?.healthy === true;
  }

  info(name: string): AgentInfo | undefined {
    return this.entries.get(name)?.info;
  }

  /** The configured kind of the agent's host (remote unless configured). */
  hostKind(name: string): string | undefined {
    const e = this.entries.get(name);
    return e === undefined ? undefined : (e.config.hostKind ?? 'remote');
  }

  /** GetInfo now; updates health, and GCs an agent that came back. */
  async refresh(name: string): Promise<AgentInfo> {
    const e = this.entries.get(name);
    if (!e) throw new SeconetError('NOT_FOUND', `agent ${JSON.stringify(name)} is not in the controller's agent list`, { field: 'hosts' });
    try {
      // The first GetInfo makes the agent probe its host (tools, kernel features), which can take a while.
      const info = await e.link.getInfo({ deadlineMs: e.info ? (this.opts.deadlineMs ?? 5000) : (this.opts.firstDeadlineMs ?? 120_000) });
      const restarted = e.info !== undefined && e.info.startedAt !== info.startedAt;
      const cameBack = e.everSeen && (!e.healthy || restarted);
      delete e.view;
      e.info = info;
      e.infoAt = performance.now();
      e.healthy = true;
      e.everSeen = true;
      e.lastSeen = new Date().toISOString();
      delete e.error;
      delete e.downSince;
      delete e.graceUntil;
      if (cameBack) await this.gc(name);
      return info;
    } catch (err) {
      const why = await explainUnreachable(e.config, err);
      if (e.healthy) this.opts.log?.warn({ agent: name, err: why }, 'agent unreachable');
      delete e.view;
      e.healthy = false;
      e.error = why;
      e.downSince ??= Date.now();
      throw err;
    }
  }

  /**
   * Restarts an agent over SSH when its recovery is configured, it has been down for at least
   * `afterMs` (or at once with `now`, when a run already failed on it) and no restart was tried
   * within that interval; collects its last log lines.
   * Resolves undefined when no restart was due.
   */
  async recover(name: string, opts: { now?: boolean } = {}): Promise<RecoveryResult | undefined> {
    const e = this.entries.get(name);
    const r = e?.config.recovery;
    if (!e || !r || e.healthy || e.downSince === undefined) return undefined;
    const after = r.afterMs ?? 10_000;
    const now = Date.now();
    if ((!opts.now && now - e.downSince < after) || (e.lastRecovery !== undefined && now - e.lastRecovery < after)) return undefined;
    if (e.graceUntil !== undefined && now < e.graceUntil) return undefined;
    e.lastRecovery = now;
    const session = await openSsh({ ...r.ssh, name });
    try {
      const result = await restartAgentOverSsh(session, { restartCommand: r.restartCommand, logFile: r.logFile, logLines: r.logLines });
      if (result.restarted) e.graceUntil = Date.now() + (r.startGraceMs ?? 30_000);
      this.opts.log?.warn({ agent: name, restarted: result.restarted, exitCode: result.exitCode }, 'agent restarted over SSH');
      return result;
    } finally {
      session.close();
    }
  }

  /** GC on one agent, keeping the scopes in use. */
  async gc(name: string): Promise<readonly string[]> {
    const r = await this.get(name).gc({ requestId: `gc-${Date.now()}`, keepScopes: [...this.scopesInUse()] }, { deadlineMs: 60_000 });
    if (r.removedScopes.length > 0) this.opts.log?.info({ agent: name, removedScopes: r.removedScopes }, 'agent GC after reconnect');
    return r.removedScopes;
  }

  async refreshAll(): Promise<void> {
    await Promise.allSettled(this.names().map((n) => this.refresh(n)));
  }

  /**
   * Health checks: every agent once at start, then each agent once per interval, spread evenly
   * over it (agent i at i/N of the interval) rather than all at once, so a large fleet costs a
   * steady trickle of GetInfo calls instead of a burst of N every interval (which stalled the
   * event loop, and the REST API with it, at 1,000 agents). An agent whose check is still
   * outstanding is not asked again.
   */
  start(): void {
    if (this.timer) return;
    const interval = this.opts.healthIntervalMs ?? 5000;
    const names = this.names();
    const pending = new Set<string>();
    const check = (name: string): void => {
      if (pending.has(name)) return;
      if (this.heardAnyway(name, interval)) return;
      pending.add(name);
      void this.refresh(name).catch(() => undefined).finally(() => pending.delete(name));
    };
    this.polling = true;
    void this.refreshAll().finally(() => {
      this.polling = false;
    });
    // One timer ticks at most ~50 times per interval and checks the agents whose slot has come.
    const slots = Math.max(1, Math.min(names.length, 50));
    const slotMs = interval / slots;
    let slot = 0;
    this.timer = setInterval(() => {
      if (this.polling) return;
      const from = Math.floor((slot * names.length) / slots);
      const to = Math.floor(((slot + 1) * names.length) / slots);
      for (let i = from; i < to; i++) check(names[i]!);
      slot = (slot + 1) % slots;
    }, slotMs);
    this.timer.unref();
  }

  /**
   * An agent the controller hears from anyway needs no GetInfo to be known healthy: it sent a
   * stream message or answered a call within the last half interval (a run's or the dashboard's
   * metric stream: 1 a second), no call to it failed since the last GetInfo (a restarted agent
   * breaks its streams first, so its new start time is still read at once), and its info is
   * younger than infoMaxAgeMs. At 1,000 agents that is 200 GetInfo calls a second the
   * controller no longer makes while the agents stream. Its last-seen time still moves.
   */
  private heardAnyway(name: string, interval: number): boolean {
    const e = this.entries.get(name);
    if (!e || !e.healthy || e.infoAt === undefined) return false;
    const heard = e.link.lastHeardAt;
    const failed = e.link.lastFailedAt;
    const now = performance.now();
    if (heard === undefined || now - heard > interval / 2) return false;
    if (failed !== undefined && failed >= e.infoAt) return false;
    if (now - e.infoAt > (this.opts.infoMaxAgeMs ?? 60_000)) return false;
    e.lastSeen = new Date(Date.now() - (now - heard)).toISOString();
    delete e.view;
    return true;
  }

  /** Every agent's view; an unchanged agent's is the same object as in the last call (callers may memoize on it). */
  status(): AgentStatus[] {
    return [...this.entries.values()].map((e) => (e.view ??= {
      name: e.config.name,
      address: e.config.address,
      healthy: e.healthy,
      lastSeen: e.lastSeen,
      error: e.error,
      kernel: e.info?.kernel,
      agentVersion: e.info?.agentVersion,
      capabilities: (e.info?.capabilities ?? []).map((c) => ({ category: c.category, kind: c.kind, variant: String(c.variant), available: c.available, version: c.version, reason: c.reason, undetermined: c.undetermined === true })),
    }));
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    for (const e of this.entries.values()) e.link.close();
  }
}
