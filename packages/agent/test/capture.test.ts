// The underlay capture: pcap parsing and classification on hand-built frames, then a real
// tcpdump on a lab host's underlay device while a container pings with a marker pattern.
import t from 'tap';
import { createCaptureManager, analyzeCapture, encapsulationOf, parsePcap } from '../src/capture/index.js';
import { setupLab, silentLogger } from './helpers/two-hosts.js';

const isRoot = process.getuid?.() === 0;

const MARKER = Buffer.from('736e2d6d61726b65722d746573742121', 'hex');

function ipv4(proto: number, src: string, dst: string, l4: Buffer): Buffer {
  const h = Buffer.alloc(20);
  h[0] = 0x45;
  h.writeUInt16BE(20 + l4.length, 2);
  h[8] = 64;
  h[9] = proto;
  src.split('.').forEach((b, i) => (h[12 + i] = Number(b)));
  dst.split('.').forEach((b, i) => (h[16 + i] = Number(b)));
  return Buffer.concat([h, l4]);
}

function udp(sport: number, dport: number, payload: Buffer): Buffer {
  const u = Buffer.alloc(8);
  u.writeUInt16BE(sport, 0);
  u.writeUInt16BE(dport, 2);
  u.writeUInt16BE(8 + payload.length, 4);
  return Buffer.concat([u, payload]);
}

function ether(ip: Buffer): Buffer {
  const e = Buffer.alloc(14);
  e.writeUInt16BE(0x0800, 12);
  return Buffer.concat([e, ip]);
}

function pcap(frames: readonly Buffer[]): Buffer {
  const g = Buffer.alloc(24);
  g.writeUInt32LE(0xa1b2c3d4, 0);
  g.writeUInt16LE(2, 4);
  g.writeUInt16LE(4, 6);
  g.writeUInt32LE(65535, 16);
  g.writeUInt32LE(1, 20);
  const parts: Buffer[] = [g];
  for (const f of frames) {
    const r = Buffer.alloc(16);
    r.writeUInt32LE(f.length, 8);
    r.writeUInt32LE(f.length, 12);
    parts.push(r, f);
  }
  return Buffer.concat(parts);
}

const A = '198.18.0.1';
const B = '198.18.0.2';

t.test('classification: each tunnel transport by protocol and port', async (t) => {
  const esp = ipv4(50, A, B, Buffer.alloc(40, 7));
  t.equal(encapsulationOf(esp), 'ESP');
  t.equal(encapsulationOf(ipv4(17, A, B, udp(4500, 4500, Buffer.alloc(40)))), 'ESP-in-UDP 4500');
  t.equal(encapsulationOf(ipv4(17, A, B, udp(40000, 51820, Buffer.alloc(40)))), 'WireGuard UDP 51820');
  t.equal(encapsulationOf(ipv4(17, A, B, udp(51000, 4789, Buffer.alloc(40)))), 'VXLAN UDP 4789');
  t.equal(encapsulationOf(ipv4(17, A, B, udp(1195, 1195, Buffer.alloc(40)))), 'OpenVPN UDP 1195');
  t.equal(encapsulationOf(ipv4(17, A, B, udp(655, 655, Buffer.alloc(40)))), 'Tinc UDP 655');
  t.equal(encapsulationOf(ipv4(47, A, B, Buffer.alloc(40))), 'GRE');
  t.equal(encapsulationOf(ipv4(1, A, B, Buffer.alloc(40))), 'plain ICMP');
  t.equal(encapsulationOf(ipv4(17, A, B, udp(33333, 12345, Buffer.alloc(4)))), 'UDP 12345', 'an unknown port is named, not guessed');
});

t.test('analysis: a VXLAN frame leaks the marker, a WireGuard one does not; other hosts are left out', async (t) => {
  const inner = ether(ipv4(1, '198.19.1.2', '198.19.2.2', Buffer.concat([Buffer.alloc(8), MARKER, MARKER])));
  const vxlan = ether(ipv4(17, A, B, udp(50000, 4789, Buffer.concat([Buffer.alloc(8), inner]))));
  const wg = ether(ipv4(17, A, B, udp(51820, 51820, Buffer.alloc(80, 0x5a))));
  const stranger = ether(ipv4(6, A, '198.18.0.9', Buffer.alloc(20)));
  const arp = Buffer.concat([Buffer.alloc(12), Buffer.from([0x08, 0x06]), Buffer.alloc(28)]);
  const packets = parsePcap(pcap([vxlan, wg, wg, stranger, arp]));
  t.equal(packets.length, 5);
  const a = analyzeCapture(packets, MARKER, [B], A);
  t.equal(a.packets, 5);
  t.equal(a.markerPackets, 1, 'the marker is found inside the VXLAN payload');
  t.same(a.encapsulations, [
    { name: 'WireGuard UDP 51820', packets: 2, markerPackets: 0 },
    { name: 'VXLAN UDP 4789', packets: 1, markerPackets: 1 },
  ]);
  const routed = ether(ipv4(1, '198.19.1.2', '198.19.2.2', Buffer.concat([Buffer.alloc(8), MARKER])));
  t.same(analyzeCapture(parsePcap(pcap([routed])), MARKER, [B], A).encapsulations, [{ name: 'plain ICMP', packets: 1, markerPackets: 1 }], 'routed container traffic counts');
  t.throws(() => parsePcap(Buffer.alloc(40, 1)), /not a pcap file/);
  t.same(parsePcap(pcap([vxlan]).subarray(0, 50)), [], 'a record cut short is not read');
});

t.test('a real capture on a lab host underlay sees a marker ping in clear', { skip: isRoot ? false : 'needs root for network namespaces', timeout: 60_000 }, async (t) => {
  const lab = await setupLab({ hosts: 2, containers: 1, network: 'bridge', underlayRoutes: true });
  t.teardown(lab.cleanup);
  const [h1, h2] = lab.hosts as [NonNullable<(typeof lab.hosts)[0]>, NonNullable<(typeof lab.hosts)[1]>];
  const m = createCaptureManager({ env: h1.env, runner: lab.runner, log: silentLogger() });
  t.teardown(() => m.close());
  await t.rejects(m.start({ requestId: 'r0', scope: 'test', marker: Buffer.alloc(2), peers: [], maxDurationMs: 0 }), { code: 'INVALID_ARGUMENT', field: 'marker' });
  await t.rejects(m.start({ requestId: 'r0', scope: 'test', marker: MARKER, peers: ['not-an-ip'], maxDurationMs: 0 }), { code: 'INVALID_ARGUMENT', field: 'peers[0]' });
  const started = await m.start({ requestId: 'r1', scope: 'test', marker: MARKER, peers: [h2.host.underlayAddress], maxDurationMs: 20_000 });
  t.equal(started.device, h1.host.underlayDev);
  t.equal(started.netns, h1.host.netns);
  await lab.runner.run(['ping', '-n', '-c', '3', '-i', '0.2', '-W', '1', '-p', MARKER.toString('hex'), h2.containers[0]!.spec.address], { netns: h1.containers[0]!.netns, timeoutMs: 10_000 });
  const r = await m.stop({ requestId: 'r2', captureId: started.captureId });
  t.ok(r.markerPackets >= 3, `the marker crossed the underlay in clear (${r.markerPackets} packets)`);
  t.equal(r.encapsulations[0]?.name, 'plain ICMP', JSON.stringify(r.encapsulations));
  t.match(r.argv.join(' '), /tcpdump -i eth0 .* -w /);
  await t.rejects(m.stop({ requestId: 'r3', captureId: started.captureId }), { code: 'NOT_FOUND' }, 'a capture is stopped once');
});
