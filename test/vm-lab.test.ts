// The VM lab end to end: `lab up --vm` boots two QEMU guests with the distribution's stock
// kernel, installs the agent in each with the seconet_agent Ansible role over SSH, and the
// controller on the machine drives them over gRPC with mutual TLS on forwarded loopback ports.
// Through nothing but the REST API, the tunnel matrix crosses the two guest kernels: every
// tunnel (none, ipip, gre, geneve, vxlan, wireguard, ipsec, openvpn, tinc), filter none, two
// containers, latency-basic and a 5 s throughput, one repetition; every cell must succeed and
// the tunnels the guest kernel has must run their kernel variant. On the same lab: the CNI
// recipes only a full kernel can run (calico-ipip, antrea-geneve) with rr, the single-host
// filter matrix on the OVS kernel datapath (with `seconet run FILE --vm`), and an agent
// SIGKILLed inside a guest mid-sweep, restarted by the controller over SSH, with nothing of
// the killed run left in the guest (the agent's Check and GC). `lab down` must leave no QEMU,
// namespace or file behind. On these machines the guests run under TCG (software emulation):
// the figures are functional proof only, so nothing here asserts on speed.
//
// It runs last (tap starts files in name order, two at a time): started early, its TCG guests
// and the other files' labs and Ansible runs starved each other (lab up 401 s instead of 183 s,
// capability probes timing out in the guests, the Ansible role test past its limit).
import t from 'tap';
import type { Test } from 'tap';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { connectAgent, ExecRunner, findGuestKernel } from '../packages/agent/src/index.js';
import { takeLabDown } from '../packages/cli/src/lab/lab-down.js';
import { labUpDetailed } from '../packages/cli/src/lab/lab-up.js';
import { readLabState, type LabState } from '../packages/cli/src/lab/lab-state.js';
import { labStatus } from '../packages/cli/src/lab/lab-status.js';
import { GUEST_PATHS, QEMU_CMD, sshGuest } from '../packages/cli/src/lab/vm-lab.js';
import { isOurs } from '../packages/cli/src/lab/processes.js';
import { runCli } from './cli-helpers.js';
import { requireRoot, requireTool, requirement } from './helpers/requirements.js';

const runner = new ExecRunner();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const TUNNELS = ['none', 'ipip', 'gre', 'geneve', 'vxlan', 'wireguard', 'ipsec', 'openvpn', 'tinc'];
const KERNEL_VARIANT = new Set(['ipip', 'gre', 'geneve', 'vxlan', 'wireguard', 'ipsec']);

interface Experiment { state: string; progress: { runsDone: number; runsFailed: number; runsTotal: number }; error?: string }
interface CellStatus { network: string; filter: string; state: string; filterVariant: string; isolation: boolean | null; isolationEvidence: string; error?: string }
interface RunStatus { id: string; cell: string; state: string; attempts: number; error?: string }
interface Row { cell: string; workload: string; network: string; tunnel: string; tunnel_variant: string; filter: string; pair: string; metric: string; value: number; host_kind?: string; kernel_release?: string }

function kernelMissing(): string | undefined {
  try {
    findGuestKernel();
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

async function namespaces(): Promise<string[]> {
  return (await runner.run(['ip', 'netns', 'list'])).stdout.split('\n').map((l) => l.split(' ')[0] ?? '').filter((n) => n.length > 0);
}

// The runner's per-file limit (.taprc: 600 s) is too short for booting, provisioning and three
// experiments under TCG; the root test's own timeout tells the runner this file's limit.
t.setTimeout(1_800_000);

t.test('a 2-guest VM lab runs every tunnel across two stock kernels, the OVS filter matrix and an agent kill through the REST API', { timeout: 1_800_000 }, async (t: Test) => {
  if (!requireRoot(t, 'QEMU taps and the lab namespace')) return;
  for (const [tool, why] of [['/usr/bin/qemu-system-x86_64', 'the VM lab guests'], ['/usr/bin/ansible-playbook', 'installing the agents with the seconet_agent role'], ['/usr/sbin/sshd', 'SSH into the guests'], ['/bin/busybox', 'the guests\' initramfs']] as const) {
    if (!requireTool(t, tool, why)) return;
  }
  if (!requirement(t, kernelMissing())) return;
  if (!requirement(t, existsSync(new URL('../packages/agent/dist/server/main.js', import.meta.url)) ? undefined : 'the VM lab runs the built agent: npm run build')) return;

  const dir = mkdtempSync(join(tmpdir(), 'snvm-test-'));
  const labDir = join(dir, 'lab');
  t.teardown(async () => {
    const s = readLabState(labDir);
    if (s) await takeLabDown(runner, s);
    rmSync(dir, { recursive: true, force: true });
  });

  const t0 = Date.now();
  const up = await labUpDetailed({ hosts: 2, runner, dir: labDir, vm: {}, timeoutMs: 600_000, say: (l) => t.comment(`lab up: ${l}`) });
  const state = up.state;
  const upSeconds = (Date.now() - t0) / 1000;
  t.comment(`lab up --vm: ${upSeconds.toFixed(0)} s (boot ${state.vm?.bootSeconds} s, role ${state.vm?.provisionSeconds} s, ${state.vm?.hostKind})`);
  t.equal(up.action, 'created', 'a new VM lab');
  t.match(state.vm?.hostKind, /^vm-(kvm|tcg)$/, 'the lab records its accelerator');
  const status = await labStatus(state);
  t.ok(status.running, 'lab status: everything up');
  t.equal(status.hostKind, state.vm?.hostKind, 'lab status reports the host kind');
  for (const h of state.hosts) {
    t.match(h.address, /^127\.0\.0\.1:\d+$/, `${h.name}: the controller reaches the agent on a loopback forward`);
    t.match(h.kernelRelease ?? '', /^\d+\.\d+/, `${h.name}: the guest reported its kernel release (${h.kernelRelease})`);
  }

  const token = readFileSync(state.tokenFile, 'utf8').trim();
  const api = async <T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<{ status: number; body: T }> => {
    const res = await fetch(`${state.apiUrl}${path}`, {
      method: init.method ?? 'GET',
      headers: { authorization: `Bearer ${token}`, ...(init.body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    });
    return { status: res.status, body: (await res.json()) as T };
  };

  const spec = {
    name: 'vm-lab-tunnels',
    hosts: ['h1', 'h2'],
    placement: 'multi-host',
    repetitions: { min: 1, max: 1 },
    matrix: { network: ['bridge'], tunnel: TUNNELS, filter: ['none'], containers: [2] },
    workloads: [{ 'latency-basic': { count: 4, interval: 0.2 } }, { 'throughput-basic': { engine: 'iperf3', duration: 5 } }],
  };
  const dry = await api<{ cells: unknown[]; skipped: Array<{ cell: { tunnel: string }; reason: string }> }>('/v1/experiments?dryRun=true', { method: 'POST', body: spec });
  t.equal(dry.status, 200, `dry-run: ${JSON.stringify(dry.body).slice(0, 300)}`);
  t.same(dry.body.skipped, [], 'no tunnel is skipped: the guest kernels offer every one');
  const t1 = Date.now();
  const sub = await api<{ id: string }>('/v1/experiments', { method: 'POST', body: spec });
  t.equal(sub.status, 202, 'submitted');
  const id = sub.body.id;
  let s = (await api<{ state: string; progress: { runsDone: number; runsFailed: number; runsTotal: number }; error?: string }>(`/v1/experiments/${id}`)).body;
  while (!['succeeded', 'failed', 'cancelled'].includes(s.state) && Date.now() - t1 < 2_400_000) {
    await sleep(2000);
    s = (await api<typeof s>(`/v1/experiments/${id}`)).body;
  }
  const matrixSeconds = (Date.now() - t1) / 1000;
  t.comment(`tunnel matrix: ${matrixSeconds.toFixed(0)} s, ${s.state} ${JSON.stringify(s.progress)} ${s.error ?? ''}`);
  t.equal(s.state, 'succeeded', 'the experiment succeeded');
  t.equal(s.progress.runsFailed, 0, `no run failed${s.progress.runsFailed > 0 ? ` (${(await api<RunStatus[]>(`/v1/experiments/${id}/runs`)).body.filter((r) => r.state === 'failed').map((r) => `${r.cell}: ${(r.error ?? '').slice(0, 400)}`).join(' | ')})` : ''}`);
  const rows = (await api<Row[]>(`/v1/experiments/${id}/results?format=json`)).body;
  for (const tunnel of TUNNELS) {
    for (const w of ['latency-basic', 'throughput-basic']) {
      const mine = rows.filter((r) => r.tunnel === tunnel && r.workload.startsWith(w) && !r.pair.startsWith('host/'));
      t.ok(mine.length > 0, `${tunnel} ${w}: ${mine.length} result rows`);
      if (KERNEL_VARIANT.has(tunnel) && mine.length > 0) t.equal(mine[0]!.tunnel_variant, 'kernel', `${tunnel}: the guest kernel's variant (tunnel_variant=kernel)`);
    }
  }
  t.comment(`VM lab wall time: up ${upSeconds.toFixed(0)} s, matrix ${matrixSeconds.toFixed(0)} s`);

  const waitDone = async (expId: string, limitMs: number): Promise<Experiment> => {
    const since = Date.now();
    let e = (await api<Experiment>(`/v1/experiments/${expId}`)).body;
    while (!['succeeded', 'failed', 'cancelled'].includes(e.state) && Date.now() - since < limitMs) {
      await sleep(1000);
      e = (await api<Experiment>(`/v1/experiments/${expId}`)).body;
    }
    return e;
  };

  // The CNI recipes whose tunnels only a full kernel has (calico-ipip: routing + IPIP + iptables;
  // antrea-geneve: OVS + GENEVE + OpenFlow rules), which the namespace lab must skip: here they
  // run as whole experiments with the studies' request/response workload.
  const tRecipes = Date.now();
  const recipeSpec = {
    name: 'vm-lab-recipes', hosts: ['h1', 'h2'], placement: 'multi-host', repetitions: { min: 1, max: 1 },
    matrix: { recipe: ['calico-ipip', 'antrea-geneve'], containers: [2] }, workloads: [{ rr: { duration: 2 } }],
  };
  // What the planner makes of the guests' capabilities now (a skip names its reason; a block
  // whose probe timed out is planned with a note).
  const recDry = await api<{ skipped: Array<{ reason: string }>; notes?: string[] }>('/v1/experiments?dryRun=true', { method: 'POST', body: recipeSpec });
  t.comment(`recipes dry-run: skipped ${JSON.stringify(recDry.body.skipped?.map((x) => x.reason))}, notes ${JSON.stringify(recDry.body.notes ?? [])}`);
  const rec = await api<{ id: string }>('/v1/experiments', { method: 'POST', body: recipeSpec });
  t.equal(rec.status, 202, 'the kernel-only recipes were submitted');
  const re = await waitDone(rec.body.id, 600_000);
  t.comment(`recipes calico-ipip, antrea-geneve: ${((Date.now() - tRecipes) / 1000).toFixed(0)} s, ${re.state} ${JSON.stringify(re.progress)} ${re.error ?? ''}`);
  t.equal(re.progress.runsTotal, 2, 'both recipes were planned and run, neither skipped');
  t.equal(re.state, 'succeeded', `the recipes succeeded${re.progress.runsFailed > 0 ? ` (${(await api<RunStatus[]>(`/v1/experiments/${rec.body.id}/runs`)).body.filter((r) => r.state === 'failed').map((r) => (r.error ?? '').slice(0, 300)).join(' | ')})` : ''}`);
  const rrows = (await api<Array<Row & { recipe: string }>>(`/v1/experiments/${rec.body.id}/results?format=json`)).body;
  for (const [recipe, blocks] of [['calico-ipip', 'routing/ipip/iptables'], ['antrea-geneve', 'ovs/geneve/ovs']] as const) {
    const tps = rrows.find((r) => r.recipe === recipe && r.metric === 'tps' && !r.pair.startsWith('host/'));
    t.ok(tps !== undefined && tps.value > 0, `${recipe}: a transactions/s row (${tps?.value})`);
    if (tps) {
      t.equal(`${tps.network}/${tps.tunnel}/${tps.filter}`, blocks, `${recipe}: its blocks`);
      t.equal(tps.tunnel_variant, 'kernel', `${recipe}: the guest kernel's ${tps.tunnel}`);
    }
  }

  // The single-host filter matrix on the OVS kernel datapath, submitted with `seconet run FILE
  // --vm` on the lab that is up (the CLI talks to the controller's REST API). On one guest:
  // network ovs with filters ovs and bpf; iptables never sees what OVS switches between two
  // ports of one bridge, so it is measured on the bridge network of the same guest (which
  // proves the role's br_netfilter), and the ovs x iptables cell is skipped with that reason.
  // The unfiltered baselines and nftables on the bridge are measured on the host kernel
  // through the REST API by test/e2e-all-blocks.test.ts; here they would only add guest time.
  const t2 = Date.now();
  const filterSpec = join(dir, 'filters.yaml');
  writeFileSync(filterSpec, toYaml({
    name: 'vm-lab-filters',
    hosts: ['h1'],
    placement: 'single-host',
    repetitions: { min: 1, max: 1 },
    // Four containers: two pairs, so the pre-flight has denied pairs to prove isolation with.
    matrix: { network: ['ovs', 'bridge'], tunnel: ['none'], filter: ['iptables', 'ovs', 'bpf'], containers: [4] },
    workloads: [{ 'latency-basic': { count: 4, interval: 0.2 } }],
  }));
  const report = join(dir, 'filters.html');
  const cli = await runCli(['run', filterSpec, '--vm', '-o', report, '--json'], { env: { SECONET_LAB_DIR: labDir }, timeoutMs: 900_000 });
  const filterSeconds = (Date.now() - t2) / 1000;
  t.equal(cli.code, 0, `seconet run --vm exits 0 (${cli.stderr.trim().split('\n').slice(-5).join(' | ')})`);
  const ran = JSON.parse(cli.stdout || '{}') as { id?: string; state?: string; results?: string; report?: string };
  t.comment(`filter matrix (seconet run --vm): ${filterSeconds.toFixed(0)} s, ${ran.state}`);
  t.equal(ran.state, 'succeeded', 'the filter matrix succeeded');
  t.ok(ran.report !== undefined && existsSync(ran.report), 'the report was written');
  const hostKind = state.vm!.hostKind;
  const csv = ran.results !== undefined && existsSync(ran.results) ? readFileSync(ran.results, 'utf8').trim().split('\n') : [];
  t.ok(csv.length > 1 && csv[0]!.split(',').includes('host_kind'), `the CSV has result rows and the host_kind column (${csv.length - 1} rows)`);
  t.ok(csv.slice(1).every((l) => l.includes(`,${hostKind},`)), `every CSV row says ${hostKind}`);
  if (ran.id !== undefined) {
    const cells = (await api<CellStatus[]>(`/v1/experiments/${ran.id}/cells`)).body;
    const measured = cells.filter((c) => c.state === 'measured').map((c) => `${c.network}/${c.filter}`).sort();
    t.same(measured, ['bridge/bpf', 'bridge/iptables', 'ovs/bpf', 'ovs/ovs'], `every feasible cell measured (${cells.map((c) => `${c.network}/${c.filter}: ${c.state}${c.error ? ` ${c.error}` : ''}`).join('; ')})`);
    for (const c of cells.filter((x) => x.state === 'measured' && x.filter !== 'none')) {
      t.equal(c.isolation, true, `${c.network}/${c.filter}: the pre-flight isolation verdict held (${c.isolationEvidence})`);
      t.equal(c.filterVariant, 'kernel', `${c.network}/${c.filter}: the kernel variant of the filter`);
    }
    const fr = (await api<Row[]>(`/v1/experiments/${ran.id}/results?format=json`)).body;
    for (const cell of ['ovs/ovs', 'ovs/bpf']) {
      t.ok(fr.some((r) => `${r.network}/${r.filter}` === cell && r.metric.startsWith('rtt') && r.host_kind === hostKind && r.kernel_release === state.hosts[0]!.kernelRelease), `${cell}: RTT rows from ${hostKind}, kernel ${state.hosts[0]!.kernelRelease}`);
    }
    // The datapath the rows were measured on: the guest's agent offers OVS on the kernel datapath only.
    const agents = (await api<Array<{ name: string; capabilities: Array<{ category: string; kind: string; variant: string; available: boolean; reason: string }> }>>('/v1/agents')).body;
    const caps = agents.find((a) => a.name === 'h1')?.capabilities ?? [];
    const ovs = caps.filter((c) => c.category === 'network' && c.kind === 'ovs' && c.available);
    const missing = caps.filter((c) => !c.available && ['ovs', 'bpf', 'ipsec'].includes(c.kind)).map((c) => `${c.category} ${c.kind} ${c.variant}: ${c.reason}`);
    t.ok(ovs.length > 0 && ovs.every((c) => /kernel/i.test(c.variant)), `h1: network ovs on the kernel datapath (${ovs.map((c) => c.variant).join(', ')}${missing.length > 0 ? `; unavailable: ${missing.join(' | ')}` : ''})`);
    const html = ran.report !== undefined && existsSync(ran.report) ? readFileSync(ran.report, 'utf8') : '';
    t.match(html, /<td>ovs <span class="meta" title="datapath">\(kernel\)<\/span><\/td>/, 'the report\'s cells say ovs ran on the kernel datapath');
  }

  // Faults on a real host: the agent inside guest h2 is SIGKILLed (its PID from the role's PID
  // file) in the middle of a multi-host sweep over the routing, bpf and ovs solutions. The
  // controller restarts it over SSH (its recovery), the run is retried (or fails with the
  // reason), the sweep finishes, and the agent's Check and GC, asked from here, find nothing of
  // the killed run left in the guest.
  const ctl = parseYaml(readFileSync(state.controller!.configFile, 'utf8')) as { agents: Array<{ name: string; address: string; tls: { ca: string; cert: string; key: string }; recovery?: unknown }> };
  t.ok(ctl.agents.length === 2 && ctl.agents.every((a) => a.recovery !== undefined), 'the controller has SSH recovery for every guest\'s agent');
  const clients = new Map(ctl.agents.map((a) => [a.name, connectAgent({ name: a.name, address: a.address, tls: a.tls })]));
  t.teardown(() => {
    for (const c of clients.values()) c.close();
  });
  const h2 = state.hosts.find((h) => h.name === 'h2')!;
  const pidFile = `${GUEST_PATHS.runDir}/agent.pid`;
  const guestPid = async (): Promise<number> => Number((await sshGuest(runner, state.vm!, h2.sshPort!, ['cat', pidFile])).trim());
  const pid0 = await guestPid();
  t.ok(pid0 > 1, `h2: the agent's PID file names ${pid0}`);
  const t3 = Date.now();
  const kill = await api<{ id: string }>('/v1/experiments', { method: 'POST', body: {
    name: 'vm-lab-agent-kill',
    hosts: ['h1', 'h2'],
    placement: 'multi-host',
    repetitions: { min: 1, max: 1 },
    // ovs here is the kernel datapath across the two guests (tunnel none: the underlay routes
    // each guest's container subnet), the cross-host cell the single-host filter matrix lacks.
    matrix: { network: ['routing', 'bpf', 'ovs'], tunnel: ['none'], filter: ['none'], containers: [2] },
    workloads: [{ 'latency-basic': { count: 12, interval: 0.5 } }],
  } });
  t.equal(kill.status, 202, 'the sweep was submitted');
  const kid = kill.body.id;
  let victim: RunStatus | undefined;
  while (victim === undefined && Date.now() - t3 < 600_000) {
    victim = (await api<RunStatus[]>(`/v1/experiments/${kid}/runs`)).body.find((r) => r.state === 'running');
    if (victim === undefined) await sleep(500);
  }
  t.ok(victim, 'a run of the sweep started');
  const scopes = (await clients.get('h2')!.getInfo({ deadlineMs: 60_000 })).scopes;
  t.equal(scopes.length, 1, `h2 holds the running cell's scope (${scopes.join(', ')})`);
  await sleep(2000);
  await sshGuest(runner, state.vm!, h2.sshPort!, ['kill', '-KILL', String(pid0)]);
  t.comment(`killed agent ${pid0} in h2 during run ${victim?.id}`);
  const k = await waitDone(kid, 900_000);
  const killSeconds = (Date.now() - t3) / 1000;
  t.comment(`agent-kill sweep: ${killSeconds.toFixed(0)} s, ${k.state} ${JSON.stringify(k.progress)} ${k.error ?? ''}`);
  t.ok(['succeeded', 'failed'].includes(k.state), `the sweep finished (${k.state})`);
  t.equal(k.progress.runsDone, k.progress.runsTotal, 'every run of the sweep is done');
  const kruns = (await api<RunStatus[]>(`/v1/experiments/${kid}/runs`)).body;
  const killed = kruns.find((r) => r.id === victim?.id);
  t.ok(killed !== undefined && ((killed.state === 'succeeded' && killed.attempts >= 2) || (killed.state === 'failed' && /h2/.test(killed.error ?? ''))),
    `the killed run was retried or failed naming the host (${killed?.state}, ${killed?.attempts} attempts${killed?.error ? `: ${killed.error.slice(0, 300)}` : ''})`);
  t.ok(kruns.filter((r) => r.id !== victim?.id).every((r) => r.state === 'succeeded'), `the rest of the sweep succeeded (${kruns.map((r) => `${r.cell}:${r.state}`).join(', ')})`);
  const krows = (await api<Row[]>(`/v1/experiments/${kid}/results?format=json`)).body;
  for (const network of ['routing', 'bpf', 'ovs']) {
    const rtt = krows.filter((r) => r.network === network && r.metric.startsWith('rtt') && !r.pair.startsWith('host/'));
    t.ok(rtt.length > 0, `${network} across the two guests: ${rtt.length} RTT rows`);
  }
  const events = await (await fetch(`${state.apiUrl}/v1/experiments/${kid}/events`, { headers: { authorization: `Bearer ${token}` } })).text();
  const restarts = events.split('\n').filter((l) => l.startsWith('data:') && l.includes('agent h2 stopped answering'));
  t.ok(restarts.some((l) => l.includes('restarted over SSH (ok)')), `the controller restarted h2's agent over SSH (${restarts.map((l) => l.slice(0, 200)).join(' | ')})`);
  const pid1 = await guestPid();
  t.not(pid1, pid0, `a new agent runs in h2 (${pid1})`);
  await sshGuest(runner, state.vm!, h2.sshPort!, ['kill', '-0', String(pid1)]);
  for (const [name, c] of clients) {
    const info = await c.getInfo({ deadlineMs: 60_000 });
    t.same(info.scopes, [], `${name}: the agent holds no scope after the sweep`);
    for (const scope of scopes) {
      const check = await c.check({ scope }, { deadlineMs: 60_000 });
      t.notOk(check.known, `${name}: Check does not know the killed run's scope ${scope} any more`);
    }
    const gc = await c.gc({ requestId: `vm-lab-gc-${name}`, keepScopes: [] }, { deadlineMs: 120_000 });
    t.same([...gc.removed, ...gc.removedScopes], [], `${name}: GC finds nothing left to remove`);
  }
  const prefix = h2.prefix;
  const netns = await sshGuest(runner, state.vm!, h2.sshPort!, ['ip', 'netns', 'list']);
  t.notOk(netns.split('\n').some((l) => l.startsWith(prefix)), `h2: no namespace of the lab's prefix ${prefix} is left in the guest`);
  t.comment(`VM lab wall time: up ${upSeconds.toFixed(0)} s, tunnels ${matrixSeconds.toFixed(0)} s, filters ${filterSeconds.toFixed(0)} s, agent kill ${killSeconds.toFixed(0)} s`);

  // lab down leaves nothing: no QEMU, no namespace, no lab files.
  const before: LabState = readLabState(labDir)!;
  await takeLabDown(runner, before);
  for (const h of before.hosts) t.notOk(h.qemu !== undefined && isOurs(h.qemu, QEMU_CMD), `${h.name}: QEMU stopped`);
  t.notOk((await namespaces()).includes(before.vm!.netns), 'the underlay namespace is gone');
  const links = (await runner.run(['ip', '-o', 'link', 'show'])).stdout;
  t.notOk(links.includes(before.vm!.netns), 'no tap is left in the root namespace');
  t.notOk(existsSync(join(labDir, 'vm')), 'the guests\' directory is gone');
  t.notOk(existsSync(join(labDir, 'state.json')), 'the state file is gone');
});
