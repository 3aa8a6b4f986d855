// The l7-http filter through the front door: real lab hosts and agents, real Redis, the
// controller's queue and engine, nothing but the REST API. A cell with the iptables filter and
// one with l7-http (the same L3/L4 rules plus HAProxy in each sink container's path, passing
// only GET /) measure the http workload (wrk against nginx). The l7-http cell's pre-flight
// proves the policy: GET / passes (200), POST / and GET /l7-denied are refused by the proxy
// (403); a non-HTTP workload is a skipped cell with the reason. The HAProxy processes are the
// agents' by PID and are gone after the experiment's teardown.
import t from 'tap';
import type { Test } from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { startE2eApi, startE2eLab } from './helpers/e2e-lab.js';
import { requireRoot, requireTool } from './helpers/requirements.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const SPEC = {
  name: 'l7-policy',
  hosts: ['h1', 'h2'],
  placement: 'single-host',
  matrix: { network: ['bridge'], filter: ['iptables', 'l7-http'], containers: [4] },
  workloads: [{ http: { duration: 2, concurrency: 20 } }, { rr: { duration: 2 } }],
  repetitions: { min: 1, max: 1 },
};

interface Row { cell: string; workload_kind: string; filter: string; pair: string; metric: string; value: number }
interface CellBody { id: string; filter: string; state: string; isolation: boolean | null; isolationEvidence: string; filterVariant: string }

/** PIDs of running haproxy processes whose command line names a path under `dir`. */
function haproxiesUnder(dir: string): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    let cmd: string;
    try {
      cmd = readFileSync(`/proc/${e}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    const argv = cmd.split('\0');
    if (argv[0]?.endsWith('haproxy') && argv.some((a) => a.startsWith(dir))) out.push(Number(e));
  }
  return out;
}

t.test('l7-http: only GET / passes the proxy, proved by the pre-flight; http measured through it', { timeout: 300_000 }, async (t: Test) => {
  if (!requireRoot(t, 'lab namespaces')) return;
  for (const tool of ['haproxy', 'curl', 'wrk', 'nginx']) if (!requireTool(t, tool, `${tool} (scripts/setup.sh installs it)`)) return;
  const lab = await startE2eLab(t, 2);
  const front = await startE2eApi(t, lab, { engine: { metricsIntervalMs: 500, runMarginMs: 20_000 } });
  const api = front.request;

  const dry = await api<{ cells: Array<{ filter: string }>; runs: unknown[]; skipped: Array<{ cell: { filter: string }; reason: string; workload?: string }> }>('/v1/experiments?dryRun=true', SPEC);
  t.equal(dry.status, 200, dry.text.slice(0, 300));
  t.same(dry.body.cells.map((c) => c.filter).sort(), ['iptables', 'l7-http'], JSON.stringify(dry.body.skipped.map((s) => s.reason)));
  t.equal(dry.body.runs.length, 3, 'http and rr with iptables, http alone with l7-http');
  const rrSkip = dry.body.skipped.find((s) => s.cell.filter === 'l7-http' && s.workload?.startsWith('rr') === true);
  t.match(rrSkip?.reason, /filter l7-http lets only HTTP GET \/ through its proxy to the sink: workload rr is not HTTP/, 'rr is skipped on the l7-http cell with the reason');

  const sub = await api<{ id: string }>('/v1/experiments', SPEC);
  t.equal(sub.status, 202, sub.text);
  const id = sub.body.id;
  const t0 = Date.now();
  let s = (await api<{ state: string; progress: { runsFailed: number }; error?: string }>(`/v1/experiments/${id}`)).body;
  let seenProxies = 0;
  while (!['succeeded', 'failed', 'cancelled'].includes(s.state) && Date.now() - t0 < 240_000) {
    seenProxies = Math.max(seenProxies, haproxiesUnder(lab.dir).length);
    await sleep(250);
    s = (await api<typeof s>(`/v1/experiments/${id}`)).body;
  }
  const cells = (await api<CellBody[]>(`/v1/experiments/${id}/cells`)).body;
  for (const c of cells) t.comment(`${c.filter}: ${c.state} isolation=${String(c.isolation)}\n${c.isolationEvidence}`);
  t.equal(s.state, 'succeeded', s.error ?? '');
  t.equal(s.progress.runsFailed, 0, 'no run failed');

  const l7 = cells.find((c) => c.filter === 'l7-http')!;
  t.equal(l7.state, 'measured');
  t.equal(l7.isolation, true, 'isolation holds at L3 and L7');
  t.equal(l7.filterVariant, 'userspace', 'the L7 policy runs in a userspace proxy');
  t.match(l7.isolationEvidence, /L7 \w+\(198\.19\.\d+\.\d+\) -> \w+\(198\.19\.\d+\.\d+\):\d+: GET \/ 200 \(passes\), POST \/ 403 and GET \/l7-denied 403 \(refused by the proxy\)/, 'the pre-flight proves the allowed request passes and the forbidden ones are refused');
  t.match(l7.isolationEvidence, /denied .* blocked/, 'denied pairs stay blocked below HTTP');
  t.notMatch(cells.find((c) => c.filter === 'iptables')!.isolationEvidence, /L7/, 'no L7 stage without the l7-http filter');
  t.ok(seenProxies >= 2, `a HAProxy ran in each of the 2 sink containers (${seenProxies} seen)`);

  const rows = (await api<Row[]>(`/v1/experiments/${id}/results?format=json`)).body.filter((r) => !r.pair.startsWith('host/'));
  for (const filter of ['iptables', 'l7-http']) {
    const http = rows.filter((r) => r.filter === filter && r.workload_kind === 'http');
    const v = (m: string): number[] => http.filter((r) => r.metric === m).map((r) => r.value);
    t.equal(v('rps').length, 2, `${filter}: http rows for both pairs`);
    t.ok(v('rps').every((x) => x > 100), `${filter}: ${v('rps').map((x) => x.toFixed(0)).join(', ')} requests/s`);
    t.same(v('non_2xx'), [0, 0], `${filter}: every GET / answered 200`);
  }
  t.same(haproxiesUnder(lab.dir), [], 'no HAProxy left after the teardown');
});
