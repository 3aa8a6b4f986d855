// The kernel-only tunnel drivers against a stock Debian kernel: two QEMU guests of the
// full-kernel lab (booted once for every kind), the agent's real drivers driving each guest
// through a GuestRunner (ipip, gre, geneve, WireGuard kernel: probe, ensure, check, ensure
// again, teardown from the journal), and IPsec kernel with the driver's own commands and
// strongSwan configuration replayed in the guests (charon runs in each guest). Each kind must
// carry pings between the overlay addresses and between the container networks, move the
// tunnel device's counters, pass a DF ping of the largest payload its MTU allows (so the
// driver's overhead is right), and leave nothing behind. Functional only: emulated guests
// say nothing about speed.
import t, { type Test } from 'tap';
import pino from 'pino';
import { join } from 'node:path';
import { containerCidr, generateTunnelSecrets, objectName, overlayAddress } from '@seconet/core';
import { bootFullKernelLab, fullKernelLabMissing, type FullKernelGuest, type FullKernelLab } from '../packages/agent/src/fullkernel/full-kernel-lab.js';
import type { GuestRunner } from '../packages/agent/src/fullkernel/guest-runner.js';
import { labPrefix } from '../packages/agent/src/lab/topology.js';
import { scopeDirName } from '../packages/agent/src/names.js';
import { MemoryJournal } from '../packages/agent/src/journal/memory-journal.js';
import { teardownObjects } from '../packages/agent/src/journal/undo.js';
import { FakeRunner } from '@seconet/agent/testing';
import { TUNNEL_DRIVERS, resetProbeCache } from '../packages/agent/src/tunnels/index.js';
import { wireguardDevice } from '../packages/agent/src/tunnels/wireguard.js';
import { IPSEC_KERNEL_OVERHEAD, ipsecXfrmDevice } from '../packages/agent/src/tunnels/ipsec.js';
import { VSWITCH_SCHEMA, listPorts, ovsEnv, ovsPaths, vsctl } from '../packages/agent/src/ovs/switch.js';
import { bridgeTransaction, ovsBridgeName } from '../packages/agent/src/solutions/ovs.js';
import type { DriverContext, NetworkView } from '../packages/agent/src/driver.js';
import type { HostEnv } from '../packages/agent/src/host-env.js';
import type { TunnelSpec__Output } from '../packages/agent/src/gen/seconet/agent/v1/TunnelSpec.js';
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

async function ping(r: GuestRunner, to: string, o: { src?: string; size?: number; df?: boolean } = {}): Promise<boolean> {
  const argv = ['ping', '-n', '-q', '-c', '1', '-W', '2'];
  if (o.size !== undefined) argv.push('-s', String(o.size));
  if (o.df) argv.push('-M', 'do');
  if (o.src) argv.push('-I', o.src);
  argv.push(to);
  const res = await r.run(argv, { okCodes: [0, 1, 2], timeoutMs: 15_000 });
  return /\b[1-9]\d* received/.test(res.stdout);
}

async function pingEventually(r: GuestRunner, to: string, o: { src?: string } = {}, timeoutMs = 30_000): Promise<boolean> {
  const deadline = Date.now() + r.scaled(timeoutMs);
  while (Date.now() < deadline) if (await ping(r, to, o)) return true;
  return false;
}

async function link(r: GuestRunner, dev: string): Promise<{ mtu: number; tx: number; rx: number } | undefined> {
  const res = await r.run(['ip', '-s', '-j', 'link', 'show', 'dev', dev], { okCodes: [0, 1] });
  if (res.exitCode !== 0) return undefined;
  const l = (JSON.parse(res.stdout) as Array<{ mtu: number; stats64: { tx: { packets: number }; rx: { packets: number } } }>)[0]!;
  return { mtu: l.mtu, tx: l.stats64.tx.packets, rx: l.stats64.rx.packets };
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

  await t.test('ipsec kernel: the driver\'s commands and strongSwan configuration, ESP in the guest kernel', async (t) => {
    resetProbeCache();
    const driver = TUNNEL_DRIVERS.get('ipsec')!;
    const secrets = generateTunnelSecrets('ipsec', rigs.map((x) => x.g.name));
    const charons: Array<{ r: GuestRunner; pid: number }> = [];
    const hosts: Array<{ x: Rig; env: HostEnv; journal: MemoryJournal }> = [];
    t.teardown(async () => {
      for (const c of charons) await c.r.stop(c.pid, 2000).catch(() => undefined);
      for (const h of hosts) await teardownObjects({ runner: h.x.r, env: h.env, graceMs: 1000 }, h.journal);
    });
    for (const [i, x] of rigs.entries()) {
      const env = envFor(lab, x.g, 'ipsec');
      const rec = new FakeRunner();
      const journal = new MemoryJournal('fk');
      hosts.push({ x, env, journal });
      const spec = specFor(rigs, 'ipsec', i, secrets);
      const res = await driver.ensure({ env, runner: rec, journal, log, scope: 'fk' }, spec, x.view);
      t.equal(res.variant, 'kernel', `ipsec: the driver chose the kernel variant for ${x.g.name}`);
      // The driver's charon runs in a private mount namespace with its run directory as /run;
      // the guest is single-tenant, so its own /run (tmpfs) plays that part.
      const runRoot = join(env.runDir, scopeDirName(env.prefix, 'fk'), 'ipsec', 'run');
      await x.r.run(['cp', join(runRoot, 'strongswan.conf'), '/run/strongswan.conf']);
      const replay = rec.calls.filter((c) => !c.spawned && (c.argv[0] === 'swanctl' ? c.argv[1] === '--load-all' : c.argv[0] === 'ip' && !['-n', '-d', '-j', 'netns'].includes(c.argv[1] ?? '')));
      t.ok(replay.some((c) => c.argv.includes('xfrm')), `ipsec: the driver adds an xfrm interface on ${x.g.name}`);
      for (const c of replay.filter((c) => c.argv[0] === 'ip')) await x.r.run(c.argv, c.stdin !== undefined ? { stdin: c.stdin } : {});
      const pid = await x.r.start(['/usr/lib/ipsec/charon'], { env: { STRONGSWAN_CONF: '/run/strongswan.conf' }, logFile: '/run/charon.log' });
      charons.push({ r: x.r, pid });
      let up = false;
      for (let k = 0; k < 100 && !up; k++) up = (await x.r.run(['test', '-S', '/run/charon.vici'], { okCodes: [0, 1] })).exitCode === 0;
      t.ok(up, `ipsec: charon opened its vici socket on ${x.g.name}`);
      for (const c of replay.filter((c) => c.argv[0] === 'swanctl')) {
        const argv = c.argv.map((w) => (w.startsWith('unix://') ? 'unix:///run/charon.vici' : w));
        await x.r.run(argv, { secrets: [spec.secrets!.preSharedKey], timeoutMs: 30_000 });
      }
    }
    const dev = (x: Rig): string => ipsecXfrmDevice(hosts[rigs.indexOf(x)]!.env.prefix, 'fk');
    try {
      await traffic(t, 'ipsec', dev, 1500 - IPSEC_KERNEL_OVERHEAD);
    } finally {
      const clog = await a.r.run(['tail', '-n', '15', '/run/charon.log'], { okCodes: [0, 1] }).catch(() => undefined);
      if (t.counts.fail > 0) t.comment(`charon log on ${a.g.name}:\n${clog?.stdout ?? ''}`);
    }
    const states = await a.r.run(['ip', 'xfrm', 'state']);
    t.match(states.stdout, /proto esp/, 'ipsec: ESP SAs are installed in the guest kernel');
    t.match(states.stdout, /if_id 0x[0-9a-f]+/, 'ipsec: the SAs are bound to the xfrm interface by if_id');
    t.match(states.stdout, /aead rfc4106\(gcm\(aes\)\)/, 'ipsec: ESP uses the driver\'s AES-GCM proposal');
  });
  await t.test('ovs kernel datapath: the ovs solution\'s switch layout on datapath_type=system', async (t) => {
    // The solution's daemons, bridge transaction and gateway layout, with the kernel datapath
    // the lab machine lacks; cross-guest traffic is routed over the underlay (tunnel "none").
    const stops: Array<() => Promise<void>> = [];
    t.teardown(async () => {
      for (const s of stops.reverse()) await s().catch(() => undefined);
    });
    const sw: Array<{ x: Rig; br: string; cns: string; caddr: string }> = [];
    for (const x of rigs) {
      const prefix = labPrefix(lab.id, x.g.index);
      const p = ovsPaths({ runDir: '/run/snovs', prefix }, 'fk');
      const env = ovsEnv(p);
      await x.r.run(['mkdir', '-p', p.run, p.db, p.log]);
      await x.r.run(['ovsdb-tool', 'create', p.dbFile, VSWITCH_SCHEMA], { env });
      const db = await x.r.start(['ovsdb-server', p.dbFile, `--remote=punix:${p.dbSocket}`, `--pidfile=${p.run}/ovsdb-server.pid`, `--unixctl=${p.run}/ovsdb-server.ctl`, `--log-file=${p.log}/ovsdb-server.log`, '--overwrite-pidfile', '-vconsole:off'], { env });
      stops.push(() => x.r.stop(db));
      let ok = false;
      for (let k = 0; k < 60 && !ok; k++) ok = await vsctl(x.r, p, ['--no-wait', 'init'], { timeoutMs: 5000 }).then(() => true, () => false);
      t.ok(ok, `ovsdb-server answers on ${x.g.name}`);
      const vs = await x.r.start(['ovs-vswitchd', `unix:${p.dbSocket}`, `--pidfile=${p.run}/ovs-vswitchd.pid`, `--unixctl=${p.run}/ovs-vswitchd.ctl`, `--log-file=${p.log}/ovs-vswitchd.log`, '--overwrite-pidfile', '-vconsole:off'], { env });
      stops.push(() => x.r.stop(vs));
      const br = ovsBridgeName(prefix, 'fk');
      const port = `${prefix}vfk`;
      const cns = `${prefix}cfk`;
      const caddr = `198.19.${x.g.index}.2`;
      const gw = `198.19.${x.g.index}.1`;
      // The dummy container network of the tunnel tests gives way to the bridge's gateway.
      await x.r.run(['ip', 'link', 'del', 'sncnet'], { okCodes: [0, 1] });
      await x.r.run(['ip', 'netns', 'add', cns]);
      stops.push(async () => void (await x.r.run(['ip', 'netns', 'del', cns], { okCodes: [0, 1] })));
      await x.r.run(['ip', '-batch', '-'], { stdin: `link add ${port} type veth peer name eth0 netns ${cns}\nlink set ${port} up\n` });
      await vsctl(x.r, p, bridgeTransaction(prefix, br, [port], [], 'system'), { timeoutMs: 30_000 });
      stops.push(async () => void (await vsctl(x.r, p, ['--if-exists', 'del-br', br], { timeoutMs: 10_000 })));
      await x.r.run(['ip', '-batch', '-'], { stdin: `link set dev ${br} up\naddr replace ${gw}/24 dev ${br}\n` + rigs.filter((y) => y !== x).map((y) => `route replace ${containerCidr(y.g.index)} via ${y.g.address} dev eth0\n`).join('') });
      await x.r.run(['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']);
      await x.r.run(['ip', '-n', cns, '-batch', '-'], { stdin: `link set lo up\nlink set eth0 up\naddr add ${caddr}/24 dev eth0\nroute add default via ${gw}\n` });
      t.same(await listPorts(x.r, p, br), [port], `the container's veth is the bridge's only port on ${x.g.name}`);
      const dp = await x.r.run(['ovs-dpctl', 'show']);
      t.match(dp.stdout, /system@ovs-system/, `the bridge runs on the kernel datapath on ${x.g.name}`);
      t.match(dp.stdout, new RegExp(`port \\d+: ${port}\\b`), `the container port sits in the kernel datapath on ${x.g.name}`);
      sw.push({ x, br, cns, caddr });
    }
    const [sa, sb] = sw as [typeof sw[0], typeof sw[0]];
    const lookups = async (r: GuestRunner): Promise<number> => {
      const m = /lookups: hit:(\d+) missed:(\d+)/.exec((await r.run(['ovs-dpctl', 'show'])).stdout);
      return m ? Number(m[1]) + Number(m[2]) : -1;
    };
    const before = await lookups(a.r);
    let reached = false;
    const deadline = Date.now() + a.r.scaled(30_000);
    while (!reached && Date.now() < deadline) {
      const res = await a.r.run(['ping', '-n', '-q', '-c', '1', '-W', '2', sb.caddr], { netns: sa.cns, okCodes: [0, 1, 2], timeoutMs: 15_000 });
      reached = /\b[1-9]\d* received/.test(res.stdout);
    }
    t.ok(reached, `container on ${a.g.name} reaches the container on ${b.g.name} through both kernel datapaths`);
    const after = await lookups(a.r);
    t.ok(before >= 0 && after > before, `kernel datapath lookups grew on ${a.g.name} (${before} -> ${after})`);
    const flows = await a.r.run(['ovs-dpctl', 'dump-flows']);
    t.match(flows.stdout, /in_port\(\d+\)/, 'flows are installed in the kernel datapath');
  });
});
