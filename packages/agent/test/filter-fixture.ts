// Shared scenario of the real filter tests: one lab host with four containers (c1..c4) on a
// network solution; the filter guards the container network and allows only c1 <-> c2. Checks
// verdicts in both directions, the same verdicts with 1000 extra rules, that an unchanged
// ensure changes nothing in the kernel (`snapshot` before and after), and that undoing the
// filter's journal leaves none of its objects (`remains`), while the network keeps working.

import type { Test } from 'tap';
import type { DriverContext, FilterDriver, NetworkView } from '../src/driver.js';
import type { FilterSpec__Output } from '../src/gen/seconet/agent/v1/FilterSpec.js';
import { MemoryJournal } from '../src/journal/memory-journal.js';
import { teardownObjects } from '../src/journal/undo.js';
import type { Runner } from '../src/runner/runner.js';
import { ping, setupLab, silentLogger } from './helpers/two-hosts.js';


export interface ScenarioHooks {
  /** Kernel state of the filter, compared before and after an unchanged ensure. */
  snapshot(ctx: DriverContext, view: NetworkView): Promise<string>;
  /** Whether any object of the filter is still in the kernel / on disk. */
  remains(ctx: DriverContext, view: NetworkView): Promise<boolean>;
  /** The filter's objects live on the network's own objects (OVS flows on the bridge): undo the whole scope. */
  undoWithNetwork?: boolean;
  /** A netfilter filter: on a bridge it depends on bridge-nf-call-iptables, which check must watch. */
  bridgeNetfilter?: boolean;
}

async function verdicts(t: Test, runner: Runner, view: NetworkView, label: string): Promise<void> {
  const [c1, c2, c3, c4] = view.containers;
  const ok = (a: typeof c1, b: typeof c1): Promise<boolean> => ping(runner, a!.netns, b!.spec.address, { count: 2, timeoutS: 1 });
  t.ok(await ok(c1, c2), `${label}: allowed c1 -> c2 passes`);
  t.ok(await ok(c2, c1), `${label}: allowed c2 -> c1 passes`);
  t.notOk(await ok(c3, c4), `${label}: denied c3 -> c4 is dropped`);
  t.notOk(await ok(c4, c3), `${label}: denied c4 -> c3 is dropped`);
  t.notOk(await ok(c1, c3), `${label}: c1 -> c3 (not in the allow-list) is dropped`);
}

export async function filterScenario(t: Test, driver: FilterDriver, network: string, hooks: ScenarioHooks): Promise<void> {
  const lab = await setupLab({ hosts: 1, containers: 4, network, scope: 'flt' });
  t.teardown(lab.cleanup);
  const h = lab.hosts[0]!;
  const view = h.view!;
  const [c1, c2, c3, c4] = view.containers;
  t.ok(await ping(lab.runner, c3!.netns, c4!.spec.address), 'before the filter c3 reaches c4');
  const fj = new MemoryJournal('flt');
  const ctx: DriverContext = { ...h.context('flt', fj), log: silentLogger() };
  const spec = (extraRules: number): FilterSpec__Output => ({
    kind: driver.kind,
    guarded: [h.cidr],
    allow: [{ src: c1!.spec.address, dst: c2!.spec.address }],
    extraRules,
    ruleMatch: '',
  });

  const r0 = await driver.ensure(ctx, spec(0), view);
  t.equal(r0.changed, true, 'first ensure changes the kernel');
  await verdicts(t, lab.runner, view, `${driver.kind}/${network}, 0 extra rules`);
  t.same(await driver.check(ctx, spec(0), view), [], 'check finds no drift');

  const r1 = await driver.ensure(ctx, spec(1000), view);
  t.equal(r1.changed, true, 'a changed spec is loaded');
  await verdicts(t, lab.runner, view, `${driver.kind}/${network}, 1000 extra rules`);
  t.not((await driver.check(ctx, spec(0), view)).length, 0, 'check against the old spec reports drift');

  const before = await hooks.snapshot(ctx, view);
  const r2 = await driver.ensure(ctx, spec(1000), view);
  t.equal(r2.changed, false, 'ensure twice is a no-op');
  t.equal(await hooks.snapshot(ctx, view), before, 'kernel state unchanged by the second ensure');
  t.same(await driver.check(ctx, spec(1000), view), []);

  if (hooks.bridgeNetfilter && network === 'bridge') {
    const key = 'net.bridge.bridge-nf-call-iptables';
    await lab.runner.run(['sysctl', '-q', '-w', `${key}=0`], { netns: h.env.hostNetns });
    t.ok(await ping(lab.runner, c3!.netns, c4!.spec.address), 'without bridge-nf-call-iptables bridged traffic bypasses netfilter');
    t.match(await driver.check(ctx, spec(1000), view), [{ object: `sysctl ${key}`, expected: '1', observed: '0' }], 'check reports the sysctl');
    t.equal((await driver.ensure(ctx, spec(1000), view)).changed, true, 'ensure restores it');
    t.notOk(await ping(lab.runner, c3!.netns, c4!.spec.address, { count: 2, timeoutS: 1 }), 'denied c3 -> c4 is dropped again');
  }

  t.ok(await hooks.remains(ctx, view), 'filter objects exist before undo');
  const deps = { runner: lab.runner, env: h.env, graceMs: 500 };
  const undo = await teardownObjects(deps, fj);
  t.same(undo.failed, [], 'every filter object removed');
  if (hooks.undoWithNetwork) {
    t.same((await teardownObjects(deps, h.journal)).failed, [], 'every object of the scope removed');
    t.notOk(await hooks.remains(ctx, view), 'nothing of the filter remains after undo');
    return;
  }
  t.notOk(await hooks.remains(ctx, view), 'nothing of the filter remains after undo');
  t.ok(await ping(lab.runner, c3!.netns, c4!.spec.address), 'after undo c3 reaches c4 again');
}

/**
 * Two lab hosts, two containers each, container networks routed over the underlay; the filter
 * runs on both hosts, guards both networks and allows only h1/c1 <-> h2/c1.
 */
export async function crossHostScenario(t: Test, driver: FilterDriver, network: string): Promise<void> {
  const lab = await setupLab({ hosts: 2, containers: 2, network, scope: 'fx', underlayRoutes: true });
  t.teardown(lab.cleanup);
  const [h1, h2] = lab.hosts;
  const a1 = h1!.view!.containers[0]!;
  const a2 = h1!.view!.containers[1]!;
  const b1 = h2!.view!.containers[0]!;
  const b2 = h2!.view!.containers[1]!;
  t.ok(await ping(lab.runner, a2.netns, b2.spec.address), 'before the filter h1/c2 reaches h2/c2');
  const spec: FilterSpec__Output = { kind: driver.kind, guarded: [h1!.cidr, h2!.cidr], allow: [{ src: a1.spec.address, dst: b1.spec.address }], extraRules: 100, ruleMatch: '' };
  for (const h of [h1!, h2!]) t.equal((await driver.ensure(h.ctx, spec, h.view!)).changed, true, `filter loaded on ${h.host.name}`);
  const p = (a: typeof a1, b: typeof a1): Promise<boolean> => ping(lab.runner, a.netns, b.spec.address, { count: 2, timeoutS: 1 });
  t.ok(await p(a1, b1), 'allowed h1/c1 -> h2/c1 passes');
  t.ok(await p(b1, a1), 'allowed h2/c1 -> h1/c1 passes');
  t.notOk(await p(a2, b2), 'denied h1/c2 -> h2/c2 is dropped');
  t.notOk(await p(b2, a2), 'denied h2/c2 -> h1/c2 is dropped');
  t.notOk(await p(a1, b2), 'h1/c1 -> h2/c2 (not in the allow-list) is dropped');
  t.ok(await ping(lab.runner, a2.netns, h2!.host.underlayAddress), 'unguarded traffic (to the underlay) is untouched');
}
