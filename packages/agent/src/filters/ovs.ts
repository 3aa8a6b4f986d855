// The OpenFlow filter for the `ovs` network: flows on the scope's OVS bridge, loaded with one
// `ovs-ofctl --bundle add-flows` whose first line deletes the scope's previous flows, so a
// changed spec replaces the rule set in one atomic OpenFlow 1.4 bundle. Flows carry a cookie:
// the high 32 bits name the scope (what the delete matches), the low 32 bits the rule set's
// digest (what tells an unchanged ensure apart with one dump-flows). Priorities: decoy pairs
// (30) above allowed pairs (20) above the drop between guarded networks (10) above the bridge's
// own NORMAL flow (0), which keeps forwarding ARP and unguarded traffic. Unlike a netfilter
// chain, OVS classifies by priority through hashed subtables, so decoys do not add a linear
// per-packet walk. The flows are journaled as one `ovs-flows` object (the scope's cookie under
// the scope mask) before they are loaded, so a Teardown, or an Apply that drops the filter while
// the bridge stays, deletes them with one `del-flows`.

import { createHash } from 'node:crypto';
import type { CapabilityReport, DriftReport, DriverContext, EnsureResult, FilterDriver, NetworkView, ProbeContext } from '../driver.js';
import type { FilterSpec__Output } from '../gen/seconet/agent/v1/FilterSpec.js';
import type { OwnedObject } from '../journal/objects.js';
import { kernelDatapath, mgmtSocket, ovsVersion, probeSwitch } from '../ovs/switch.js';
import { failedProbe } from '../capabilities/transient.js';
import { findTool } from '../runner/tools.js';
import { buildRuleSet, guardedPairs, unsupportedNetwork, type RuleSet } from './rule-set.js';

export const PRIORITY = { decoy: 30, allow: 20, drop: 10 } as const;
export const SCOPE_MASK = '0xffffffff00000000';

export function scopeCookie(prefix: string, scope: string): string {
  return createHash('sha256').update(`${prefix}\u0000${scope}`).digest('hex').slice(0, 8);
}

export function flowCookie(prefix: string, scope: string, rs: RuleSet): string {
  return `0x${scopeCookie(prefix, scope)}${rs.digest.slice(0, 8)}`;
}

/** The flows of `rs`, as `ovs-ofctl dump-flows --no-stats` prints them (without the cookie). */
export function flowLines(rs: RuleSet): string[] {
  const lines: string[] = [];
  for (const d of rs.decoys) lines.push(d.ports ? `priority=${PRIORITY.decoy},${d.proto},nw_src=${d.src},nw_dst=${d.dst},tp_dst=0x${d.ports.lo.toString(16)}/0x${(0x10000 - (d.ports.hi - d.ports.lo + 1)).toString(16)} actions=NORMAL` : `priority=${PRIORITY.decoy},ip,nw_src=${d.src},nw_dst=${d.dst} actions=NORMAL`);
  for (const a of rs.allow) lines.push(`priority=${PRIORITY.allow},ip,nw_src=${a.src},nw_dst=${a.dst} actions=NORMAL`);
  for (const g of guardedPairs(rs)) lines.push(`priority=${PRIORITY.drop},ip,nw_src=${g.src.replace(/\/32$/, '')},nw_dst=${g.dst.replace(/\/32$/, '')} actions=drop`);
  return lines;
}

/** The `ovs-ofctl --bundle add-flows` input: delete the scope's flows, add the new ones. */
export function renderFlows(prefix: string, scope: string, rs: RuleSet): string {
  const cookie = flowCookie(prefix, scope, rs);
  const lines = [`delete cookie=0x${scopeCookie(prefix, scope)}00000000/${SCOPE_MASK}`];
  for (const f of flowLines(rs)) lines.push(`add cookie=${cookie},${f.replace(' actions=', ',actions=')}`);
  return lines.join('\n') + '\n';
}

/** Flows of the scope's cookie from `dump-flows --no-stats` output: [cookie, rest] pairs. */
export function parseDump(out: string): Array<{ cookie: string; flow: string }> {
  const rows: Array<{ cookie: string; flow: string }> = [];
  for (const raw of out.split('\n')) {
    const m = /^\s*cookie=(0x[0-9a-f]+), (.*)$/.exec(raw);
    // ovs-ofctl prints the cookie without leading zeros; keep the 16-digit form flowCookie writes.
    if (m) rows.push({ cookie: `0x${BigInt(m[1]!).toString(16).padStart(16, '0')}`, flow: m[2]!.trim() });
  }
  return rows;
}

function ofctlArgs(view: NetworkView): { mgmt: string; bridge: string; socket: string } {
  if (view.bridge === undefined || view.ovsdb === undefined) throw unsupportedNetwork('ovs', 'ovs', view.kind);
  const socket = mgmtSocket(view.ovsdb, view.bridge);
  return { mgmt: `unix:${socket}`, bridge: view.bridge, socket };
}

/** The journal record of every flow this scope loads on `bridge`, whatever its rule set. */
export function flowsObject(prefix: string, scope: string, bridge: string, socket: string): Extract<OwnedObject, { type: 'ovs-flows' }> {
  return { type: 'ovs-flows', bridge, mgmt: socket, cookie: `0x${scopeCookie(prefix, scope)}00000000`, mask: SCOPE_MASK };
}

async function dumpScope(ctx: DriverContext, mgmt: string): Promise<Array<{ cookie: string; flow: string }>> {
  const r = await ctx.runner.run(['ovs-ofctl', '-O', 'OpenFlow14', 'dump-flows', '--no-stats', mgmt, `cookie=0x${scopeCookie(ctx.env.prefix, ctx.scope)}00000000/${SCOPE_MASK}`], {
    netns: ctx.env.hostNetns,
    timeoutMs: 60_000,
  });
  return parseDump(r.stdout);
}

function inSync(rows: ReadonlyArray<{ cookie: string; flow: string }>, cookie: string, want: readonly string[]): boolean {
  if (rows.length !== want.length || rows.some((r) => r.cookie !== cookie)) return false;
  const have = new Set(rows.map((r) => r.flow));
  return want.every((w) => have.has(w));
}

export class OvsFilter implements FilterDriver {
  readonly kind = 'ovs';

  async probe(ctx: ProbeContext): Promise<CapabilityReport[]> {
    const version = await ovsVersion(ctx);
    const base = { category: 'filter', kind: this.kind, variant: kernelDatapath() ? 'kernel' : 'userspace', version } as const;
    if (version === '' || findTool('ovs-ofctl') === null) return [{ ...base, available: false, reason: 'Open vSwitch is not installed: apt-get install openvswitch-switch' }];
    const failed = await probeSwitch(ctx);
    if (failed !== undefined) return [failedProbe({ ...base, available: false, reason: `loading a flow into a test switch failed: ${failed.message}` }, failed.cause)];
    return [{ ...base, available: true, reason: '' }];
  }

  async ensure(ctx: DriverContext, spec: FilterSpec__Output, view: NetworkView): Promise<EnsureResult> {
    if (view.kind !== 'ovs') throw unsupportedNetwork(this.kind, 'ovs', view.kind);
    const rs = buildRuleSet(spec);
    const { mgmt, bridge, socket } = ofctlArgs(view);
    const version = await ovsVersion(ctx);
    const variant = kernelDatapath() ? 'kernel' : 'userspace';
    const cookie = flowCookie(ctx.env.prefix, ctx.scope, rs);
    // Recorded before the dump too, so flows loaded by an agent that did not journal them are owned from now on (a no-op when already recorded).
    await ctx.journal.record(flowsObject(ctx.env.prefix, ctx.scope, bridge, socket));
    if (inSync(await dumpScope(ctx, mgmt), cookie, flowLines(rs))) return { changed: false, variant, version };
    await ctx.runner.run(['ovs-ofctl', '-O', 'OpenFlow14', '--bundle', 'add-flows', mgmt, '-'], {
      netns: ctx.env.hostNetns,
      stdin: renderFlows(ctx.env.prefix, ctx.scope, rs),
      timeoutMs: 120_000,
    });
    return { changed: true, variant, version };
  }

  async check(ctx: DriverContext, spec: FilterSpec__Output, view: NetworkView): Promise<DriftReport[]> {
    if (view.kind !== 'ovs') throw unsupportedNetwork(this.kind, 'ovs', view.kind);
    const rs = buildRuleSet(spec);
    const { mgmt } = ofctlArgs(view);
    const cookie = flowCookie(ctx.env.prefix, ctx.scope, rs);
    const want = flowLines(rs);
    const rows = await dumpScope(ctx, mgmt);
    if (inSync(rows, cookie, want)) return [];
    return [{ object: `ovs flows ${view.bridge ?? ''} cookie ${cookie}`, expected: `${want.length} flows`, observed: `${rows.filter((r) => r.cookie === cookie).length} flows with this cookie, ${rows.filter((r) => r.cookie !== cookie).length} stale` }];
  }
}
