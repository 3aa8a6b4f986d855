// Benchmark: setup time of each tunnel kind this machine offers between two lab hosts — the
// time from the first `ensure` until each host's container network answers pings from the
// other's through the tunnel (ensure runs on both hosts at once, as the Configurator applies
// in parallel) — and the time to undo it from the journals. Median of a few repetitions, each
// on a fresh lab, with `none` (plain routing) as the baseline of the ratio. Setup cost is a
// result users choose by (DESIGN.md), so this is what an experiment's `tunnel` timing shows.
// Run (root): node --import=tsx --conditions=seconet-source bench/tunnels.ts [--reps N] [--json] [--kinds a,b]

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pino } from 'pino';
import { containerCidr, generateTunnelSecrets, overlayAddress, objectName, type TunnelHostSecrets } from '@seconet/core';
import type { DriverContext, HostEnv, NetworkView, TunnelDriver, VariantName } from '@seconet/agent';
import { ExecRunner } from '../packages/agent/src/runner/runner.js';
import { createLab, destroyLab, randomLabId, type LabTopology } from '../packages/agent/src/lab/topology.js';
import { MemoryJournal } from '../packages/agent/src/journal/memory-journal.js';
import { teardownObjects } from '../packages/agent/src/journal/undo.js';
import { TUNNEL_DRIVERS } from '../packages/agent/src/tunnels/index.js';
import type { TunnelSpec__Output } from '../packages/agent/src/gen/seconet/agent/v1/TunnelSpec.js';

const args = process.argv.slice(2);
const json = args.includes('--json');
const ri = args.indexOf('--reps');
const REPS = ri >= 0 ? Number(args[ri + 1]) : 3;
if (!Number.isInteger(REPS) || REPS < 1 || REPS > 50) throw new Error('--reps: 1..50');
const ki = args.indexOf('--kinds');
const only = ki >= 0 ? (args[ki + 1] ?? '').split(',') : undefined;

const runner = new ExecRunner();
const log = pino({ level: 'silent' });
const SCOPE = 'bench-tunnels';

interface Row {
  kind: string;
  variant: VariantName;
  version: string;
  setupMs: number[];
  undoMs: number[];
  median: number;
  undoMedian: number;
  ratio: number;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function pings(ns: string, from: string, to: string): Promise<boolean> {
  try {
    const r = await runner.run(['ping', '-n', '-q', '-c', '1', '-W', '0.2', '-I', from, to], { netns: ns, timeoutMs: 5000 });
    return / 1 received/.test(r.stdout);
  } catch {
    return false;
  }
}

interface Host {
  ctx: DriverContext;
  journal: MemoryJournal;
  view: NetworkView;
  spec: TunnelSpec__Output;
  netns: string;
  gw: string;
}

async function setupHosts(topo: LabTopology, kind: string, root: string, secrets: Record<string, TunnelHostSecrets>): Promise<Host[]> {
  const hosts: Host[] = [];
  for (const h of topo.hosts) {
    const env: HostEnv = {
      name: h.name, prefix: h.prefix, hostNetns: h.netns, stateDir: join(root, h.name, 'state'), runDir: join(root, h.name, 'run'), bpffs: join(root, h.name, 'bpf'),
      underlayDev: h.underlayDev, underlayAddress: h.underlayAddress, underlayMtu: 1500,
    };
    const journal = new MemoryJournal(SCOPE);
    const gw = `198.19.${h.index}.1`;
    // A veth pair with both ends in the host stands in for the container network (this kernel has no dummy links).
    const cn = objectName(h.prefix, 'v', [SCOPE, 'cnet']);
    const cp = objectName(h.prefix, 'v', [SCOPE, 'cnet-peer']);
    await runner.run(['ip', '-n', h.netns, '-batch', '-'], { stdin: `link add ${cn} type veth peer name ${cp}\naddr add ${gw}/24 dev ${cn}\nlink set ${cp} up\nlink set ${cn} up\n` });
    const spec: TunnelSpec__Output = {
      kind, variant: 'VARIANT_UNSPECIFIED', cipher: '', localAddress: h.underlayAddress, overlayAddress: `${overlayAddress(h.index)}/24`, port: 0, vni: 0,
      secrets: { privateKey: secrets[h.name]!.privateKey, preSharedKey: secrets[h.name]!.preSharedKey },
      peers: topo.hosts.filter((p) => p !== h).map((p) => ({ name: p.name, underlayAddress: p.underlayAddress, overlayAddress: overlayAddress(p.index), routes: [containerCidr(p.index)], publicKey: secrets[p.name]!.publicKey, index: p.index })),
    };
    const view: NetworkView = { kind: 'routing', containerCidr: containerCidr(h.index), gateway: gw, bridge: undefined, ovsdb: undefined, containers: [], mtu: 1500 };
    hosts.push({ ctx: { env, runner, journal, log, scope: SCOPE }, journal, view, spec, netns: h.netns, gw });
  }
  return hosts;
}

async function once(driver: TunnelDriver): Promise<{ setupMs: number; undoMs: number; variant: VariantName; version: string }> {
  const topo = await createLab(runner, randomLabId(), 2);
  const root = mkdtempSync(join(tmpdir(), 'seconet-bench-tun-'));
  let hosts: Host[] = [];
  try {
    hosts = await setupHosts(topo, driver.kind, root, generateTunnelSecrets(driver.kind, topo.hosts.map((h) => h.name)));
    const [a, b] = hosts as [Host, Host];
    const t0 = performance.now();
    const res = await Promise.all(hosts.map((h) => driver.ensure(h.ctx, h.spec, h.view)));
    const deadline = Date.now() + 30_000;
    let ok = false;
    while (!ok && Date.now() < deadline) ok = (await pings(a.netns, a.gw, b.gw)) && (await pings(b.netns, b.gw, a.gw));
    const setupMs = performance.now() - t0;
    if (!ok) throw new Error(`${driver.kind}: container networks did not reach each other within 30 s`);
    const t1 = performance.now();
    for (const h of hosts) {
      const r = await teardownObjects({ runner, env: h.ctx.env }, h.journal);
      if (r.failed.length) throw new Error(`${driver.kind}: undo failed: ${JSON.stringify(r.failed)}`);
    }
    const undoMs = performance.now() - t1;
    return { setupMs, undoMs, variant: res[0]!.variant, version: res[0]!.version };
  } finally {
    for (const h of hosts) await teardownObjects({ runner, env: h.ctx.env }, h.journal).catch(() => undefined);
    await destroyLab(runner, topo);
    rmSync(root, { recursive: true, force: true });
  }
}

const probeEnv = { prefix: 'snbt' } as HostEnv;
const rows: Row[] = [];
const skipped: Array<{ kind: string; reason: string }> = [];
for (const [kind, driver] of TUNNEL_DRIVERS) {
  if (only && !only.includes(kind)) continue;
  const caps = await driver.probe({ env: probeEnv, runner, log });
  if (!caps.some((c) => c.available)) {
    skipped.push({ kind, reason: caps.map((c) => `${c.variant}: ${c.reason}`).join('; ') });
    continue;
  }
  const setupMs: number[] = [];
  const undoMs: number[] = [];
  let variant: VariantName = 'kernel';
  let version = '';
  for (let i = 0; i < REPS; i++) {
    const r = await once(driver);
    setupMs.push(r.setupMs);
    undoMs.push(r.undoMs);
    variant = r.variant;
    version = r.version;
  }
  rows.push({ kind, variant, version, setupMs, undoMs, median: median(setupMs), undoMedian: median(undoMs), ratio: 0 });
  if (!json) process.stderr.write(`${kind}: ${setupMs.map((x) => x.toFixed(0)).join(', ')} ms\n`);
}
const base = rows.find((r) => r.kind === 'none')?.median;
for (const r of rows) r.ratio = base ? r.median / base : NaN;

if (json) {
  process.stdout.write(JSON.stringify({ reps: REPS, rows, skipped }, null, 2) + '\n');
} else {
  const fmt = (ms: number): string => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`);
  console.log(`| kind | variant | version | setup until both ping (median of ${REPS}) | x none | undo (median) |`);
  console.log('|---|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.kind} | ${r.variant} | ${r.version} | ${fmt(r.median)} | ${Number.isNaN(r.ratio) ? '-' : `${r.ratio.toFixed(1)}x`} | ${fmt(r.undoMedian)} |`);
  for (const s of skipped) console.log(`\nskipped ${s.kind}: ${s.reason}`);
}
