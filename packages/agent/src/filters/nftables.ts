// The nftables filter: one `inet` table of ours in the host namespace. Its base chain hooks
// forward and jumps to a regular chain only for traffic between guarded networks; that chain
// holds the decoy rules, then the allowed pairs, then a drop, evaluated in order like the
// iptables chain (so both measure linear rule scaling the same way). The file given to
// `nft -f -` declares, deletes and redefines the table, which nft applies as one transaction:
// a changed spec replaces the rules atomically and a failure leaves the old table in place.
// Bridged IPv4 reaches the inet forward hook through br_netfilter, so bridge-nf-call-iptables=1
// is set (and journaled) in the host namespace for bridged networks, as for iptables. The
// table's name carries the agent prefix; its drop rule's comment carries the rule set's digest.

import { objectName, sameRules } from '@seconet/core';
import type { CapabilityReport, DriftReport, DriverContext, EnsureResult, FilterDriver, NetworkView, ProbeContext } from '../driver.js';
import type { FilterSpec__Output } from '../gen/seconet/agent/v1/FilterSpec.js';
import { kernelDatapath } from '../ovs/switch.js';
import { BRIDGE_NF, ensureHostSysctl, hostSysctlDrift } from './host-sysctl.js';
import { errorText, toolVersion } from './probe-netns.js';
import { withProbeNetns } from '../netns/probe-netns.js';
import { buildRuleSet, requireVisibleTraffic, type RuleSet } from './rule-set.js';

export function nftTable(prefix: string, scope: string): string {
  return objectName(prefix, 'f', [scope, 'nftables']);
}

function mark(table: string, rs: RuleSet): string {
  return `${table}:${rs.digest.slice(0, 16)}`;
}

/** The rules of the `guard` chain, as `nft list table` prints them. */
export function guardRules(table: string, rs: RuleSet): string[] {
  const lines: string[] = [];
  for (const d of rs.decoys) lines.push(`ip saddr ${d.src} ip daddr ${d.dst}${d.ports ? ` ${d.proto} dport ${d.ports.lo}-${d.ports.hi}` : ''} accept`);
  for (const a of rs.allow) lines.push(`ip saddr ${a.src} ip daddr ${a.dst} accept`);
  lines.push(`drop comment "${mark(table, rs)}"`);
  return lines;
}

/** The `nft -f -` input that (re)defines the whole table in one transaction. */
export function renderNft(table: string, rs: RuleSet): string {
  const set = `{ ${rs.guarded.join(', ')} }`;
  return [
    `table inet ${table}`,
    `delete table inet ${table}`,
    `table inet ${table} {`,
    `\tcomment "${mark(table, rs)}"`,
    '\tchain forward {',
    '\t\ttype filter hook forward priority filter; policy accept;',
    `\t\tip saddr ${set} ip daddr ${set} jump guard comment "${table}"`,
    '\t}',
    '\tchain guard {',
    ...guardRules(table, rs).map((r) => `\t\t${r}`),
    '\t}',
    '}',
    '',
  ].join('\n');
}

/** The guard chain's rules from `nft list table` output (null when the table is missing). */
export function parseGuard(listing: string): string[] {
  const out: string[] = [];
  let inGuard = false;
  for (const raw of listing.split('\n')) {
    const line = raw.trim();
    if (line === 'chain guard {') inGuard = true;
    else if (inGuard && line === '}') inGuard = false;
    else if (inGuard && line !== '') out.push(line);
  }
  return out;
}

async function listGuard(ctx: DriverContext | ProbeContext, table: string, netns: string | undefined): Promise<string[] | null> {
  try {
    const r = await ctx.runner.run(['nft', 'list', 'table', 'inet', table], { netns, timeoutMs: 60_000 });
    return parseGuard(r.stdout);
  } catch (e) {
    if ((e as { kind?: string }).kind === 'NotFound') return null;
    throw e;
  }
}


export class NftablesFilter implements FilterDriver {
  readonly kind = 'nftables';

  async probe(ctx: ProbeContext): Promise<CapabilityReport[]> {
    const version = await toolVersion(ctx, ['nft', '--version']);
    const base = { category: 'filter', kind: this.kind, variant: 'kernel', version } as const;
    if (version === '') return [{ ...base, available: false, reason: 'nft is not installed: apt-get install nftables' }];
    try {
      await withProbeNetns(ctx, async (netns) => {
        const table = nftTable(ctx.env.prefix, 'probe');
        const rs = buildRuleSet({ kind: this.kind, guarded: ['198.19.0.0/24'], allow: [{ src: '198.19.0.2', dst: '198.19.0.3' }], extraRules: 2, ruleMatch: '' });
        await ctx.runner.run(['nft', '-f', '-'], { netns, stdin: renderNft(table, rs) });
        if (!sameRules((await listGuard(ctx, table, netns)) ?? [], guardRules(table, rs))) throw new Error('rules read back differ from the rules loaded');
      });
      return [{ ...base, available: true, reason: '' }];
    } catch (e) {
      return [{ ...base, available: false, reason: `loading a test table failed: ${errorText(e)}` }];
    }
  }

  async ensure(ctx: DriverContext, spec: FilterSpec__Output, view: NetworkView): Promise<EnsureResult> {
    const rs = buildRuleSet(spec);
    requireVisibleTraffic(this.kind, view, rs, !kernelDatapath());
    const version = await toolVersion(ctx, ['nft', '--version']);
    const table = nftTable(ctx.env.prefix, ctx.scope);
    let changed = false;
    if (view.kind === 'bridge') changed = await ensureHostSysctl(ctx, BRIDGE_NF, '1', true);
    const loaded = await listGuard(ctx, table, ctx.env.hostNetns);
    if (loaded === null || !sameRules(loaded, guardRules(table, rs))) {
      await ctx.journal.record({ type: 'nft-table', family: 'inet', name: table, netns: ctx.env.hostNetns });
      await ctx.runner.run(['nft', '-f', '-'], { netns: ctx.env.hostNetns, stdin: renderNft(table, rs), timeoutMs: 120_000 });
      changed = true;
    }
    return { changed, variant: 'kernel', version };
  }

  async check(ctx: DriverContext, spec: FilterSpec__Output, view: NetworkView): Promise<DriftReport[]> {
    const rs = buildRuleSet(spec);
    requireVisibleTraffic(this.kind, view, rs, !kernelDatapath());
    const table = nftTable(ctx.env.prefix, ctx.scope);
    const drifts: DriftReport[] = view.kind === 'bridge' ? await hostSysctlDrift(ctx, BRIDGE_NF, '1') : [];
    const loaded = await listGuard(ctx, table, ctx.env.hostNetns);
    const want = guardRules(table, rs);
    if (loaded === null) drifts.push({ object: `nft table inet ${table}`, expected: 'present', observed: 'missing' });
    else if (!sameRules(loaded, want)) drifts.push({ object: `nft table inet ${table}`, expected: `${want.length} rules, ${want.at(-1)}`, observed: `${loaded.length} rules, ${loaded.at(-1) ?? 'none'}` });
    return drifts;
  }
}
