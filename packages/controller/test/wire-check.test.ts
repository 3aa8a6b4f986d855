// The wire check: merging the hosts' captures into a verdict, and a leaking encrypted tunnel
// failing its cell through the controller (fake agents scripted to report the marker in clear).
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Cell } from '@seconet/core';
import { startRedis } from '../../../test/helpers/redis.js';
import { parseControllerConfig } from '../src/config.js';
import { startController } from '../src/controller.js';
import { NO_SECRETS } from '../src/configurator/host-state.js';
import { wireVerdict } from '../src/configurator/wire-check.js';
import { FakeAgent } from './fake-agent.js';

const cell = (tunnel: string): Cell => ({ tunnel } as unknown as Cell);
const capture = (marker: number, name: string, packets = 6): { packets: number; markerPackets: number; encapsulations: Array<{ name: string; packets: number; markerPackets: number }>; device: string; argv: string[]; truncated: boolean } =>
  ({ packets, markerPackets: marker, encapsulations: packets ? [{ name, packets, markerPackets: marker }] : [], device: 'eth0', argv: ['tcpdump'], truncated: false });

t.test('verdicts: leak, encrypted, plaintext, not shown', async (t) => {
  const leak = wireVerdict(cell('ipsec'), new Map([['h1', capture(0, 'ESP-in-UDP 4500')], ['h2', capture(3, 'ESP-in-UDP 4500')]]), []);
  t.match(leak, { encrypted: 'no', claimsEncryption: true, markerInClear: true, leak: true, encapsulation: 'ESP-in-UDP 4500' });
  t.match(leak.evidence, /^ipsec claims encryption but the marker payload crossed the underlay in clear\nh1 eth0: 6 packets, 0 with the marker/);
  t.match(wireVerdict(cell('wireguard'), new Map([['h1', capture(0, 'WireGuard UDP 51820')]]), []), { encrypted: 'yes', leak: false, markerInClear: false });
  t.match(wireVerdict(cell('vxlan'), new Map([['h1', capture(4, 'VXLAN UDP 4789')]]), []), { encrypted: 'no', claimsEncryption: false, leak: false });
  const silent = wireVerdict(cell('tinc'), new Map([['h1', capture(0, '', 0)]]), ['h2: capture on eth0 did not start']);
  t.match(silent, { encrypted: 'unknown', leak: false });
  t.match(silent.evidence, /encryption not shown[\s\S]*capture failed: h2: capture on eth0 did not start/);
});

t.test('an encrypted tunnel that leaks the marker fails its cell; a plaintext one is measured as encrypted: no', { timeout: 120_000 }, async (t) => {
  const fakes = new Map([['h1', new FakeAgent('h1', '198.18.0.1', { wireLeak: true })], ['h2', new FakeAgent('h2', '198.18.0.2', { wireLeak: true })]]);
  const redis = await startRedis(t);
  const dir = mkdtempSync(join(tmpdir(), 'sn-ctl-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const config = parseControllerConfig({
    redis: redis.url,
    store: dir,
    agents: [...fakes.keys()].map((name, i) => ({ name, address: `127.0.0.1:${7000 + i}`, tls: { ca: 'ca.pem', cert: 'c.pem', key: 'k.pem' } })),
    engine: { metricsIntervalMs: 100, cancelPollMs: 50, retryDelayMs: 10 },
    healthIntervalMs: 200,
  }, dir);
  const ctl = await startController(config, { connect: (ep) => fakes.get(ep.name)!, secrets: NO_SECRETS });
  t.teardown(() => ctl.stop());
  const { id } = await ctl.service.submit({ name: 'wire', hosts: ['h1', 'h2'], matrix: { tunnel: ['wireguard', 'vxlan'], containers: [2] }, workloads: [{ 'latency-basic': { duration: 0.5 } }], repetitions: { min: 1, max: 1 } });
  const end = Date.now() + 60_000;
  while (!['succeeded', 'failed'].includes((await ctl.service.get(id)).state) && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  const cells = new Map(ctl.store.reportData(id).cells.map((v) => [v.cell.tunnel, v]));
  const wg = cells.get('wireguard')!;
  t.equal(wg.state, 'invalid', 'the leaking encrypted tunnel is not measured');
  t.match(wg.error, /encryption does not hold: wireguard claims encryption but the marker payload crossed the underlay in clear/);
  t.match(wg.wire, { encrypted: 'no', markerInClear: true, claimsEncryption: true, encapsulation: 'WireGuard UDP 51820' });
  const vx = cells.get('vxlan')!;
  t.equal(vx.state, 'measured', 'a plaintext tunnel is measured');
  t.match(vx.wire, { encrypted: 'no', claimsEncryption: false, encapsulation: 'VXLAN UDP 4789' });
  const html = await ctl.service.report(id);
  t.match(html, /encrypted: no \(LEAKED marker\)/, 'the report shows the leak beside isolation');
});
