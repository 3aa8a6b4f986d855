// The kernel-only tunnel drivers against a stock Debian kernel: two QEMU guests of the
// full-kernel lab (booted once for every kind), the agent's real drivers driving each guest
// through a GuestRunner (ipip, gre, geneve, WireGuard kernel: probe, ensure, check, ensure
// again, teardown from the journal). Each kind must carry pings between the overlay addresses
// and between the container networks, move the tunnel device's counters, pass a DF ping of the
// largest payload its MTU allows (so the driver's overhead is right), and leave nothing behind.
// IPsec kernel and the OVS kernel datapath are proven by the agent's own code running inside
// the guests (test/fullkernel-agent.test.ts), with the same checks. Functional only: emulated
// guests say nothing about speed.
import t, { type Test } from 'tap';
import pino from 'pino';
import { join } from 'node:path';
import { containerCidr, generateTunnelSecrets, objectName, overlayAddress } from '@seconet/core';
import { bootFullKernelLab, fullKernelLabMissing, type FullKernelGuest, type FullKernelLab } from '../packages/agent/src/fullkernel/full-kernel-lab.js';
import type { GuestRunner } from '../packages/agent/src/fullkernel/guest-runner.js';
import { labPrefix } from '../packages/agent/src/lab/topology.js';
import { MemoryJournal } from '../packages/agent/src/journal/memory-journal.js';
import { teardownObjects } from '../packages/agent/src/journal/undo.js';
import { TUNNEL_DRIVERS, resetProbeCache } from '../packages/agent/src/tunnels/index.js';
import { wireguardDevice } from '../packages/agent/src/tunnels/wireguard.js';
import type { DriverContext, NetworkView } from '../packages/agent/src/driver.js';
import type { HostEnv } from '../packages/agent/src/host-env.js';
import type { TunnelSpec__Output } from '../packages/agent/src/gen/seconet/agent/v1/TunnelSpec.js';
import { link, ping, pingEventually } from './helpers/guest-net.js';
import { requirement } from './helpers/requirements.js';

const log = pino({ level: 'silent' });
const missing = fullKernelLabMissing();

interface Rig {
  readonly g: FullKernelGuest;
  readonly r: GuestRunner;
  readonly env: HostEnv;
  readonly gw: string;
  readonly view: NetworkView;
}

function envFor(lab: FullKernelLab, g: FullKernelGuest, kind: string): HostEnv {
  return {
    name: g.name,
    prefix: labPrefix(lab.id, g.index),
    hostNetns: undefined,
    stateDir: join(g.share, kind, 'state'),
    runDir: join(g.share, kind, 'run'),
    bpffs: join(g.share, kind, 'bpf'),
    underlayDev: 'eth0',
    timeScale: lab.timeScale,
    underlayAddress: g.address,
    underlayMtu: 1500,
  };
}

function specFor(rigs: readonly Rig[], kind: string, i: number, secrets: Record<string, { privateKey: string; publicKey: string; preSharedKey: string }>): TunnelSpec__Output {
  const me = rigs[i]!.g;
  return {
    kind,
    variant: 'VARIANT_KERNEL',
    cipher: '',
    localAddress: me.address,
    overlayAddress: `${overlayAddress(me.index)}/24`,
    peers: rigs.filter((_, j) => j !== i).map(({ g }) => ({
      name: g.name, underlayAddress: g.address, overlayAddress: overlayAddress(g.index), routes: [containerCidr(g.index)], publicKey: secrets[g.name]?.publicKey ?? '', index: g.index,
    })),
    secrets: { privateKey: secrets[me.name]?.privateKey ?? '', preSharedKey: secrets[me.name]?.preSharedKey ?? '' },
    port: 0,
    vni: 0,
  };
}

async function routeDevs(r: GuestRunner): Promise<Map<string, string>> {
  const res = await r.run(['ip', '-j', 'route', 'show']);
  return new Map((JSON.parse(res.stdout) as Array<{ dst: string; dev: string }>).map((x) => [x.dst, x.dev]));
}

t.test('kernel-only tunnels on a stock kernel in QEMU guests', { timeout: 600_000 }, async (t) => {
  if (!requirement(t, missing)) return;
  const lab = await bootFullKernelLab({ guests: 2 });
  t.teardown(() => lab.destroy());
  t.comment(`2 guests booted in ${lab.bootSeconds.toFixed(1)} s on ${lab.kernel.release}: guest deadlines x${lab.timeScale}`);
  for (const g of lab.guests) t.equal(g.release, lab.kernel.release, `${g.name} runs the stock kernel`);

  // A dummy device per guest stands in for its container network (198.19.i.1/24).
  const rigs: Rig[] = [];
  for (const g of lab.guests) {
    const gw = `198.19.${g.index}.1`;
    await g.runner.run(['ip', '-batch', '-'], { stdin: `link add sncnet type dummy\naddr add ${gw}/24 dev sncnet\nlink set sncnet up\n` });
    const view: NetworkView = { kind: 'routing', containerCidr: containerCidr(g.index), gateway: gw, bridge: undefined, ovsdb: undefined, containers: [], mtu: 1500 };
    rigs.push({ g, r: g.runner, env: envFor(lab, g, 'x'), gw, view });
  }
  const [a, b] = rigs as [Rig, Rig];
  t.ok(await pingEventually(a.r, b.g.address), 'the guests reach each other on the underlay segment');

  /** The checks every kind must pass once both ends are up. */
  async function traffic(t: Test, kind: string, dev: (x: Rig) => string, mtu: number): Promise<void> {
    const before = await link(a.r, dev(a));
    t.ok(before, `${kind}: device ${dev(a)} exists on ${a.g.name}`);
    t.equal(before?.mtu, mtu, `${kind}: device MTU is underlay minus overhead`);
    t.ok(await pingEventually(a.r, overlayAddress(b.g.index)), `${kind}: ${a.g.name} pings ${b.g.name}'s overlay address`);
    t.ok(await pingEventually(a.r, b.gw, { src: a.gw }), `${kind}: container network ${a.g.name} -> ${b.g.name}`);
    t.ok(await pingEventually(b.r, a.gw, { src: b.gw }), `${kind}: container network ${b.g.name} -> ${a.g.name}`);
    t.ok(await ping(a.r, b.gw, { src: a.gw, size: mtu - 28, df: true }), `${kind}: DF ping of ${mtu - 28} B payload passes`);
    t.notOk(await ping(a.r, b.gw, { src: a.gw, size: mtu - 27, df: true }), `${kind}: one byte more does not fit the device MTU`);
    const after = await link(a.r, dev(a));
    t.ok(after && before && after.tx >= before.tx + 4 && after.rx >= before.rx + 3, `${kind}: tunnel device counters moved (tx ${before?.tx}->${after?.tx}, rx ${before?.rx}->${after?.rx})`);
    const routes = await routeDevs(a.r);
    t.equal(routes.get(containerCidr(b.g.index)), dev(a), `${kind}: ${b.g.name}'s container network is routed through ${dev(a)}`);
  }

  const driverKinds: Array<{ kind: string; dev: (x: Rig, kindEnv: HostEnv) => string; overhead: number }> = [
    { kind: 'ipip', dev: (_x, env) => objectName(env.prefix, 'p', ['fk', 'ipip', _x === a ? b.g.name : a.g.name]), overhead: 20 },
    { kind: 'gre', dev: (_x, env) => objectName(env.prefix, 'g', ['fk', 'gre', _x === a ? b.g.name : a.g.name]), overhead: 28 },
    { kind: 'geneve', dev: (_x, env) => objectName(env.prefix, 'g', ['fk', 'geneve', _x === a ? b.g.name : a.g.name]), overhead: 50 },
    { kind: 'wireguard', dev: (_x, env) => wireguardDevice(env.prefix, 'fk'), overhead: 60 },
  ];

  for (const k of driverKinds) {
    await t.test(`${k.kind}: the agent's driver against the guest kernel`, async (t) => {
      resetProbeCache();
      const driver = TUNNEL_DRIVERS.get(k.kind)!;
      const secrets = k.kind === 'wireguard' ? generateTunnelSecrets('wireguard', rigs.map((x) => x.g.name)) : {};
      const hosts = rigs.map((x, i) => {
        const env = envFor(lab, x.g, k.kind);
        const ctx: DriverContext = { env, runner: x.r, journal: new MemoryJournal('fk'), log, scope: 'fk' };
        return { x, env, ctx, spec: specFor(rigs, k.kind, i, secrets) };
      });
      const undo = async (): Promise<void> => {
        for (const h of hosts) await teardownObjects({ runner: h.x.r, env: h.env, graceMs: 1000 }, h.ctx.journal);
      };
      t.teardown(undo);
      const probe = await driver.probe(hosts[0]!.ctx);
      const kernel = probe.find((p) => p.variant === 'kernel');
      t.equal(kernel?.available, true, `${k.kind}: the probe finds the kernel variant in the guest (${kernel?.reason || kernel?.version})`);
      for (const h of hosts) {
        const res = await driver.ensure(h.ctx, h.spec, h.x.view);
        t.same([res.variant, res.changed], ['kernel', true], `${k.kind}: ensure on ${h.x.g.name} made the kernel variant`);
      }
      await traffic(t, k.kind, (x) => k.dev(x, hosts[rigs.indexOf(x)]!.env), 1500 - k.overhead);
      for (const h of hosts) {
        t.same(await driver.check(h.ctx, h.spec, h.x.view), [], `${k.kind}: check on ${h.x.g.name} reports no drift`);
        t.equal((await driver.ensure(h.ctx, h.spec, h.x.view)).changed, false, `${k.kind}: ensure again on ${h.x.g.name} is a no-op`);
      }
      const dev = k.dev(a, hosts[0]!.env);
      await undo();
      t.equal(await link(a.r, dev), undefined, `${k.kind}: teardown removed ${dev}`);
      t.notOk((await routeDevs(a.r)).has(containerCidr(b.g.index)), `${k.kind}: teardown removed the peer route`);
    });
  }
});
