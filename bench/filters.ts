// Benchmark: loading N filter rules (default 1000) in one batch, as the agent does, versus one
// process per rule, for every filter kind, in a throwaway namespace (OVS: a throwaway switch).
// Requirement: the batch is at least 10x faster for every kind. Each load is read back and
// counted, so a load that silently did nothing cannot look fast.
// With --per-packet: the per-packet cost of the rules instead, as the RTT between an allowed
// pair of containers on one lab host with 0 and with --rules extra rules (default 10000).
// Run (root): node --import=tsx --conditions=seconet-source bench/filters.ts [--rules N] [--per-packet] [--json]

import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import type { DriverContext, HostEnv, Runner } from '@seconet/agent';
import { ExecRunner } from '../packages/agent/src/runner/runner.js';
import { MemoryJournal } from '../packages/agent/src/journal/memory-journal.js';
import { teardownObjects } from '../packages/agent/src/journal/undo.js';
import { buildRuleSet, type RuleSet } from '../packages/agent/src/filters/rule-set.js';
import { renderRestore } from '../packages/agent/src/filters/iptables.js';
import { renderNft } from '../packages/agent/src/filters/nftables.js';
import { FILTER_OBJECT, bpfPins, pairKey, renderBatch } from '../packages/agent/src/filters/bpf.js';
import { renderFlows } from '../packages/agent/src/filters/ovs.js';
import { ensureOvsDaemons, mgmtSocket, vsctl } from '../packages/agent/src/ovs/switch.js';
import { ensureBpffs } from '../packages/agent/src/solutions/bpffs.js';
import { NETWORK_DRIVERS } from '../packages/agent/src/solutions/index.js';
import { FILTER_DRIVERS } from '../packages/agent/src/filters/index.js';
import { ensureContainers } from '../packages/agent/src/netns/containers.js';
import { createLab, destroyLab, randomLabId } from '../packages/agent/src/lab/topology.js';
import { containerCidr, nthHost } from '@seconet/core';

const args = process.argv.slice(2);
const json = args.includes('--json');
const ri = args.indexOf('--rules');
const perPacket = args.includes('--per-packet');
const N = ri >= 0 ? Number(args[ri + 1]) : perPacket ? 10_000 : 1000;
if (!Number.isInteger(N) || N < 1 || N > 100_000) throw new Error('--rules: 1..100000');

interface Row {
  kind: string;
  rules: number;
  batchMs: number;
  perRuleMs: number;
  ratio: number;
}

const runner: Runner = new ExecRunner();
const id = randomBytes(3).toString('hex');
const netns = `snbe${id}`;
const root = mkdtempSync(join(tmpdir(), 'seconet-bench-'));
const env: HostEnv = {
  name: 'bench', prefix: 'snbe', hostNetns: netns, stateDir: join(root, 'state'), runDir: join(root, 'run'), bpffs: join(root, 'bpf'),
  underlayDev: 'eth0', underlayAddress: '198.18.0.1', underlayMtu: 1500,
};
for (const d of [env.stateDir, env.runDir]) mkdirSync(d, { recursive: true, mode: 0o700 });
// Rules only: every pair from the decoy block, as `extraRules` loads them.
const rs: RuleSet = buildRuleSet({ kind: 'bench', guarded: ['198.19.1.0/24'], allow: [], extraRules: N });
const ns = { netns };

async function time(fn: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

function expectCount(kind: string, how: string, got: number, want: number): void {
  if (got !== want) throw new Error(`${kind} ${how}: read back ${got} rules, expected ${want}`);
}

async function iptables(): Promise<Row> {
  const count = async (chain: string): Promise<number> =>
    (await runner.run(['iptables-save', '-t', 'filter'], ns)).stdout.split('\n').filter((l) => l.startsWith(`-A ${chain} `) && l.endsWith('-j ACCEPT')).length;
  const a = 'SNBEBATCH';
  const batchMs = await time(() => runner.run(['iptables-restore', '-w', '--noflush'], { ...ns, stdin: renderRestore(a, rs, { exists: false, rules: [], jumps: [] }) }).then(() => undefined));
  expectCount('iptables', 'batch', await count(a), N);
  const b = 'SNBESINGLE';
  await runner.run(['iptables', '-w', '-N', b], ns);
  const perRuleMs = await time(async () => {
    for (const d of rs.decoys) await runner.run(['iptables', '-w', '-A', b, '-s', d.src, '-d', d.dst, '-j', 'ACCEPT'], ns);
  });
  expectCount('iptables', 'per rule', await count(b), N);
  return { kind: 'iptables', rules: N, batchMs, perRuleMs, ratio: perRuleMs / batchMs };
}

async function nftables(): Promise<Row> {
  const count = async (table: string): Promise<number> =>
    (await runner.run(['nft', 'list', 'table', 'inet', table], ns)).stdout.split('\n').filter((l) => /ip saddr \S+ ip daddr \S+ accept/.test(l)).length;
  const a = 'snbebatch';
  const batchMs = await time(() => runner.run(['nft', '-f', '-'], { ...ns, stdin: renderNft(a, rs) }).then(() => undefined));
  expectCount('nftables', 'batch', await count(a), N);
  const b = 'snbesingle';
  await runner.run(['nft', '-f', '-'], { ...ns, stdin: `table inet ${b} {\n\tchain guard {\n\t}\n}\n` });
  const perRuleMs = await time(async () => {
    for (const d of rs.decoys) await runner.run(['nft', 'add', 'rule', 'inet', b, 'guard', 'ip', 'saddr', d.src, 'ip', 'daddr', d.dst, 'accept'], ns);
  });
  expectCount('nftables', 'per rule', await count(b), N);
  return { kind: 'nftables', rules: N, batchMs, perRuleMs, ratio: perRuleMs / batchMs };
}

async function bpf(): Promise<Row> {
  await ensureBpffs(runner, env);
  const load = async (scope: string): Promise<ReturnType<typeof bpfPins>> => {
    const pins = bpfPins(env.bpffs, env.prefix, scope);
    mkdirSync(pins.dir, { recursive: true });
    await runner.run(['bpftool', 'prog', 'load', FILTER_OBJECT, pins.prog, 'type', 'classifier', 'pinmaps', pins.dir]);
    return pins;
  };
  const count = async (pin: string): Promise<number> => (JSON.parse((await runner.run(['bpftool', '-j', 'map', 'dump', 'pinned', pin])).stdout) as unknown[]).length;
  const a = await load('batch');
  const batchMs = await time(() => runner.run(['bpftool', 'batch', 'file', '-'], { stdin: renderBatch(a, rs, 1) }).then(() => undefined));
  expectCount('bpf', 'batch', await count(a.allow), N);
  const b = await load('single');
  const hex = (k: number[]): string[] => k.map((x) => x.toString(16).padStart(2, '0'));
  const perRuleMs = await time(async () => {
    for (const d of rs.decoys) await runner.run(['bpftool', 'map', 'update', 'pinned', b.allow, 'key', 'hex', ...hex(pairKey(1, d.src, d.dst)), 'value', 'hex', '01']);
  });
  expectCount('bpf', 'per rule', await count(b.allow), N);
  return { kind: 'bpf', rules: N, batchMs, perRuleMs, ratio: perRuleMs / batchMs };
}

async function ovs(ctx: DriverContext): Promise<Row> {
  const { paths } = await ensureOvsDaemons(ctx);
  const brs = ['snbesbatch', 'snbessingle'];
  for (const br of brs) await ctx.journal.record({ type: 'ovs-bridge', name: br, db: paths.dbSocket });
  await vsctl(runner, paths, brs.flatMap((br) => ['--', '--may-exist', 'add-br', br, '--', 'set', 'bridge', br, 'datapath_type=netdev']));
  const mgmt = (br: string): string => `unix:${mgmtSocket(paths.dbSocket, br)}`;
  const count = async (br: string): Promise<number> =>
    (await runner.run(['ovs-ofctl', '-O', 'OpenFlow14', 'dump-flows', '--no-stats', mgmt(br)], ns)).stdout.split('\n').filter((l) => l.includes('priority=30')).length;
  const batchMs = await time(() => runner.run(['ovs-ofctl', '-O', 'OpenFlow14', '--bundle', 'add-flows', mgmt(brs[0]!), '-'], { ...ns, stdin: renderFlows(env.prefix, 'bench', rs) }).then(() => undefined));
  expectCount('ovs', 'batch', await count(brs[0]!), N);
  const perRuleMs = await time(async () => {
    for (const d of rs.decoys) await runner.run(['ovs-ofctl', '-O', 'OpenFlow14', 'add-flow', mgmt(brs[1]!), `priority=30,ip,nw_src=${d.src},nw_dst=${d.dst},actions=NORMAL`], ns);
  });
  expectCount('ovs', 'per rule', await count(brs[1]!), N);
  return { kind: 'ovs', rules: N, batchMs, perRuleMs, ratio: perRuleMs / batchMs };
}

interface RttRow {
  kind: string;
  network: string;
  rules: number;
  rttUsWithout: number;
  rttUsWith: number;
}

/** Mean RTT (µs) of `count` pings from netns to address, 2 ms apart. */
async function rttUs(netns: string, address: string, count = 400): Promise<number> {
  const r = await runner.run(['ping', '-n', '-q', '-c', String(count), '-i', '0.002', '-W', '1', address], { netns, timeoutMs: 60_000 });
  const m = /= ([\d.]+)\/([\d.]+)\//.exec(r.stdout);
  if (!m || !/ 0% packet loss/.test(r.stdout)) throw new Error(`ping ${address}: ${r.stdout}`);
  return Number(m[2]) * 1000;
}

async function perPacketCost(): Promise<RttRow[]> {
  const lab = await createLab(runner, randomLabId(), 1);
  const host = lab.hosts[0]!;
  const hostEnv: HostEnv = { ...env, prefix: host.prefix, hostNetns: host.netns };
  const rows: RttRow[] = [];
  try {
    for (const kind of ['iptables', 'nftables', 'bpf', 'ovs']) {
      const network = kind === 'ovs' ? 'ovs' : 'routing';
      const scope = `pp-${kind}`;
      const journal = new MemoryJournal(scope);
      const ctx: DriverContext = { env: hostEnv, runner, journal, log: pino({ level: 'silent' }), scope };
      try {
        const cidr = containerCidr(1);
        const handles = await ensureContainers(ctx, [{ name: 'c1', address: nthHost(cidr, 2) }, { name: 'c2', address: nthHost(cidr, 3) }], 1500);
        const { view } = await NETWORK_DRIVERS.get(network)!.ensure(ctx, cidr, handles, 1500);
        const driver = FILTER_DRIVERS.get(kind)!;
        const spec = (extraRules: number) => ({ kind, guarded: [cidr], allow: [{ src: handles[0]!.spec.address, dst: handles[1]!.spec.address }], extraRules, ruleMatch: '' });
        await driver.ensure(ctx, spec(0), view);
        await rttUs(handles[0]!.netns, handles[1]!.spec.address, 50);
        const without = await rttUs(handles[0]!.netns, handles[1]!.spec.address);
        await driver.ensure(ctx, spec(N), view);
        await rttUs(handles[0]!.netns, handles[1]!.spec.address, 50);
        const withRules = await rttUs(handles[0]!.netns, handles[1]!.spec.address);
        rows.push({ kind, network, rules: N, rttUsWithout: without, rttUsWith: withRules });
      } finally {
        await teardownObjects({ runner, env: hostEnv, graceMs: 500 }, journal).catch(() => undefined);
      }
    }
  } finally {
    await runner.run(['umount', env.bpffs]).catch(() => undefined);
    await destroyLab(runner, lab);
  }
  return rows;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('run as root: the benchmark creates a network namespace');
  const journal = new MemoryJournal('bench');
  const ctx: DriverContext = { env, runner, journal, log: pino({ level: 'silent' }), scope: 'bench' };
  if (perPacket) {
    try {
      const rows = await perPacketCost();
      if (json) console.log(JSON.stringify(rows));
      else {
        console.log(`per-packet cost: mean RTT between an allowed pair, 0 vs ${N} extra rules (the allow rule last)`);
        console.log('kind      network   RTT 0 rules (us)  RTT with rules (us)  delta (us)');
        for (const r of rows) console.log(`${r.kind.padEnd(9)} ${r.network.padEnd(9)} ${r.rttUsWithout.toFixed(0).padStart(16)}  ${r.rttUsWith.toFixed(0).padStart(19)}  ${(r.rttUsWith - r.rttUsWithout).toFixed(0).padStart(10)}`);
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
    return;
  }
  const rows: Row[] = [];
  await runner.run(['ip', 'netns', 'add', netns]);
  try {
    rows.push(await iptables());
    rows.push(await nftables());
    rows.push(await bpf());
    rows.push(await ovs(ctx));
  } finally {
    await teardownObjects({ runner, env, graceMs: 500 }, journal).catch(() => undefined);
    await runner.run(['umount', env.bpffs]).catch(() => undefined);
    await runner.run(['ip', 'netns', 'del', netns]).catch(() => undefined);
    rmSync(root, { recursive: true, force: true });
  }
  if (json) console.log(JSON.stringify(rows));
  else {
    console.log(`filter rule loading, ${N} rules, in a throwaway namespace`);
    console.log('kind      batch (ms)  one process per rule (ms)  ratio');
    for (const r of rows) console.log(`${r.kind.padEnd(9)} ${r.batchMs.toFixed(1).padStart(10)}  ${r.perRuleMs.toFixed(0).padStart(25)}  ${r.ratio.toFixed(0).padStart(5)}x`);
  }
  const slow = rows.filter((r) => r.ratio < 10);
  if (slow.length > 0) {
    console.error(`batch less than 10x faster for: ${slow.map((r) => r.kind).join(', ')}`);
    process.exitCode = 1;
  }
}

await main();
