// The iptables filter: one chain of ours in the `filter` table of the host namespace, entered
// from FORWARD for traffic from a guarded network (one jump per guarded network), holding the
// decoy rules first, then the allowed pairs, then a DROP per guarded destination network;
// traffic to unguarded destinations falls off the chain's end and returns to FORWARD. So the
// rule count grows with the guarded networks, not with their square. The chain and its jumps
// are written by one `iptables-restore --noflush` transaction (declaring `:CHAIN` flushes it in
// the same commit, so a changed spec replaces the rules atomically), as Calico Felix does.
// Owner marks: the chain name carries the agent prefix; the jumps and the DROP rules carry
// `-m comment` marks, the DROPs' comment also the rule set's digest, so one `iptables-save`
// tells whether the loaded rules are already the desired ones. Decoy and allow rules carry no
// comment match, which would add a per-rule match to the very cost the rule-count sweeps
// measure (on the legacy backend). Bridged paths reach FORWARD only with br_netfilter's
// bridge-nf-call-iptables=1 in the host namespace, set and journaled here.

import { isDeepStrictEqual } from 'node:util';
import { objectName, sameRules } from '@seconet/core';
import type { CapabilityReport, DriftReport, DriverContext, EnsureResult, FilterDriver, NetworkView, ProbeContext } from '../driver.js';
import type { FilterSpec__Output } from '../gen/seconet/agent/v1/FilterSpec.js';
import type { OwnedObject } from '../journal/objects.js';
import { kernelDatapath } from '../ovs/switch.js';
import { BRIDGE_NF, ensureHostSysctl, hostSysctlDrift } from './host-sysctl.js';
import { errorText, toolVersion } from './probe-netns.js';
import { withProbeNetns } from '../netns/probe-netns.js';
import { buildRuleSet, requireVisibleTraffic, type RuleSet } from './rule-set.js';

export function iptablesChain(prefix: string, scope: string): string {
  return objectName(prefix, 'f', [scope, 'iptables']);
}

/** Jump rule (the argv after `-A FORWARD`) for traffic from one guarded network. */
export function jumpRule(chain: string, src: string): string[] {
  return ['-s', src, '-m', 'comment', '--comment', chain, '-j', chain];
}

function hostCidr(ip: string): string {
  return ip.includes('/') ? ip : `${ip}/32`;
}

/** The chain's rules as `iptables-save` prints them (argv after `-A CHAIN`, joined). */
export function chainRules(chain: string, rs: RuleSet): string[] {
  const lines: string[] = [];
  for (const d of rs.decoys) lines.push(`-s ${hostCidr(d.src)} -d ${hostCidr(d.dst)}${d.ports ? ` -p ${d.proto} -m ${d.proto} --dport ${d.ports.lo}:${d.ports.hi}` : ''} -j ACCEPT`);
  for (const a of rs.allow) lines.push(`-s ${hostCidr(a.src)} -d ${hostCidr(a.dst)} -j ACCEPT`);
  for (const g of rs.guarded) lines.push(`-d ${g} -m comment --comment "${chain}:${rs.digest.slice(0, 16)}" -j DROP`);
  return lines;
}

/** What `iptables-save -t filter` shows of ours: the chain's rules and the FORWARD jumps into it. */
export interface LoadedChain {
  readonly exists: boolean;
  readonly rules: string[];
  readonly jumps: string[];
}

export function parseSave(save: string, chain: string): LoadedChain {
  const rules: string[] = [];
  const jumps: string[] = [];
  let exists = false;
  for (const line of save.split('\n')) {
    if (line === `:${chain} - [0:0]` || line.startsWith(`:${chain} `)) exists = true;
    else if (line.startsWith(`-A ${chain} `)) rules.push(line.slice(`-A ${chain} `.length));
    else if (line.startsWith('-A FORWARD ') && line.endsWith(` -j ${chain}`)) jumps.push(line.slice('-A FORWARD '.length));
  }
  return { exists, rules, jumps };
}

/** The iptables-restore input that makes the chain and its jumps exactly `rs`, given what is loaded. */
export function renderRestore(chain: string, rs: RuleSet, loaded: LoadedChain): string {
  const want = rs.guarded.map((g) => jumpRule(chain, g).join(' '));
  const lines = ['*filter', `:${chain} - [0:0]`];
  for (const j of loaded.jumps) if (!want.includes(j)) lines.push(`-D FORWARD ${j}`);
  for (const j of want) if (!loaded.jumps.includes(j)) lines.push(`-I FORWARD 1 ${j}`);
  for (const r of chainRules(chain, rs)) lines.push(`-A ${chain} ${r}`);
  lines.push('COMMIT', '');
  return lines.join('\n');
}


function chainObject(ctx: DriverContext, chain: string, rs: RuleSet): OwnedObject {
  return {
    type: 'iptables-chain',
    table: 'filter',
    chain,
    jumps: rs.guarded.map((g) => ({ from: 'FORWARD', rule: jumpRule(chain, g) })),
    netns: ctx.env.hostNetns,
  };
}

async function readLoaded(ctx: DriverContext | ProbeContext, chain: string, netns: string | undefined): Promise<LoadedChain> {
  const r = await ctx.runner.run(['iptables-save', '-t', 'filter'], { netns });
  return parseSave(r.stdout, chain);
}

export class IptablesFilter implements FilterDriver {
  readonly kind = 'iptables';

  async probe(ctx: ProbeContext): Promise<CapabilityReport[]> {
    const version = await toolVersion(ctx, ['iptables', '--version']);
    const base = { category: 'filter', kind: this.kind, variant: 'kernel', version } as const;
    if (version === '') return [{ ...base, available: false, reason: 'iptables is not installed: apt-get install iptables' }];
    try {
      await withProbeNetns(ctx, async (netns) => {
        const chain = iptablesChain(ctx.env.prefix, 'probe');
        const rs = buildRuleSet({ kind: this.kind, guarded: ['198.19.0.0/24'], allow: [{ src: '198.19.0.2', dst: '198.19.0.3' }], extraRules: 2, ruleMatch: '' });
        await ctx.runner.run(['iptables-restore', '-w', '--noflush'], { netns, stdin: renderRestore(chain, rs, { exists: false, rules: [], jumps: [] }) });
        const back = await readLoaded(ctx, chain, netns);
        if (!sameRules(back.rules, chainRules(chain, rs))) throw new Error('rules read back differ from the rules loaded');
      });
      return [{ ...base, available: true, reason: '' }];
    } catch (e) {
      return [{ ...base, available: false, reason: `loading a test chain failed: ${errorText(e)}` }];
    }
  }

  async ensure(ctx: DriverContext, spec: FilterSpec__Output, view: NetworkView): Promise<EnsureResult> {
    const rs = buildRuleSet(spec);
    requireVisibleTraffic(this.kind, view, rs, !kernelDatapath());
    const version = await toolVersion(ctx, ['iptables', '--version']);
    const result = (changed: boolean): EnsureResult => ({ changed, variant: 'kernel', version });
    const chain = iptablesChain(ctx.env.prefix, ctx.scope);
    let changed = false;
    if (view.kind === 'bridge') changed = await ensureHostSysctl(ctx, BRIDGE_NF, '1', true);
    const loaded = await readLoaded(ctx, chain, ctx.env.hostNetns);
    const wantJumps = rs.guarded.map((g) => jumpRule(chain, g).join(' '));
    if (loaded.exists && sameRules(loaded.rules, chainRules(chain, rs)) && sameRules([...loaded.jumps].sort(), [...wantJumps].sort())) return result(changed);
    const obj = chainObject(ctx, chain, rs);
    await ctx.journal.record(obj);
    await ctx.runner.run(['iptables-restore', '-w', '--noflush'], { netns: ctx.env.hostNetns, stdin: renderRestore(chain, rs, loaded), timeoutMs: 120_000 });
    // The chain as journaled for an earlier spec (other jumps) is replaced by the one just loaded.
    await ctx.journal.forgetAll(ctx.journal.objects().filter((o) => o.type === 'iptables-chain' && o.chain === chain && !isDeepStrictEqual(o, obj)));
    return result(true);
  }

  async check(ctx: DriverContext, spec: FilterSpec__Output, view: NetworkView): Promise<DriftReport[]> {
    const rs = buildRuleSet(spec);
    requireVisibleTraffic(this.kind, view, rs, !kernelDatapath());
    const chain = iptablesChain(ctx.env.prefix, ctx.scope);
    const loaded = await readLoaded(ctx, chain, ctx.env.hostNetns);
    const drifts: DriftReport[] = view.kind === 'bridge' ? await hostSysctlDrift(ctx, BRIDGE_NF, '1') : [];
    const want = chainRules(chain, rs);
    if (!loaded.exists) drifts.push({ object: `iptables chain filter/${chain}`, expected: 'present', observed: 'missing' });
    else if (!sameRules(loaded.rules, want)) drifts.push({ object: `iptables chain filter/${chain}`, expected: `${want.length} rules, digest ${rs.digest.slice(0, 16)}`, observed: `${loaded.rules.length} rules, last: ${loaded.rules.at(-1) ?? 'none'}` });
    for (const g of rs.guarded) {
      if (!loaded.jumps.includes(jumpRule(chain, g).join(' '))) drifts.push({ object: `iptables jump FORWARD -s ${g}`, expected: 'present', observed: 'missing' });
    }
    return drifts;
  }
}

