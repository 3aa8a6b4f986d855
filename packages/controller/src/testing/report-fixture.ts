// A synthetic but realistic ReportData for tests and demos of the report, the exports and the
// API: a real spec expanded by core's expandMatrix, throughput and RTTs shaped by the lab's
// measured figures (LAB-NOTES: VXLAN close to the underlay, userspace VPNs an order of magnitude
// below; filters slowing with rule count; payload and pair count effects), per-packet RTT
// series with a tail, host CPU samples, provenance, a failed run and skipped cells. Seeded, so
// the same options always give the same data.

import { expandMatrix, mulberry32, parseSpec, type ExperimentState, type HostSampleRow, type ResultRow, type RunKey } from '@seconet/core';
import { groupDecisions } from '../report/groups.js';
import type { CellVerdict, CellWire, HostProvenance, ReportData, RunRecord } from '../report/types.js';
import { withValidity } from '../monitor/validity.js';

export interface FixtureOptions {
  readonly seed?: number;
  /** A spec (object or YAML) to expand instead of the default sweep. */
  readonly spec?: unknown;
  /** Fraction of the runs done (0..1); below 1 the experiment is running and later runs are pending. */
  readonly done?: number;
  /** Runs (by position among done runs) that failed instead of producing rows. */
  readonly failedRuns?: readonly number[];
  /** Cell indexes whose pre-flight isolation check broke. */
  readonly brokenIsolation?: readonly number[];
  readonly experimentId?: string;
}

export const FIXTURE_SPEC = {
  name: 'fixture-sweep',
  description: 'Synthetic sweep for report tests',
  hosts: ['node-a', 'node-b'],
  placement: 'multi-host',
  matrix: { network: ['bridge'], tunnel: ['none', 'vxlan', 'wireguard', 'ipsec'], filter: ['none', 'iptables', 'nftables'], rules: [0, 1000], containers: [2, 8] },
  workloads: [
    { 'latency-basic': { count: 40, interval: 0.05 } },
    { 'throughput-basic': { payload: [64, 653, 1370], engine: 'iperf3', duration: 5 } },
    { 'clients-scale': { clients: [50, 100], engine: 'iperf3', duration: 5 } },
  ],
  repetitions: { min: 3, max: 10, ciRelWidth: 0.05 },
};

const TUNNEL_GBPS: Record<string, number> = { none: 15, vxlan: 13.5, ipip: 14, gre: 14, geneve: 13, wireguard: 0.51, ipsec: 0.29, openvpn: 0.72, tinc: 0.55 };
const TUNNEL_RTT_MS: Record<string, number> = { none: 0.05, vxlan: 0.07, ipip: 0.06, gre: 0.06, geneve: 0.07, wireguard: 0.35, ipsec: 0.5, openvpn: 0.4, tinc: 0.45 };
const NETWORK_FACTOR: Record<string, number> = { bridge: 1, routing: 1.02, bpf: 1.1, ovs: 0.085 };
const RULE_COST: Record<string, number> = { none: 0, iptables: 0.00025, nftables: 0.0002, ovs: 0.00005, bpf: 0.000005 };
const USERSPACE_TUNNELS = new Set(['wireguard', 'ipsec', 'openvpn', 'tinc']);
const DITG_KINDS = new Set(['bursty', 'tcp-100', 'quake3', 'video']);
/** Offered load per pair (paper: 500 kbit/s bursts, 100 x 500 kbit/s, four Quake 3 flows, 3 GB/h video). */
const DITG_RATE_KBPS: Record<string, number> = { bursty: 250, 'tcp-100': 50_000, quake3: 120, video: 6_700 };
const ENCAPSULATION: Record<string, string> = { none: 'plain ICMP', vxlan: 'VXLAN UDP 4789', wireguard: 'WireGuard UDP 51820', ipsec: 'ESP-in-UDP 4500, IKE UDP 500', openvpn: 'OpenVPN UDP 1195', tinc: 'Tinc UDP 655, Tinc TCP 655', gre: 'GRE', ipip: 'IPIP', geneve: 'Geneve UDP 6081' };

function fixtureWire(tunnel: string): CellWire {
  const claims = USERSPACE_TUNNELS.has(tunnel);
  return {
    encrypted: claims ? 'yes' : 'no',
    claimsEncryption: claims,
    markerInClear: !claims,
    encapsulation: ENCAPSULATION[tunnel] ?? '',
    evidence: `node-a eth0: 14 packets, ${claims ? 0 : 8} with the marker in clear; ${ENCAPSULATION[tunnel] ?? ''}`,
  };
}

export function reportFixture(opts: FixtureOptions = {}): ReportData {
  const rnd = mulberry32(opts.seed ?? 42);
  const normal = (): number => Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
  const spec = parseSpec(opts.spec ?? FIXTURE_SPEC);
  const experimentId = opts.experimentId ?? 'exp-fixture';
  const hostNames = spec.hosts ?? ['node-a', 'node-b'];
  const plan = expandMatrix(spec, { experimentId, hosts: hostNames });
  const doneCount = Math.round(plan.runs.length * Math.min(1, Math.max(0, opts.done ?? 1)));
  const failed = new Set(opts.failedRuns ?? [Math.min(4, Math.max(0, doneCount - 1))]);
  const broken = new Set(opts.brokenIsolation ?? []);
  const cellById = new Map(plan.cells.map((c) => [c.id, c]));
  const t0 = Date.parse('2026-11-21T22:00:00Z') / 1000;

  const rows: ResultRow[] = [];
  const series: Array<{ run: string; pair: string; name: string; unit: string; values: number[] }> = [];
  const hostSamples: HostSampleRow[] = [];
  const runs: RunRecord[] = [];
  let clock = t0;

  plan.runs.forEach((run: RunKey, i) => {
    const cell = cellById.get(run.cell)!;
    const w = run.workload;
    const dur = w.durationMs / 1000;
    const isDone = i < doneCount;
    const isFailed = isDone && failed.has(i) && !broken.has(cell.index);
    const startedAt = new Date(clock * 1000).toISOString();
    const state = broken.has(cell.index) ? 'skipped' : !isDone ? 'pending' : isFailed ? 'failed' : 'succeeded';
    runs.push({
      id: run.id,
      cell: run.cell,
      workload: w.id,
      repetition: run.repetition,
      state,
      ...(isDone ? { startedAt, finishedAt: new Date((clock + dur + 2) * 1000).toISOString() } : {}),
      ...(isFailed ? { error: 'p0: TIMEOUT iperf3 did not report within 25 s' } : {}),
      attempts: isFailed ? 3 : isDone ? 1 : 0,
    });
    if (state !== 'succeeded') return;
    const tunnelVariant = USERSPACE_TUNNELS.has(cell.tunnel) ? 'userspace' : 'kernel';
    const filterVariant = cell.filter === 'none' ? '' : 'kernel';
    const pairs = cell.containers / 2;
    const base = {
      experiment: experimentId, cell: cell.id, run: run.id, repetition: run.repetition, workload: w.id, workload_kind: w.kind, engine: w.engine,
      payload: w.payload, protocol: w.protocol, network: cell.network, tunnel: cell.tunnel, tunnel_variant: tunnelVariant, filter: cell.filter,
      filter_variant: filterVariant, rules: cell.rules, containers: cell.containers, placement: cell.placement, flow: '', validity: '', recipe: cell.recipe ?? '', rule_match: cell.ruleMatch ?? 'address', host_kind: 'remote', kernel_release: '6.1.0-28-amd64',
    };
    const runNoise = 1 + 0.02 * normal();
    const filterSlow = 1 + cell.rules * (RULE_COST[cell.filter] ?? 0);
    const pairCount = w.kind === 'clients-scale' ? 1 : pairs;
    for (let p = 0; p < pairCount; p++) {
      const pair = `p${p}`;
      if (w.kind === 'latency-basic') {
        const rttBase = ((TUNNEL_RTT_MS[cell.tunnel] ?? 0.1) + cell.rules * (RULE_COST[cell.filter] ?? 0) * 0.8) * (1 + 0.05 * pairs) * runNoise;
        const count = Number(w.params['count'] ?? 40);
        const values: number[] = [];
        for (let k = 0; k < count; k++) {
          const tail = rnd() < 0.03 ? 3 + 4 * rnd() : 1;
          values.push(+(rttBase * (0.8 + 0.4 * -Math.log(1 - rnd()) * 0.5) * tail).toFixed(4));
        }
        series.push({ run: run.id, pair, name: 'rtt', unit: 'ms', values });
        const avg = values.reduce((a, b) => a + b, 0) / values.length;
        rows.push({ ...base, pair, metric: 'rtt_avg', value: +avg.toFixed(4), unit: 'ms' });
        rows.push({ ...base, pair, metric: 'rtt_min', value: Math.min(...values), unit: 'ms' });
        rows.push({ ...base, pair, metric: 'rtt_max', value: Math.max(...values), unit: 'ms' });
        rows.push({ ...base, pair, metric: 'loss', value: 0, unit: '%' });
      } else if (DITG_KINDS.has(w.kind)) {
        const rtt = ((TUNNEL_RTT_MS[cell.tunnel] ?? 0.1) * 2 + (w.kind === 'tcp-100' ? 1.5 : 0.2)) * runNoise * (1 + 0.04 * normal());
        const rate = (DITG_RATE_KBPS[w.kind] ?? 500) * 1000 * (USERSPACE_TUNNELS.has(cell.tunnel) && w.kind === 'tcp-100' ? 0.8 : 1) * (1 + 0.01 * normal());
        rows.push({ ...base, pair, metric: 'rtt_avg', value: +rtt.toFixed(4), unit: 'ms' });
        rows.push({ ...base, pair, metric: 'jitter', value: +(rtt * 0.12 * (1 + 0.1 * normal())).toFixed(4), unit: 'ms' });
        rows.push({ ...base, pair, metric: 'loss', value: +Math.max(0, (USERSPACE_TUNNELS.has(cell.tunnel) ? 0.4 : 0.02) * (1 + 0.3 * normal())).toFixed(3), unit: '%' });
        rows.push({ ...base, pair, metric: 'bitrate', value: Math.round(rate), unit: 'bit/s' });
      } else {
        const payloadFactor = (w.payload / (w.payload + 400)) / (1370 / 1770);
        const gbps = (TUNNEL_GBPS[cell.tunnel] ?? 1) * (NETWORK_FACTOR[cell.network] ?? 1) * payloadFactor / filterSlow;
        const share = w.kind === 'clients-scale' ? 1 / (1 + Number(w.params['clients'] ?? 50) / 400) : Math.min(1, 1.6 / pairs);
        const bps = gbps * 1e9 * share * runNoise * (1 + 0.03 * normal());
        rows.push({ ...base, pair, metric: 'throughput', value: Math.round(bps), unit: 'bit/s' });
        rows.push({ ...base, pair, metric: 'retransmits', value: Math.round(rnd() * 20 * filterSlow), unit: 'count' });
        // The aggregator's summary over the clients (pair `clients`, flow `total`).
        if (w.kind === 'clients-scale') rows.push({ ...base, pair: 'clients', flow: 'total', metric: 'throughput', value: Math.round(bps), unit: 'bit/s' });
      }
    }
    const busiest: number[] = [];
    for (const host of cell.hosts) {
      const load = w.kind === 'latency-basic' ? 3 : DITG_KINDS.has(w.kind) ? (w.kind === 'tcp-100' ? 30 : 8) : USERSPACE_TUNNELS.has(cell.tunnel) ? 85 : 55;
      for (let k = 0; k < 2; k++) {
        const ts = clock + 1 + k;
        const busy = Math.min(99, load * (1 + 0.05 * normal()));
        const siq = busy * (USERSPACE_TUNNELS.has(cell.tunnel) ? 0.15 : 0.35);
        const usr = busy * 0.35;
        const sys = busy - siq - usr;
        for (const [col, v] of [['usr', usr], ['sys', sys], ['siq', siq], ['hiq', 0], ['idl', 100 - busy]] as const) {
          hostSamples.push({ experiment: experimentId, run: run.id, host, timestamp: ts, column: `total cpu usage:${col}`, value: +v.toFixed(2) });
        }
        // The busier core carries the softirq and, for a userspace VPN, the daemon's thread.
        const core0 = Math.min(100, busy * 1.16);
        const core1 = Math.max(0, 2 * busy - core0);
        for (const [name, b] of [['cpu0', core0], ['cpu1', core1]] as const) {
          for (const [col, v] of [['usr', b * 0.35], ['sys', b * 0.3], ['siq', b * 0.35], ['hiq', 0], ['stl', 0], ['wai', 0], ['idl', 100 - b]] as const) {
            hostSamples.push({ experiment: experimentId, run: run.id, host, timestamp: ts, column: `${name} usage:${col}`, value: +v.toFixed(2) });
          }
        }
        hostSamples.push({ experiment: experimentId, run: run.id, host, timestamp: ts, column: 'testbed:agent_cpu', value: 0.8 });
        busiest.push(core0);
      }
      rows.push({ ...base, pair: `host/${host}`, metric: 'host_cpu_mean', value: load, unit: '%' });
      const peak = busiest.splice(0).reduce((a, b) => a + b, 0) / 2;
      rows.push({ ...base, pair: `host/${host}`, metric: 'host_core_busiest', value: +peak.toFixed(2), unit: '%' });
      rows.push({ ...base, pair: `host/${host}`, metric: 'host_core_busiest_siq', value: +(peak * 0.35).toFixed(2), unit: '%' });
      rows.push({ ...base, pair: `host/${host}`, metric: 'host_steal_max', value: 0, unit: '%' });
      rows.push({ ...base, pair: `host/${host}`, metric: 'testbed_cpu_share', value: 0.8, unit: '%' });
    }
    clock += dur + 2;
  });

  const cells: CellVerdict[] = plan.cells.map((c) => {
    const measured = runs.filter((r) => r.cell === c.id);
    const anyDone = measured.some((r) => r.state === 'succeeded' || r.state === 'failed');
    const isBroken = broken.has(c.index);
    return {
      cell: c,
      isolation: c.filter === 'none' || (!anyDone && !isBroken) ? null : !isBroken,
      isolationEvidence: c.filter === 'none' ? 'filter none' : isBroken ? 'p0 -> p1 sink (other pair) answered 3/3 probes: the allow-list leaks' : 'cross-pair probes dropped 3/3, own-pair probes passed 3/3',
      tunnelVariant: USERSPACE_TUNNELS.has(c.tunnel) ? 'userspace' : 'kernel',
      filterVariant: c.filter === 'none' ? '' : 'kernel',
      setupSeconds: anyDone || isBroken
        ? { containers: +(0.05 + (0.13 * c.containers) / 32).toFixed(3), network: 0.05, tunnel: c.tunnel === 'none' ? 0 : c.tunnel === 'vxlan' ? 0.08 : c.tunnel === 'wireguard' ? 0.9 : 2.5, filter: c.filter === 'none' ? 0 : +(0.02 + c.rules * 1e-5).toFixed(3) }
        : {},
      state: isBroken ? 'invalid' : anyDone && measured.every((r) => r.state !== 'pending') ? 'measured' : 'pending',
      ...(isBroken ? { error: 'isolation check failed: not measured' } : {}),
      ...(c.hosts.length > 1 && (anyDone || isBroken) ? { wire: fixtureWire(c.tunnel) } : {}),
    };
  });

  const hosts: HostProvenance[] = hostNames.map((name) => ({
    name,
    kernel: '6.1.0-28-amd64',
    hostKind: 'remote',
    agentVersion: '0.1.0',
    tools: [
      { tool: 'ping', version: 'iputils 20221126' },
      { tool: 'iperf3', version: '3.12' },
      { tool: 'ITGSend', version: '2.8.1' },
      { tool: 'wireguard-go', version: '0.0.20220316' },
      { tool: 'charon', version: '5.9.8' },
    ],
    cpu: 'Intel Xeon Processor (Skylake), 2 cores',
    memoryBytes: 4 * 2 ** 30,
  }));

  const finished = doneCount >= plan.runs.length;
  const state: ExperimentState = finished ? 'succeeded' : doneCount === 0 ? 'queued' : 'running';
  const data: ReportData = {
    experiment: {
      id: experimentId,
      name: spec.name,
      state,
      spec,
      createdAt: new Date((t0 - 60) * 1000).toISOString(),
      ...(doneCount > 0 ? { startedAt: new Date(t0 * 1000).toISOString() } : {}),
      ...(finished ? { finishedAt: new Date(clock * 1000).toISOString() } : {}),
    },
    cells,
    skipped: plan.skipped,
    runs,
    rows: withValidity(rows),
    series,
    hostSamples,
    decisions: [],
    hosts,
  };
  return { ...data, decisions: groupDecisions(data) };
}
