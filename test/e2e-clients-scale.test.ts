// clients-scale through the front door: N client containers against one server container, on
// real lab hosts and agents, Redis, the controller's queue and engine, nothing but the REST API.
// Across two hosts without policy and with an iptables allow-list, and on one host with
// nftables: every cell places one server (pair p0's sink) and 8 clients (the cell's own source,
// then extra `cli<i>` containers), the pre-flight proves every client reaches the server and
// that a non-client is still refused, and each run reports one throughput per client (pairs
// c0..c7, eight distinct source containers, one server address, eight server ports) plus the
// clients' summary: start spread, the window all clients measured together, and within it the total,
// per-client min/mean/max and Jain's fairness; and the server host's CPU.
import t from 'tap';
import type { Test } from 'tap';
import { startE2eApi, startE2eLab } from './helpers/e2e-lab.js';
import { requireRoot, requireTool } from './helpers/requirements.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const N = 8;

interface Row { run: string; cell: string; filter: string; placement: string; workload_kind: string; pair: string; flow: string; metric: string; value: number }
interface CellBody { id: string; filter: string; placement: string; state: string; isolation: boolean | null; isolationEvidence: string }

const spec = (placement: string, filter: string[], bitrate: string | undefined): Record<string, unknown> => ({
  name: `clients-${placement}`,
  hosts: ['h1', 'h2'],
  placement,
  matrix: { network: ['bridge'], tunnel: ['none'], filter, containers: [2] },
  // With a bitrate the entry needs no engine: a target rate is iperf3's (-b).
  workloads: [{ 'clients-scale': bitrate === undefined ? { engine: 'iperf3', clients: [N], duration: 3 } : { clients: [N], duration: 3, bitrate } }],
  repetitions: { min: 1, max: 1 },
});
/** The single-host cell paces every client at this rate: each must measure about it. */
const PACED = '20M';

t.test(`clients-scale: ${N} client containers against one server, one host and two, with and without policy`, { timeout: 360_000 }, async (t: Test) => {
  if (!requireRoot(t, 'lab namespaces')) return;
  if (!requireTool(t, 'iperf3', 'iperf3 (scripts/setup.sh installs it)')) return;
  if (!requireTool(t, 'nft', 'nftables (scripts/setup.sh installs it)')) return;
  const lab = await startE2eLab(t, 2);
  const front = await startE2eApi(t, lab, { engine: { metricsIntervalMs: 500, runMarginMs: 30_000 } });
  const api = front.request;

  for (const [placement, filters, serverHost, bitrate] of [['multi-host', ['none', 'iptables'], 'h2', undefined], ['single-host', ['nftables'], 'h1', PACED]] as const) {
    const sub = await api<{ id: string }>('/v1/experiments', spec(placement, [...filters], bitrate));
    t.equal(sub.status, 202, sub.text);
    const id = sub.body.id;
    const t0 = Date.now();
    let s = (await api<{ state: string; progress: { runsFailed: number }; error?: string }>(`/v1/experiments/${id}`)).body;
    while (!['succeeded', 'failed', 'cancelled'].includes(s.state) && Date.now() - t0 < 150_000) {
      await sleep(500);
      s = (await api<typeof s>(`/v1/experiments/${id}`)).body;
    }
    const cells = (await api<CellBody[]>(`/v1/experiments/${id}/cells`)).body;
    for (const c of cells) t.comment(`${placement}/${c.filter}: ${c.state} isolation=${String(c.isolation)}\n${c.isolationEvidence}`);
    t.equal(s.state, 'succeeded', `${placement}: ${s.error ?? ''}`);
    t.equal(s.progress.runsFailed, 0, `${placement}: no run failed`);

    for (const c of cells) {
      const what = `${placement}/${c.filter}`;
      t.equal(c.state, 'measured', what);
      const server = new RegExp(`clients-scale: ${N} of ${N} clients connect to the server snk0\\((198\\.19\\.\\d+\\.\\d+)\\) on ${serverHost}`).exec(c.isolationEvidence);
      t.ok(server, `${what}: the pre-flight proves every client reaches the one server on ${serverHost}`);
      if (c.filter !== 'none') {
        t.equal(c.isolation, true, `${what}: isolation holds with the clients allowed`);
        t.match(c.isolationEvidence, /denied cli0\(.*\) -> src0\(.*\): blocked/, `${what}: a client still cannot reach a container that is not the server`);
      }
    }

    const rows = (await api<Row[]>(`/v1/experiments/${id}/results?format=json`)).body.filter((r) => r.workload_kind === 'clients-scale');
    const runs = front.ctl.store.runs(id);
    t.equal(runs.length, filters.length, `${placement}: one run per cell`);
    for (const run of runs) {
      const mine = rows.filter((r) => r.run === run.id);
      const what = `${placement}/${mine[0]?.filter ?? '?'}`;
      const perClient = mine.filter((r) => r.metric === 'throughput' && r.flow === '' && /^c\d+$/.test(r.pair));
      t.same(perClient.map((r) => r.pair).sort(), Array.from({ length: N }, (_, i) => `c${i}`).sort(), `${what}: one throughput per client`);
      t.ok(perClient.every((r) => r.value > 1e6), `${what}: every client moved data (${perClient.map((r) => (r.value / 1e6).toFixed(0)).join(', ')} Mbit/s)`);
      const sum = (m: string): number | undefined => mine.find((r) => r.pair === 'clients' && r.flow === 'total' && r.metric === m)?.value;
      t.equal(sum('clients'), N, `${what}: the summary counts ${N} clients`);
      // Totals and fairness cover the window every client was measuring at once.
      const spread = sum('start_spread_s') ?? -1;
      const window = sum('common_window_s') ?? -1;
      t.ok(spread >= 0 && spread < 0.25, `${what}: released together by the agent's start barrier, the ${N} clients started ${spread.toFixed(3)} s apart`);
      t.ok(window >= 1 && window <= 3, `${what}: they measured together for ${window.toFixed(2)} s of the 3 s`);
      const total = perClient.reduce((a, r) => a + r.value, 0);
      const [min, mean, max] = [sum('throughput_client_min') ?? 0, sum('throughput_client_mean') ?? 0, sum('throughput_client_max') ?? 0];
      t.ok(min > 0 && min <= mean && mean <= max, `${what}: per-client min ${(min / 1e6).toFixed(0)} <= mean ${(mean / 1e6).toFixed(0)} <= max ${(max / 1e6).toFixed(0)} Mbit/s in the window`);
      t.ok(Math.abs((sum('throughput') ?? 0) - N * mean) < 1, `${what}: the total is the clients' sum in the window (${((sum('throughput') ?? 0) / 1e6).toFixed(0)} Mbit/s)`);
      t.ok((sum('throughput') ?? 0) > total / 3 && (sum('throughput') ?? 0) < total * 3, `${what}: the window's total is of the order of the whole runs' sum (${(total / 1e6).toFixed(0)} Mbit/s)`);
      const fair = sum('fairness') ?? 0;
      t.ok(fair > 1 / N - 1e-9 && fair <= 1 + 1e-9, `${what}: Jain's fairness ${fair.toFixed(3)} within [1/N, 1]`);
      const cpu = sum('server_host_cpu_mean');
      t.ok(cpu !== undefined && cpu > 0 && cpu <= 100, `${what}: the server host's CPU is in the summary (${cpu?.toFixed(1)} %)`);
      t.equal(cpu, mine.find((r) => r.pair === `host/${serverHost}` && r.metric === 'host_cpu_mean')?.value, `${what}: the server host's CPU is ${serverHost}'s`);
      // The argv each client ran (provenance): eight client namespaces, one server address, eight server ports.
      const tools = (front.ctl.store.runProvenance(run.id)?.['tools'] ?? {}) as Record<string, { argv: string[] }>;
      const argvs = Object.entries(tools).filter(([pair]) => /^c\d+$/.test(pair)).map(([, v]) => v.argv);
      const at = (argv: string[], flag: string): string | undefined => argv[argv.indexOf(flag) + 1];
      t.equal(new Set(argvs.map((a) => at(a, 'exec'))).size, N, `${what}: ${N} distinct client containers`);
      t.equal(new Set(argvs.map((a) => at(a, '-c'))).size, 1, `${what}: one server address (${argvs.map((a) => at(a, '-c'))[0]})`);
      t.equal(new Set(argvs.map((a) => at(a, '-p'))).size, N, `${what}: ${N} server ports, one iperf3 server each`);
      if (bitrate !== undefined) {
        // The target rate reached the tool and the traffic: every client paced at 20 Mbit/s.
        t.ok(argvs.length === N && argvs.every((a) => at(a, '-b') === bitrate), `${what}: every client ran iperf3 -b ${bitrate}`);
        t.ok(run.workloadInstance.id.endsWith(`@${bitrate}`) && run.workloadInstance.params['bitrate'] === bitrate, `${what}: the workload instance names its rate (${run.workloadInstance.id})`);
        t.ok(perClient.every((r) => r.value > 0.5 * 20e6 && r.value < 1.25 * 20e6), `${what}: every client measured about ${bitrate}bit/s (${perClient.map((r) => (r.value / 1e6).toFixed(1)).join(', ')} Mbit/s)`);
      }
    }
  }
});
