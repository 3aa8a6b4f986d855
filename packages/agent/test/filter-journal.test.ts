// The filter objects that live on someone else's object: OpenFlow flows on the ovs network's
// bridge and the BPF filter's prio-1 tc filter on the bpf network's clsact qdisc. Unit tests pin
// the undo argv and what counts as already gone; the lab tests go through the real reconciler:
// a filter switched to `none` leaves none of its rules in force (the denied pair passes, no
// flow with the scope's cookie, no prio-1 tc filter) while the network keeps working, and
// switching back denies again.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import { containerCidr } from '@seconet/core';
import { FILTER_OBJECT, tcFilterObject } from '../src/filters/bpf.js';
import { SCOPE_MASK, flowsObject, parseDump, scopeCookie } from '../src/filters/ovs.js';
import type { HostEnv } from '../src/host-env.js';
import { Journal } from '../src/journal/file-journal.js';
import { MemoryJournal } from '../src/journal/memory-journal.js';
import { describe, type OwnedObject } from '../src/journal/objects.js';
import { removeObject, teardownObjects } from '../src/journal/undo.js';
import { createLab, destroyLab, randomLabId } from '../src/lab/topology.js';
import { mgmtSocket, ovsPaths } from '../src/ovs/switch.js';
import { createReconciler } from '../src/reconciler/reconciler.js';
import { FakeRunner } from '../src/testing.js';
import { ExecRunner } from '../src/runner/runner.js';
import { REDIRECT_OBJECT } from '../src/solutions/bpf.js';
import { ovsBridgeName } from '../src/solutions/ovs.js';
import { applyRequest } from './helpers/requests.js';
import { hostEnvFor, ping, silentLogger } from './helpers/two-hosts.js';
import { requireRoot } from '../../../test/helpers/requirements.js';

const root = process.getuid?.() === 0;
const env: HostEnv = { name: 'h1', prefix: 'snab', hostNetns: 'snlbxh1', stateDir: '/tmp/x/state', runDir: '/tmp/x/run', bpffs: '/tmp/x/bpf', underlayDev: 'eth0', underlayAddress: '198.18.0.1', underlayMtu: 1500 };
const flows: Extract<OwnedObject, { type: 'ovs-flows' }> = { type: 'ovs-flows', bridge: 'snabs1', mgmt: '/tmp/x/run/s/ovs/run/snabs1.mgmt', cookie: '0x1234abcd00000000', mask: SCOPE_MASK };

t.test('tc-filter: undo argv, host namespace by default, already gone is success', async (t) => {
  const r = new FakeRunner();
  await removeObject({ runner: r, env }, tcFilterObject('snabv1', undefined));
  await removeObject({ runner: r, env }, { type: 'tc-filter', dev: 'eth0', netns: 'snc1', direction: 'egress', prio: 3, handle: 7 });
  t.same(r.lines(), ['tc -n snlbxh1 filter del dev snabv1 ingress prio 1 handle 1 bpf', 'tc -n snc1 filter del dev eth0 egress prio 3 handle 7 bpf']);
  await removeObject({ runner: new FakeRunner(), env: { ...env, hostNetns: undefined } }, tcFilterObject('snabv1', undefined));

  for (const stderr of ['Error: Cannot find specified filter chain.', "Error: Parent Qdisc doesn't exists.", 'Error: Filter with specified priority/protocol not found.', 'Cannot find device "snabv1"', 'Cannot open network namespace "snlbxh1": No such file or directory']) {
    const gone = new FakeRunner().on('filter del', { fail: 'Failed', stderr });
    await t.resolves(removeObject({ runner: gone, env }, tcFilterObject('snabv1', undefined)), `gone: ${stderr}`);
  }
  const denied = new FakeRunner().on('filter del', { fail: 'PermissionDenied', stderr: 'RTNETLINK answers: Operation not permitted' });
  await t.rejects(removeObject({ runner: denied, env }, tcFilterObject('snabv1', undefined)), /Operation not permitted/, 'a real failure is not swallowed');

  const none = new FakeRunner();
  for (const bad of [{ dev: '-force' }, { dev: 'a b' }, { dev: 'x'.repeat(16) }, { prio: -1 }, { handle: 1.5 }]) {
    await t.rejects(removeObject({ runner: none, env }, { ...tcFilterObject('snabv1', undefined), ...bad }), /not a valid tc filter record/, `refused: ${JSON.stringify(bad)}`);
  }
  t.same(none.calls, [], 'nothing runs for a malformed record');
  t.equal(describe(tcFilterObject('snabv1', 'snlbxh1')), 'tc filter snabv1 ingress prio 1 handle 1@snlbxh1');
});

t.test('tc-filter: a run of them is one tc -batch, settled one by one when it fails', async (t) => {
  const j = new MemoryJournal('s1');
  await j.recordAll([{ type: 'bpf-pin', path: '/tmp/x/bpf/snab-s1' }, tcFilterObject('snabv1', 'snlbxh1'), tcFilterObject('snabv2', 'snlbxh1')]);
  const ok = new FakeRunner();
  const first = await teardownObjects({ runner: ok, env }, j);
  t.same(first.failed, []);
  t.same(ok.calls[0], { argv: ['tc', '-n', 'snlbxh1', '-force', '-batch', '-'], netns: undefined, stdin: 'filter del dev snabv2 ingress prio 1 handle 1 bpf\nfilter del dev snabv1 ingress prio 1 handle 1 bpf\n', spawned: false });
  t.equal(ok.calls.length, 1, 'one process for both filters (the pin is a file)');
  t.same(j.objects(), [], 'all forgotten');

  await j.recordAll([tcFilterObject('snabv1', 'snlbxh1'), tcFilterObject('snabv2', 'snlbxh1')]);
  const partly = new FakeRunner().on('-batch', { fail: 'Failed', stderr: 'Error: Cannot find specified filter chain.\nCommand failed -:1' });
  const second = await teardownObjects({ runner: partly, env }, j);
  t.same(second.failed, []);
  t.same(partly.lines().slice(1), ['tc -n snlbxh1 filter del dev snabv2 ingress prio 1 handle 1 bpf', 'tc -n snlbxh1 filter del dev snabv1 ingress prio 1 handle 1 bpf']);
  t.same(j.objects(), []);
});

t.test('ovs-flows: undo argv on the management socket, a gone switch is success', async (t) => {
  const r = new FakeRunner();
  await removeObject({ runner: r, env }, flows);
  t.same(r.lines(), [`ovs-ofctl -O OpenFlow14 --timeout=10 del-flows unix:${flows.mgmt} cookie=0x1234abcd00000000/0xffffffff00000000`]);
  for (const stderr of [`ovs-ofctl: unix:${flows.mgmt}: failed to open socket (No such file or directory)`, `ovs-ofctl: unix:${flows.mgmt}: failed to connect to socket (Connection refused)`]) {
    const gone = new FakeRunner().on('del-flows', { fail: 'Failed', stderr });
    await t.resolves(removeObject({ runner: gone, env }, flows), `gone: ${stderr}`);
  }
  await t.rejects(removeObject({ runner: new FakeRunner().on('del-flows', { fail: 'TimedOut', stderr: 'timed out' }), env }, flows), /timed out/);
  const none = new FakeRunner();
  await t.rejects(removeObject({ runner: none, env }, { ...flows, cookie: '0x1,priority=0' }), /not a valid flow record/);
  await t.rejects(removeObject({ runner: none, env }, { ...flows, mgmt: 'relative.mgmt' }), /not a valid flow record/);
  t.same(none.calls, []);
  t.equal(describe(flows), 'ovs flows snabs1 cookie 0x1234abcd00000000/0xffffffff00000000');
  t.same(flowsObject('snab', 'cell', 'snabs1', '/r/snabs1.mgmt'), { type: 'ovs-flows', bridge: 'snabs1', mgmt: '/r/snabs1.mgmt', cookie: `0x${scopeCookie('snab', 'cell')}00000000`, mask: SCOPE_MASK }, 'one record per scope, whatever the rule set');
});

// ---------------------------------------------------------------------------------------------
// Through the reconciler in a real lab host.

const runner = new ExecRunner();

t.before(() => {
  if (!root) return;
  const dir = fileURLToPath(new URL('../bpf', import.meta.url));
  if (!existsSync(FILTER_OBJECT) || !existsSync(REDIRECT_OBJECT)) execFileSync('/usr/bin/make', ['-s', '-C', dir]);
});

async function labHost(t: Test) {
  const dir = mkdtempSync(join(tmpdir(), 'seconet-fj-'));
  const topo = await createLab(runner, randomLabId(), 1);
  const env = hostEnvFor(topo.hosts[0]!, dir);
  const rec = await createReconciler({ env, runner, log: silentLogger() });
  t.teardown(async () => {
    await rec.gc({ requestId: 'cleanup', keepScopes: [] }).catch(() => undefined);
    await runner.run(['umount', env.bpffs]).catch(() => undefined);
    await destroyLab(runner, topo);
    rmSync(dir, { recursive: true, force: true });
  });
  return { env, rec, hns: topo.hosts[0]!.netns };
}

/** The scope's journal objects as the agent wrote them to disk. */
function journaled(env: HostEnv, scope: string): OwnedObject[] {
  const j = new Journal(env.stateDir);
  j.load();
  return [...(j.get(scope)?.objects() ?? [])];
}

const cidr = containerCidr(1);
const filterOf = (kind: string) => ({ kind, guarded: [cidr], allow: [{ src: '198.19.1.2', dst: '198.19.1.3' }], extraRules: 20, ruleMatch: '' });

type Container = { netns?: string; address?: string; interface?: string };

async function verdicts(t: Test, cs: readonly Container[], filtered: boolean, label: string): Promise<void> {
  const [c1, c2, c3, c4] = cs;
  const p = (a: Container | undefined, b: Container | undefined): Promise<boolean> => ping(runner, a!.netns!, b!.address!, { count: 2, timeoutS: 1 });
  t.ok(await p(c1, c2), `${label}: allowed c1 -> c2 passes`);
  t.equal(await p(c3, c4), !filtered, `${label}: c3 -> c4 ${filtered ? 'is dropped' : 'passes'}`);
  t.equal(await p(c4, c3), !filtered, `${label}: c4 -> c3 ${filtered ? 'is dropped' : 'passes'}`);
}

t.test('ovs filter -> none -> ovs on the ovs network through Apply', async (t) => {
  if (!requireRoot(t, 'network namespaces')) return;
  const { env, rec } = await labHost(t);
  const scope = 'cell-fo';
  const req = (kind: string) => applyRequest(scope, { network: 'ovs', containers: 4, filter: filterOf(kind) });
  const first = await rec.apply(req('ovs'));
  const cs = first.containers!;
  await verdicts(t, cs, true, 'ovs filter');
  const bridge = ovsBridgeName(env.prefix, scope);
  const mgmt = mgmtSocket(ovsPaths(env, scope).dbSocket, bridge);
  const record = flowsObject(env.prefix, scope, bridge, mgmt);
  t.same(journaled(env, scope).filter((o) => o.type === 'ovs-flows'), [record], "the flows are journaled once, on the bridge's management socket");
  const dump = async (): Promise<string> => (await runner.run(['ovs-ofctl', '-O', 'OpenFlow14', 'dump-flows', '--no-stats', `unix:${mgmt}`], { netns: env.hostNetns })).stdout;
  // parseDump restores the leading zeros ovs-ofctl drops (a cookie may start with 0).
  const scoped = (out: string): string[] => parseDump(out).filter((f) => f.cookie.startsWith(`0x${scopeCookie(env.prefix, scope)}`)).map((f) => f.flow);
  t.ok(scoped(await dump()).length >= 20, 'decoys, allow and drop flows carry the scope cookie');

  const off = await rec.apply(req('none'));
  t.same(off.timings!.map((x) => x.component), [], 'only the filter changed, and it has nothing to ensure');
  t.equal(off.filterVariant, 'VARIANT_UNSPECIFIED');
  t.same(scoped(await dump()), [], 'no flow with the old cookie remains');
  t.match(await dump(), /priority=0 actions=NORMAL/, "the bridge's own NORMAL flow stays");
  t.notOk(journaled(env, scope).some((o) => o.type === 'ovs-flows'), 'the flows record is gone from the journal');
  await verdicts(t, cs, false, 'filter none');
  t.same(await rec.check({ scope }), { inSync: true, drifts: [], known: true });

  const back = await rec.apply(req('ovs'));
  t.same(back.timings!.map((x) => x.component), ['filter']);
  t.ok(scoped(await dump()).length >= 20, 'flows loaded again');
  await verdicts(t, cs, true, 'ovs filter again');
  const down = await rec.teardown({ requestId: 'td', scope });
  t.ok(down.removed!.includes(describe(record)), 'teardown removes the flows record');
});

t.test('bpf filter -> none -> bpf on the bpf network through Apply', async (t) => {
  if (!requireRoot(t, 'network namespaces and BPF')) return;
  const { env, rec, hns } = await labHost(t);
  const scope = 'cell-fb';
  const req = (kind: string) => applyRequest(scope, { network: 'bpf', containers: 4, filter: filterOf(kind) });
  const first = await rec.apply(req('bpf'));
  const cs = first.containers!;
  await verdicts(t, cs, true, 'bpf filter');
  const devs = cs.map((c) => c.interface!);
  const prefs = async (): Promise<Array<{ dev: string; prefs: number[] }>> =>
    Promise.all(
      devs.map(async (dev) => {
        const r = await runner.run(['tc', '-j', 'filter', 'show', 'dev', dev, 'ingress'], { netns: hns });
        const rows = JSON.parse(r.stdout || '[]') as Array<{ pref: number; options?: { handle?: number } }>;
        return { dev, prefs: [...new Set(rows.filter((x) => x.options?.handle !== undefined).map((x) => x.pref))].sort((a, b) => a - b) };
      }),
    );
  t.same(await prefs(), devs.map((dev) => ({ dev, prefs: [1, 10] })), 'filter (prio 1) before the redirect (prio 10) on every veth');
  const tcRecords = journaled(env, scope).filter((o) => o.type === 'tc-filter');
  t.same(tcRecords.map((o) => describe(o)).sort(), devs.map((d) => describe(tcFilterObject(d, hns))).sort(), 'one tc-filter record per veth');
  t.notOk(journaled(env, scope).some((o) => o.type === 'tc-clsact'), "the qdisc is the network's, not the filter's");

  const off = await rec.apply(req('none'));
  t.same(off.timings!.map((x) => x.component), []);
  t.same(await prefs(), devs.map((dev) => ({ dev, prefs: [10] })), 'no prio-1 tc filter remains; the redirect stays');
  t.notOk(journaled(env, scope).some((o) => o.type === 'tc-filter'), 'the tc-filter records are gone from the journal');
  await verdicts(t, cs, false, 'filter none');
  t.same(await rec.check({ scope }), { inSync: true, drifts: [], known: true }, 'the network sees no drift');

  const back = await rec.apply(req('bpf'));
  t.same(back.timings!.map((x) => x.component), ['filter']);
  t.same(await prefs(), devs.map((dev) => ({ dev, prefs: [1, 10] })), 'attached again');
  await verdicts(t, cs, true, 'bpf filter again');
  await rec.teardown({ requestId: 'td', scope });
  t.same(journaled(env, scope), [], 'teardown leaves no journal');
});
