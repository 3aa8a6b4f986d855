// The VM lab end to end: `lab up --vm` boots two QEMU guests with the distribution's stock
// kernel, installs the agent in each with the seconet_agent Ansible role over SSH, and the
// controller on the machine drives them over gRPC with mutual TLS on forwarded loopback ports.
// Through nothing but the REST API, the tunnel matrix crosses the two guest kernels: every
// tunnel (none, ipip, gre, geneve, vxlan, wireguard, ipsec, openvpn, tinc), filter none, two
// containers, latency-basic and a 5 s throughput, one repetition; every cell must succeed and
// the tunnels the guest kernel has must run their kernel variant. `lab down` must leave no QEMU,
// namespace or file behind. On these machines the guests run under TCG (software emulation):
// the figures are functional proof only, so nothing here asserts on speed.
import t from 'tap';
import type { Test } from 'tap';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExecRunner, findGuestKernel } from '../packages/agent/src/index.js';
import { takeLabDown } from '../packages/cli/src/lab/lab-down.js';
import { labUpDetailed } from '../packages/cli/src/lab/lab-up.js';
import { readLabState, type LabState } from '../packages/cli/src/lab/lab-state.js';
import { labStatus } from '../packages/cli/src/lab/lab-status.js';
import { QEMU_CMD } from '../packages/cli/src/lab/vm-lab.js';
import { isOurs } from '../packages/cli/src/lab/processes.js';
import { requireRoot, requireTool, requirement } from './helpers/requirements.js';

const runner = new ExecRunner();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const TUNNELS = ['none', 'ipip', 'gre', 'geneve', 'vxlan', 'wireguard', 'ipsec', 'openvpn', 'tinc'];
const KERNEL_VARIANT = new Set(['ipip', 'gre', 'geneve', 'vxlan', 'wireguard', 'ipsec']);

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

t.test('a 2-guest VM lab runs every tunnel across two stock kernels through the REST API', { timeout: 3_600_000 }, async (t: Test) => {
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
  t.equal(s.progress.runsFailed, 0, 'no run failed');
  const rows = (await api<Row[]>(`/v1/experiments/${id}/results?format=json`)).body;
  for (const tunnel of TUNNELS) {
    for (const w of ['latency-basic', 'throughput-basic']) {
      const mine = rows.filter((r) => r.tunnel === tunnel && r.workload.startsWith(w) && !r.pair.startsWith('host/'));
      t.ok(mine.length > 0, `${tunnel} ${w}: ${mine.length} result rows`);
      if (KERNEL_VARIANT.has(tunnel) && mine.length > 0) t.equal(mine[0]!.tunnel_variant, 'kernel', `${tunnel}: the guest kernel's variant (tunnel_variant=kernel)`);
    }
  }
  t.comment(`VM lab wall time: up ${upSeconds.toFixed(0)} s, matrix ${matrixSeconds.toFixed(0)} s`);

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
