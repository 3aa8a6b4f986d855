// The reconciler behind Apply / Check / Teardown / GC. It validates the whole request first
// (validate.ts), takes a per-scope lock (a second Apply on a busy scope is CONFLICT, never
// queued), and drives the components in order containers -> network -> tunnel -> filter over
// the scope's on-disk journal (FileJournal under env.stateDir). The journal keeps the desired
// state (secrets hashed) with per-component digests, the NetworkView, the variants in effect,
// and which journal objects each component made:
//   - same digest, status applied, no drift: nothing runs (changed=false);
//   - containers or network changed (or no applied state): the scope is torn down and rebuilt;
//   - tunnel or filter changed: that component and every one after it are re-ensured; one
//     whose kind changed (or that went away) has its objects removed first.
// A failed Apply tears the scope down (rolling back what it created) and rethrows. After a
// restart, everything is rebuilt from the journals; GC removes scopes nobody keeps and objects
// with the agent's prefix that no journal lists.

import { existsSync } from 'node:fs';
import type { Logger } from 'pino';
import { SeconetError, cidrsOverlap, invalid } from '@seconet/core';
import type { CapabilityReport, ContainerHandle, DriftReport, DriverContext, EnsureResult, NetworkView, ProbeContext, VariantName } from '../driver.js';
import type { ApplyRequest__Output } from '../gen/seconet/agent/v1/ApplyRequest.js';
import type { ApplyResponse } from '../gen/seconet/agent/v1/ApplyResponse.js';
import type { CheckRequest__Output } from '../gen/seconet/agent/v1/CheckRequest.js';
import type { CheckResponse } from '../gen/seconet/agent/v1/CheckResponse.js';
import type { ComponentTiming } from '../gen/seconet/agent/v1/ComponentTiming.js';
import type { FilterSpec__Output } from '../gen/seconet/agent/v1/FilterSpec.js';
import type { GCRequest__Output } from '../gen/seconet/agent/v1/GCRequest.js';
import type { GCResponse } from '../gen/seconet/agent/v1/GCResponse.js';
import type { HostState__Output } from '../gen/seconet/agent/v1/HostState.js';
import type { TeardownRequest__Output } from '../gen/seconet/agent/v1/TeardownRequest.js';
import type { TeardownResponse } from '../gen/seconet/agent/v1/TeardownResponse.js';
import type { TunnelSpec__Output } from '../gen/seconet/agent/v1/TunnelSpec.js';
import type { Variant__Output } from '../gen/seconet/agent/v1/Variant.js';
import type { HostEnv } from '../host-env.js';
import { FileJournal, Journal, objectKey } from '../journal/file-journal.js';
import { MemoryJournal } from '../journal/memory-journal.js';
import { describe } from '../journal/objects.js';
import { teardownObjects, teardownSome, type TeardownResult } from '../journal/undo.js';
import { containerHandle, ensureContainers } from '../netns/containers.js';
import { listLinks, listNetns } from '../netns/ip-batch.js';
import type { Runner } from '../runner/runner.js';
import { FILTER_DRIVERS } from '../filters/index.js';
import { CONFIGURES_CONTAINER_SIDE } from '../solutions/container-side.js';
import { NETWORK_DRIVERS } from '../solutions/index.js';
import { TUNNEL_DRIVERS } from '../tunnels/index.js';
import { componentDigests, digestOf, sanitizeState, type Component } from './digest.js';
import { toSeconetError } from './errors.js';
import { containersDrift } from './container-check.js';
import { findOrphans } from './orphans.js';
import { failedProbe, probeNotingTransient } from '../capabilities/transient.js';
import type { ReconcilerApi } from './types.js';
import { AllowedRanges, LIMITS, validateApply, validateScope, type Registries } from './validate.js';

export interface CreateReconcilerOptions {
  readonly env: HostEnv;
  readonly runner: Runner;
  readonly log: Logger;
  /** Driver registries (default: NETWORK_DRIVERS, TUNNEL_DRIVERS, FILTER_DRIVERS). */
  readonly registries?: Partial<Registries>;
}

/** What the journal keeps as the desired state of an applied scope. */
interface StoredState {
  readonly state: HostState__Output;
  readonly components: Record<Component, string>;
  readonly mtu: number;
  readonly view: NetworkView;
  readonly variants: { tunnel?: ComponentResult; filter?: ComponentResult };
  /** objectKey()s of the journal objects each component made. */
  readonly owned: Record<Component, string[]>;
}

interface ComponentResult {
  readonly kind: string;
  readonly variant: VariantName;
  readonly version: string;
}

const VARIANT: Record<VariantName, Variant__Output> = { kernel: 'VARIANT_KERNEL', userspace: 'VARIANT_USERSPACE' };

function emptyOwned(): Record<Component, string[]> {
  return { containers: [], network: [], tunnel: [], filter: [] };
}

function errMsg(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export async function createReconciler(opts: CreateReconcilerOptions): Promise<ReconcilerApi> {
  const r = new Reconciler(opts);
  r.load();
  return r;
}

class Reconciler implements ReconcilerApi {
  private readonly env: HostEnv;
  private readonly runner: Runner;
  private readonly log: Logger;
  private readonly reg: Registries;
  private readonly allowed: AllowedRanges;
  private readonly journal: Journal;
  private readonly locks = new Set<string>();
  private readonly inflight = new Set<Promise<unknown>>();
  /** Last Apply's real state (with secrets) per scope, for Check with the true tunnel spec. */
  private readonly live = new Map<string, HostState__Output>();
  private closing = false;

  constructor(opts: CreateReconcilerOptions) {
    this.env = opts.env;
    this.runner = opts.runner;
    this.log = opts.log;
    this.reg = {
      network: opts.registries?.network ?? NETWORK_DRIVERS,
      tunnel: opts.registries?.tunnel ?? TUNNEL_DRIVERS,
      filter: opts.registries?.filter ?? FILTER_DRIVERS,
    };
    this.allowed = new AllowedRanges(opts.env.allowedRanges);
    this.journal = new Journal(opts.env.stateDir);
  }

  load(): void {
    const { loaded, broken } = this.journal.load();
    for (const b of broken) this.log.warn({ file: b.file, err: b.error }, 'journal file unreadable; its objects are left to GC');
    this.log.info({ scopes: loaded }, 'journals loaded');
  }

  private get undoDeps() {
    return { runner: this.runner, env: this.env, log: this.log };
  }

  private ctx(scope: string, journal: FileJournal | MemoryJournal): DriverContext {
    return { env: this.env, runner: this.runner, journal, log: this.log.child({ scope }), scope };
  }

  private async guarded<T>(scope: string, fn: () => Promise<T>): Promise<T> {
    if (this.closing) throw new SeconetError('UNAVAILABLE', `agent ${this.env.name} is stopping; retry on another start`);
    if (this.locks.has(scope)) throw new SeconetError('CONFLICT', `scope ${scope} is busy with another Apply or Teardown; retry when it ends`, { field: 'scope' });
    this.locks.add(scope);
    const p = fn();
    this.inflight.add(p);
    try {
      return await p;
    } finally {
      this.inflight.delete(p);
      this.locks.delete(scope);
    }
  }

  private stored(j: FileJournal | undefined): StoredState | undefined {
    if (j === undefined || j.status() !== 'applied') return undefined;
    return j.desired()?.state as StoredState | undefined;
  }

  // -------------------------------------------------------------------------------------------
  // Apply

  async apply(req: ApplyRequest__Output): Promise<ApplyResponse> {
    const v = validateApply(req, this.reg, this.allowed);
    return this.guarded(v.scope, () => this.doApply(v.scope, v.state, v.tunnel, v.filter, req.requestId));
  }

  private async doApply(scope: string, state: HostState__Output, tunnel: TunnelSpec__Output | undefined, filter: FilterSpec__Output | undefined, requestId: string): Promise<ApplyResponse> {
    const net = this.reg.network.get(state.network)!;
    const tdrv = tunnel === undefined ? undefined : this.reg.tunnel.get(tunnel.kind)!;
    const fdrv = filter === undefined ? undefined : this.reg.filter.get(filter.kind)!;
    const overhead = tunnel === undefined || tdrv === undefined ? 0 : tdrv.overhead(tunnel);
    const mtu = state.mtu !== 0 ? state.mtu : this.env.underlayMtu - overhead;
    if (mtu < LIMITS.mtu.min) throw invalid('state.mtu', `the derived container MTU ${mtu} (underlay ${this.env.underlayMtu} - tunnel overhead ${overhead}) is below ${LIMITS.mtu.min}; set state.mtu`);
    const clean = sanitizeState(state);
    const components = componentDigests(clean, mtu);
    const digest = digestOf(components);
    const log = this.log.child({ scope, requestId });
    await this.clearNeighbours(scope, state, log);

    let j = this.journal.get(scope);
    const prev = this.stored(j);
    if (prev !== undefined && j!.desired()?.digest === digest) {
      const drifts = await this.drift(scope, j!, prev, state);
      if (drifts.length === 0) {
        this.live.set(scope, state);
        return this.response(false, [], prev);
      }
      log.info({ drifts }, 'apply: same state, drift found; re-ensuring');
    }

    const rebuild = prev === undefined || prev.components.containers !== components.containers || prev.components.network !== components.network;
    let start = 0;
    if (!rebuild && prev.components.tunnel !== components.tunnel) start = 2;
    else if (!rebuild && prev.components.filter !== components.filter) start = 3;
    const owned = rebuild ? emptyOwned() : { ...prev.owned };

    if (rebuild && j !== undefined && j.objects().length > 0) {
      await j.setStatus('removing');
      const res = await teardownObjects(this.undoDeps, j);
      this.mustBeClean(scope, res);
    } else if (!rebuild && j !== undefined) {
      // A tunnel or filter whose kind changed (or that went away) leaves the old driver's objects behind: remove them first.
      const changedKinds = (c: 'tunnel' | 'filter', now: string | undefined): boolean => prev.components[c] !== components[c] && (prev.variants[c]?.kind ?? undefined) !== now;
      const drop: Component[] = [];
      if (changedKinds('tunnel', tunnel?.kind)) drop.push('tunnel', 'filter');
      else if (changedKinds('filter', filter?.kind)) drop.push('filter');
      if (drop.length > 0) {
        const keys = new Set(drop.flatMap((c) => owned[c]));
        const res = await teardownSome(this.undoDeps, j, j.objects().filter((o) => keys.has(objectKey(o))));
        this.mustBeClean(scope, res);
        for (const c of drop) owned[c] = [];
      }
    }
    j ??= await this.journal.open(scope);
    await j.setStatus('applying');
    const ctx = this.ctx(scope, j);
    const timings: ComponentTiming[] = [];
    const variants: StoredState['variants'] = rebuild ? {} : { ...prev.variants };

    const step = async <T>(c: Component, kind: string, fn: () => Promise<T>, result: (t: T) => EnsureResult | undefined): Promise<T> => {
      const before = new Set(j!.objects().map(objectKey));
      const t0 = performance.now();
      let out: T;
      try {
        out = await fn();
      } finally {
        owned[c] = [...new Set([...owned[c], ...j!.objects().map(objectKey).filter((k) => !before.has(k))])];
      }
      const seconds = (performance.now() - t0) / 1000;
      const res = result(out);
      timings.push({ component: c, kind, variant: res ? VARIANT[res.variant] : 'VARIANT_KERNEL', seconds, changed: res?.changed ?? true });
      log.debug({ component: c, kind, seconds }, 'apply: component ensured');
      return out;
    };

    try {
      let handles: ContainerHandle[];
      let view: NetworkView;
      if (start === 0) {
        handles = await step('containers', 'netns', () => ensureContainers(ctx, state.containers, mtu, { containerSide: !CONFIGURES_CONTAINER_SIDE.has(net.kind) }), () => undefined);
        view = (await step('network', net.kind, () => net.ensure(ctx, state.containerCidr, handles, mtu), (x) => x.result)).view;
      } else {
        view = prev!.view;
      }
      if (start <= 2) {
        if (tunnel !== undefined && tdrv !== undefined) {
          const res = await step('tunnel', tunnel.kind, () => tdrv.ensure(ctx, tunnel, view), (x) => x);
          variants.tunnel = { kind: tunnel.kind, variant: res.variant, version: res.version };
        } else delete variants.tunnel;
      }
      if (start <= 3) {
        if (filter !== undefined && fdrv !== undefined) {
          const res = await step('filter', filter.kind, () => fdrv.ensure(ctx, filter, view), (x) => x);
          variants.filter = { kind: filter.kind, variant: res.variant, version: res.version };
        } else delete variants.filter;
      }
      const stored: StoredState = { state: clean, components, mtu, view, variants, owned };
      await Promise.all([j.setDesired(digest, stored), j.setStatus('applied')]);
      this.live.set(scope, state);
      log.info({ timings: timings.map((t) => `${t.component}=${Number(t.seconds).toFixed(3)}s`) }, 'apply: done');
      return this.response(true, timings, stored);
    } catch (e) {
      const err = toSeconetError(e, `apply of scope ${scope}`);
      log.warn({ err: err.message }, 'apply failed; rolling back the scope');
      await j.setStatus('removing').catch(() => undefined);
      const res = await teardownObjects(this.undoDeps, j).catch((x: unknown) => ({ removed: [], failed: [{ object: 'scope', error: errMsg(x) }] }) as TeardownResult);
      if (res.failed.length === 0) await this.journal.remove(scope);
      else log.warn({ failed: res.failed }, 'rollback left objects in the journal for GC');
      this.live.delete(scope);
      throw err;
    }
  }

  /**
   * Other scopes share the host namespace: one already applied with an overlapping container
   * network would make routes and gateway addresses collide, so that is CONFLICT. One that is
   * not applied (a failed Apply or Teardown left it) is garbage GC would remove: removed now.
   */
  private async clearNeighbours(scope: string, state: HostState__Output, log: Logger): Promise<void> {
    for (const other of this.journal.scopes()) {
      if (other === scope || this.locks.has(other)) continue;
      const j = this.journal.get(other)!;
      const s = this.stored(j);
      if (s === undefined) {
        log.info({ other }, 'apply: removing a scope left half-applied or half-removed');
        this.locks.add(other);
        try {
          await this.teardownScope(other);
        } catch (e) {
          log.warn({ other, err: errMsg(e) }, 'apply: leftover scope not fully removed; its journal stays for GC');
        } finally {
          this.locks.delete(other);
        }
      } else if (cidrsOverlap(s.state.containerCidr, state.containerCidr)) {
        throw new SeconetError('CONFLICT', `state.containerCidr ${state.containerCidr} overlaps ${s.state.containerCidr} of scope ${other}, applied on this host; tear that scope down first`, { field: 'state.containerCidr' });
      }
    }
  }

  private mustBeClean(scope: string, res: TeardownResult): void {
    if (res.failed.length === 0) return;
    throw new SeconetError('COMMAND_FAILED', `scope ${scope}: could not remove ${res.failed.map((f) => `${f.object} (${f.error})`).join('; ')}`);
  }

  private response(changed: boolean, timings: ComponentTiming[], s: StoredState): ApplyResponse {
    return {
      changed,
      timings,
      containers: s.view.containers.map((c) => ({ name: c.spec.name, netns: c.netns, interface: c.hostIface, address: c.spec.address, mac: c.mac })),
      tunnelVariant: s.variants.tunnel ? VARIANT[s.variants.tunnel.variant] : 'VARIANT_UNSPECIFIED',
      filterVariant: s.variants.filter ? VARIANT[s.variants.filter.variant] : 'VARIANT_UNSPECIFIED',
      mtu: s.mtu,
      tunnelVersion: s.variants.tunnel?.version ?? '',
      filterVersion: s.variants.filter?.version ?? '',
    };
  }

  // -------------------------------------------------------------------------------------------
  // Check

  /** Journal objects missing from the kernel plus every driver's own drift report. */
  private async drift(scope: string, j: FileJournal, s: StoredState, real: HostState__Output | undefined): Promise<DriftReport[]> {
    const drifts: DriftReport[] = [];
    const [namespaces, links] = await Promise.all([listNetns(this.runner), listLinks(this.runner, this.env.hostNetns)]);
    for (const o of j.objects()) {
      if (o.type === 'netns' && !namespaces.has(o.name)) drifts.push({ object: describe(o), expected: 'present', observed: 'missing' });
      if (o.type === 'link' && (o.netns === undefined || o.netns === this.env.hostNetns) && !links.has(o.name)) drifts.push({ object: describe(o), expected: 'present', observed: 'missing' });
      if (o.type === 'bpf-pin' && !existsSync(o.path)) drifts.push({ object: describe(o), expected: 'present', observed: 'missing' });
    }
    if (drifts.length > 0) return drifts;
    const state = real ?? s.state;
    const handles = s.state.containers.map((c) => containerHandle(this.env.prefix, scope, c));
    try {
      drifts.push(...(await containersDrift(this.runner, handles, links, j.objects())));
    } catch (e) {
      drifts.push({ object: 'containers', expected: 'checkable', observed: errMsg(e) });
    }
    const ctx = this.ctx(scope, j);
    const guard = async (what: string, fn: () => Promise<DriftReport[]>): Promise<void> => {
      try {
        drifts.push(...(await fn()));
      } catch (e) {
        drifts.push({ object: what, expected: 'checkable', observed: errMsg(e) });
      }
    };
    const net = this.reg.network.get(state.network);
    if (net) await guard(`network ${state.network}`, () => net.check(ctx, s.view));
    const t = s.variants.tunnel ? this.reg.tunnel.get(s.variants.tunnel.kind) : undefined;
    if (t && state.tunnel) await guard(`tunnel ${t.kind}`, () => t.check(ctx, state.tunnel!, s.view));
    const f = s.variants.filter ? this.reg.filter.get(s.variants.filter.kind) : undefined;
    if (f && state.filter) await guard(`filter ${f.kind}`, () => f.check(ctx, state.filter!, s.view));
    return drifts;
  }

  async check(req: CheckRequest__Output): Promise<CheckResponse> {
    const scope = validateScope(req.scope);
    const j = this.journal.get(scope);
    if (j === undefined) return { inSync: false, drifts: [], known: false };
    const s = this.stored(j);
    if (s === undefined) return { inSync: false, known: true, drifts: [{ object: `scope ${scope}`, expected: 'applied', observed: j.status() }] };
    const drifts = await this.drift(scope, j, s, this.live.get(scope));
    return { inSync: drifts.length === 0, drifts, known: true };
  }

  // -------------------------------------------------------------------------------------------
  // Teardown and GC

  async teardown(req: TeardownRequest__Output): Promise<TeardownResponse> {
    const scope = validateScope(req.scope);
    return this.guarded(scope, async () => {
      const t0 = performance.now();
      const removed = await this.teardownScope(scope);
      return { removed, seconds: (performance.now() - t0) / 1000 };
    });
  }

  private async teardownScope(scope: string): Promise<string[]> {
    const j = this.journal.get(scope);
    this.live.delete(scope);
    if (j === undefined) return [];
    await j.setStatus('removing');
    const res = await teardownObjects(this.undoDeps, j);
    this.mustBeClean(scope, res);
    await this.journal.remove(scope);
    this.log.info({ scope, removed: res.removed.length }, 'teardown: done');
    return res.removed;
  }

  async gc(req: GCRequest__Output): Promise<GCResponse> {
    if (this.closing) throw new SeconetError('UNAVAILABLE', `agent ${this.env.name} is stopping`);
    for (const [i, s] of req.keepScopes.entries()) validateScope(s, `keepScopes[${i}]`);
    const keep = new Set(req.keepScopes);
    const removed: string[] = [];
    const removedScopes: string[] = [];
    for (const scope of this.journal.scopes()) {
      const j = this.journal.get(scope)!;
      if (keep.has(scope) && j.status() === 'applied') continue;
      if (this.locks.has(scope)) continue;
      try {
        removed.push(...(await this.guarded(scope, () => this.teardownScope(scope))));
        removedScopes.push(scope);
      } catch (e) {
        this.log.warn({ scope, err: errMsg(e) }, 'gc: scope not fully removed');
      }
    }
    const known = this.journal.scopes().flatMap((s) => this.journal.get(s)!.objects());
    const orphans = await findOrphans({ runner: this.runner, env: this.env, log: this.log }, known);
    if (orphans.length > 0) {
      const scratch = new MemoryJournal('gc');
      await scratch.recordAll(orphans);
      const res = await teardownObjects(this.undoDeps, scratch);
      removed.push(...res.removed);
      for (const f of res.failed) this.log.warn(f, 'gc: orphan not removed');
    }
    if (removed.length > 0) this.log.info({ removed: removed.length, removedScopes }, 'gc: done');
    return { removed, removedScopes };
  }

  // -------------------------------------------------------------------------------------------

  scopes(): string[] {
    return this.journal.scopes().filter((s) => this.journal.get(s)?.status() === 'applied');
  }

  containers(scope: string): readonly ContainerHandle[] {
    const s = this.stored(this.journal.get(scope));
    if (s === undefined) return [];
    return s.state.containers.map((c) => containerHandle(this.env.prefix, scope, c));
  }

  async probe(): Promise<CapabilityReport[]> {
    const ctx: ProbeContext = { env: this.env, runner: this.runner, log: this.log };
    const all = [
      ...[...this.reg.network.values()].map((d) => ({ category: 'network' as const, d })),
      ...[...this.reg.tunnel.values()].map((d) => ({ category: 'tunnel' as const, d })),
      ...[...this.reg.filter.values()].map((d) => ({ category: 'filter' as const, d })),
    ];
    const out = await Promise.all(
      all.map(async ({ category, d }) => {
        try {
          // An answer from a timed-out or starved command is marked and probed again later.
          return await probeNotingTransient(ctx, (c) => d.probe(c));
        } catch (e) {
          return [failedProbe({ category, kind: d.kind, variant: 'kernel' as const, available: false, version: '', reason: `probe failed: ${errMsg(e)}` }, e)];
        }
      }),
    );
    return out.flat();
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.allSettled([...this.inflight]);
  }
}
