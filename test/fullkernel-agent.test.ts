// The agent's own code inside full-kernel guests: the IPsec tunnel driver (kernel variant)
// runs in each guest under Node with the ExecRunner and an on-disk journal, exactly as in the
// agent: charon in a private mount namespace, the xfrm interface, swanctl, the journal, and
// teardown from the journal in a second process. The driver code is bundled once on the
// machine (Node under emulation would spend about a minute compiling TypeScript per start).
// Functional only: emulated guests say nothing about speed.
import t from 'tap';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { containerCidr, generateTunnelSecrets, overlayAddress } from '@seconet/core';
import { bootFullKernelLab, fullKernelLabMissing } from '../packages/agent/src/fullkernel/full-kernel-lab.js';
import { labPrefix } from '../packages/agent/src/lab/topology.js';
import { IPSEC_KERNEL_OVERHEAD, ipsecXfrmDevice } from '../packages/agent/src/tunnels/ipsec.js';
import type { HostEnv } from '../packages/agent/src/host-env.js';
import type { NetworkView } from '../packages/agent/src/driver.js';
import type { TunnelSpec__Output } from '../packages/agent/src/gen/seconet/agent/v1/TunnelSpec.js';
import { link, ping, pingEventually } from './helpers/guest-net.js';
import { requirement } from './helpers/requirements.js';

const missing = fullKernelLabMissing();
const src = (p: string): string => fileURLToPath(new URL(`../packages/agent/src/${p}`, import.meta.url));

/** The guest-side program: `ensure JOB` or `teardown JOB`, printing one JSON line. */
function guestProgram(): string {
  return `
import { readFileSync } from 'node:fs';
import pino from 'pino';
import { ExecRunner } from ${JSON.stringify(src('runner/runner.ts'))};
import { Journal } from ${JSON.stringify(src('journal/file-journal.ts'))};
import { teardownObjects } from ${JSON.stringify(src('journal/undo.ts'))};
import { TUNNEL_DRIVERS } from ${JSON.stringify(src('tunnels/index.ts'))};
import { ensureContainers } from ${JSON.stringify(src('netns/containers.ts'))};
import { ovsDriver } from ${JSON.stringify(src('solutions/ovs.ts'))};
async function main() {
  const [cmd, file] = process.argv.slice(2);
  const job = JSON.parse(readFileSync(file, 'utf8'));
  const runner = new ExecRunner(undefined, job.env.timeScale ?? 1);
  const journals = new Journal(job.env.stateDir);
  journals.load();
  const journal = await journals.open(job.scope);
  const ctx = { env: job.env, runner, journal, log: pino({ level: 'silent' }), scope: job.scope };
  const driver = TUNNEL_DRIVERS.get(job.spec.kind);
  if (cmd === 'ovs') {
    const handles = await ensureContainers(ctx, job.containers, job.mtu, { containerSide: false });
    const { result, view } = await ovsDriver.ensure(ctx, job.view.containerCidr, handles, job.mtu);
    const tunnel = await driver.ensure(ctx, job.spec, view);
    const drift = [...(await ovsDriver.check(ctx, view)), ...(await driver.check(ctx, job.spec, view))];
    await journal.flush();
    console.log(JSON.stringify({ result, tunnel, drift, netns: handles.map((h) => h.netns), bridge: view.bridge }));
  } else if (cmd === 'ensure') {
    const result = await driver.ensure(ctx, job.spec, job.view);
    const drift = await driver.check(ctx, job.spec, job.view);
    await journal.flush();
    console.log(JSON.stringify({ result, drift, objects: journal.objects().length }));
  } else {
    const r = await teardownObjects({ runner, env: job.env, graceMs: 3000 }, journal);
    await journal.flush();
    console.log(JSON.stringify(r));
  }
}
main().then(() => process.exit(0), (e) => { console.error(e && e.stack || String(e)); process.exit(1); });
`;
}

t.test('the agent\'s IPsec driver runs inside stock-kernel guests', { timeout: 600_000 }, async (t) => {
  if (!requirement(t, missing)) return;
  const lab = await bootFullKernelLab({ guests: 2, memoryMiB: 384 });
  t.teardown(() => lab.destroy());
  t.comment(`2 guests booted in ${lab.bootSeconds.toFixed(1)} s: guest deadlines x${lab.timeScale}`);
  const bundle = join(lab.dir, 'guest-driver.cjs');
  const entry = join(lab.dir, 'guest-driver.ts');
  await writeFile(entry, guestProgram());
  await build({ entryPoints: [entry], bundle: true, platform: 'node', format: 'cjs', target: 'node20', outfile: bundle, conditions: ['seconet-source'], logLevel: 'silent', nodePaths: [fileURLToPath(new URL('../node_modules', import.meta.url))] });

  const secrets = generateTunnelSecrets('ipsec', lab.guests.map((g) => g.name));
  const jobs = lab.guests.map((g) => {
    const env: HostEnv = {
      name: g.name, prefix: labPrefix(lab.id, g.index), hostNetns: undefined,
      // Guest tmpfs: charon's vici socket lives in the run directory, and sockets need a local filesystem.
      stateDir: '/run/snagent/state', runDir: '/run/snagent/run', bpffs: '/run/snagent/bpf',
      underlayDev: 'eth0', underlayAddress: g.address, underlayMtu: 1500, timeScale: lab.timeScale,
    };
    const view: NetworkView = { kind: 'routing', containerCidr: containerCidr(g.index), gateway: `198.19.${g.index}.1`, bridge: undefined, ovsdb: undefined, containers: [], mtu: 1500 };
    const spec: TunnelSpec__Output = {
      kind: 'ipsec', variant: 'VARIANT_KERNEL', cipher: '', localAddress: g.address, overlayAddress: `${overlayAddress(g.index)}/24`, port: 0, vni: 0,
      secrets: { privateKey: '', preSharedKey: secrets[g.name]!.preSharedKey },
      peers: lab.guests.filter((p) => p !== g).map((p) => ({ name: p.name, underlayAddress: p.address, overlayAddress: overlayAddress(p.index), routes: [containerCidr(p.index)], publicKey: '', index: p.index })),
    };
    return { g, env, view, spec, file: join(g.share, 'job.json') };
  });
  for (const j of jobs) {
    await writeFile(j.file, JSON.stringify({ env: j.env, view: j.view, spec: j.spec, scope: 'fk' }), { mode: 0o600 });
    await j.g.runner.run(['ip', '-batch', '-'], { stdin: `link add sncnet type dummy\naddr add ${j.view.gateway}/24 dev sncnet\nlink set sncnet up\n` });
  }
  const node = (j: (typeof jobs)[number], cmd: string): Promise<{ stdout: string; stderr: string }> => j.g.runner.run(['node', bundle, cmd, j.file], { timeoutMs: 180_000 });

  const out = await Promise.all(jobs.map((j) => node(j, 'ensure')));
  for (const [i, o] of out.entries()) {
    const r = JSON.parse(o.stdout.trim().split('\n').pop()!) as { result: { variant: string; changed: boolean }; drift: unknown[]; objects: number };
    t.same([r.result.variant, r.result.changed], ['kernel', true], `${jobs[i]!.g.name}: the driver made the kernel variant inside the guest`);
    t.same(r.drift, [], `${jobs[i]!.g.name}: check right after ensure reports no drift`);
    t.ok(r.objects > 0, `${jobs[i]!.g.name}: the on-disk journal lists what the driver made`);
  }
  const [a, b] = jobs as [(typeof jobs)[number], (typeof jobs)[number]];
  const dev = ipsecXfrmDevice(a.env.prefix, 'fk');
  const before = await link(a.g.runner, dev);
  const mtu = 1500 - IPSEC_KERNEL_OVERHEAD;
  t.equal(before?.mtu, mtu, `the xfrm interface ${dev} has the underlay MTU minus the ESP overhead`);
  t.ok(await pingEventually(a.g.runner, overlayAddress(b.g.index), {}, 40_000), 'overlay ping through ESP');
  t.ok(await pingEventually(a.g.runner, b.view.gateway, { src: a.view.gateway }, 40_000), 'container network a -> b through ESP');
  t.ok(await pingEventually(b.g.runner, a.view.gateway, { src: b.view.gateway }, 40_000), 'container network b -> a through ESP');
  // The driver's overhead is right: the largest payload the device MTU allows passes with DF set, one byte more does not.
  t.ok(await ping(a.g.runner, b.view.gateway, { src: a.view.gateway, size: mtu - 28, df: true }), `DF ping of ${mtu - 28} B payload passes`);
  t.notOk(await ping(a.g.runner, b.view.gateway, { src: a.view.gateway, size: mtu - 27, df: true }), 'one byte more does not fit the device MTU');
  const after = await link(a.g.runner, dev);
  t.ok(after !== undefined && before !== undefined && after.tx >= before.tx + 4 && after.rx >= before.rx + 3, `the xfrm interface's counters moved (tx ${before?.tx}->${after?.tx}, rx ${before?.rx}->${after?.rx})`);
  const states = (await a.g.runner.run(['ip', 'xfrm', 'state'])).stdout;
  t.match(states, /proto esp/, 'ESP SAs in the guest kernel');
  t.match(states, /if_id 0x[0-9a-f]+/, 'the SAs are bound to the xfrm interface by if_id');
  t.match(states, /aead rfc4106\(gcm\(aes\)\)/, 'AES-GCM');
  const pids = (await a.g.runner.run(['pgrep', '-x', 'charon'], { okCodes: [0, 1] })).stdout.trim();
  t.match(pids, /^\d+$/, 'one charon runs in the guest, started by the driver');

  const down = await Promise.all(jobs.map((j) => node(j, 'teardown')));
  for (const [i, o] of down.entries()) {
    const r = JSON.parse(o.stdout.trim().split('\n').pop()!) as { removed: string[]; failed: unknown[] };
    t.same(r.failed, [], `${jobs[i]!.g.name}: teardown from the on-disk journal, nothing failed`);
    t.ok(r.removed.length > 0, `${jobs[i]!.g.name}: teardown removed ${r.removed.length} objects`);
  }
  t.equal((await a.g.runner.run(['ip', 'link', 'show', 'dev', dev], { okCodes: [0, 1] })).exitCode, 1, `teardown removed ${dev}`);
  t.equal((await a.g.runner.run(['pgrep', '-x', 'charon'], { okCodes: [0, 1] })).exitCode, 1, 'teardown stopped charon');
  t.notOk(await ping(a.g.runner, b.view.gateway, { src: a.view.gateway }), 'no route to the peer container network after teardown');

  await t.test('the ovs solution picks the kernel datapath inside the guest; containers on two guests talk through it', async (t) => {
    for (const j of jobs) {
      await j.g.runner.run(['ip', 'link', 'del', 'sncnet'], { okCodes: [0, 1] });
      const spec: TunnelSpec__Output = { ...j.spec, kind: 'none', variant: 'VARIANT_UNSPECIFIED', overlayAddress: '', secrets: { privateKey: '', preSharedKey: '' } };
      const containers = [1, 2].map((k) => ({ name: `c${j.g.index}-${k}`, address: `198.19.${j.g.index}.${k + 1}` }));
      const env = { ...j.env, stateDir: '/run/snagent/ovs-state', runDir: '/run/snagent/ovs-run' };
      await writeFile(j.file, JSON.stringify({ env, view: j.view, spec, scope: 'fkovs', containers, mtu: 1500 }), { mode: 0o600 });
    }
    const res = await Promise.all(jobs.map(async (j) => JSON.parse((await node(j, 'ovs')).stdout.trim().split('\n').pop()!) as { result: { variant: string }; tunnel: { variant: string }; drift: unknown[]; netns: string[]; bridge: string }));
    for (const [i, r] of res.entries()) {
      t.equal(r.result.variant, 'kernel', `${jobs[i]!.g.name}: ovs solution chose the kernel datapath`);
      t.same(r.drift, [], `${jobs[i]!.g.name}: no drift after ensure`);
      const dp = (await jobs[i]!.g.runner.run(['ovs-dpctl', 'show'])).stdout;
      t.match(dp, new RegExp(`port \\d+: ${r.bridge} \\(internal\\)`), `${jobs[i]!.g.name}: the scope's bridge is in the kernel datapath`);
    }
    const [ra, rb] = res as [(typeof res)[number], (typeof res)[number]];
    const inNs = async (ns: string, to: string): Promise<boolean> => {
      const deadline = Date.now() + a.g.runner.scaled(30_000);
      while (Date.now() < deadline) {
        const r = await a.g.runner.run(['ping', '-n', '-q', '-c', '1', '-W', '2', to], { netns: ns, okCodes: [0, 1, 2], timeoutMs: 15_000 });
        if (/\b[1-9]\d* received/.test(r.stdout)) return true;
      }
      return false;
    };
    const lookups = async (): Promise<number> => {
      const m = /lookups: hit:(\d+) missed:(\d+)/.exec((await a.g.runner.run(['ovs-dpctl', 'show'])).stdout);
      return m ? Number(m[1]) + Number(m[2]) : -1;
    };
    const lookupsBefore = await lookups();
    t.ok(await inNs(ra.netns[0]!, `198.19.${a.g.index}.3`), 'two containers on one guest talk through the OVS kernel datapath');
    t.ok(await inNs(ra.netns[0]!, `198.19.${b.g.index}.2`), 'a container reaches a container on the other guest (ovs + tunnel none)');
    t.ok(rb.netns.length === 2, 'the other guest has its two containers');
    const lookupsAfter = await lookups();
    t.ok(lookupsBefore >= 0 && lookupsAfter > lookupsBefore, `kernel datapath lookups grew on ${a.g.name} (${lookupsBefore} -> ${lookupsAfter})`);
    const flows = (await a.g.runner.run(['ovs-dpctl', 'dump-flows'])).stdout;
    t.match(flows, /in_port\(\d+\)/, 'flows installed in the kernel datapath');
    const down = await Promise.all(jobs.map((j) => node(j, 'teardown')));
    for (const [i, o] of down.entries()) t.same((JSON.parse(o.stdout.trim().split('\n').pop()!) as { failed: unknown[] }).failed, [], `${jobs[i]!.g.name}: ovs scope torn down from its journal`);
    t.equal((await a.g.runner.run(['ip', 'netns', 'list'])).stdout.includes(ra.netns[0]!), false, 'container namespaces removed');
    t.equal((await a.g.runner.run(['pgrep', '-x', 'ovs-vswitchd'], { okCodes: [0, 1] })).exitCode, 1, 'ovs-vswitchd stopped');
  });
});
