// Reads a classic pcap file (what `tcpdump -w` writes) and classifies every IPv4 packet between
// this host and its peers by the encapsulation it shows on the wire. The point is to prove, not
// assume, that a tunnel encrypts: a marker payload sent through the tunnel must not appear in
// any captured packet, and the packets between the hosts must look like the tunnel's transport
// (ESP, WireGuard on UDP 51820, ...). The format is small and fixed (pcap-savefile(5)): a
// 24-byte file header, then per packet a 16-byte record header and the captured bytes.

/** pcap link types we read (pcap-linktype(7)). */
const LINKTYPE_ETHERNET = 1;
const LINKTYPE_RAW = 101;
const LINKTYPE_LINUX_SLL = 113;

export interface PcapPacket {
  /** The captured bytes from the IPv4 header on, or undefined when the packet is not IPv4. */
  readonly ip: Buffer | undefined;
  /** Every captured byte (the marker is looked for in all of them, whatever the protocol). */
  readonly raw: Buffer;
}

export function parsePcap(buf: Buffer): PcapPacket[] {
  if (buf.length < 24) return [];
  const magic = buf.readUInt32LE(0);
  let le: boolean;
  if (magic === 0xa1b2c3d4 || magic === 0xa1b23c4d) le = true;
  else if (magic === 0xd4c3b2a1 || magic === 0x4d3cb2a1) le = false;
  else throw new Error(`not a pcap file (magic 0x${magic.toString(16)})`);
  const u32 = (o: number): number => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const linktype = u32(20) & 0x0fffffff;
  const out: PcapPacket[] = [];
  let off = 24;
  while (off + 16 <= buf.length) {
    const incl = u32(off + 8);
    const start = off + 16;
    if (start + incl > buf.length) break; // cut short while the capture was stopped
    const raw = buf.subarray(start, start + incl);
    out.push({ raw, ip: ipv4Of(raw, linktype) });
    off = start + incl;
  }
  return out;
}

function ipv4Of(frame: Buffer, linktype: number): Buffer | undefined {
  let off: number;
  let ethertype: number;
  if (linktype === LINKTYPE_ETHERNET) {
    if (frame.length < 14) return undefined;
    off = 14;
    ethertype = frame.readUInt16BE(12);
    while (ethertype === 0x8100 && frame.length >= off + 4) {
      ethertype = frame.readUInt16BE(off + 2);
      off += 4;
    }
  } else if (linktype === LINKTYPE_LINUX_SLL) {
    if (frame.length < 16) return undefined;
    off = 16;
    ethertype = frame.readUInt16BE(14);
  } else if (linktype === LINKTYPE_RAW) {
    off = 0;
    ethertype = 0x0800;
  } else {
    return undefined;
  }
  if (ethertype !== 0x0800 || frame.length < off + 20 || frame[off]! >> 4 !== 4) return undefined;
  return frame.subarray(off);
}

const ipStr = (b: Buffer, o: number): string => `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;

/** Well-known tunnel transports by UDP port (the agent's tunnel drivers use these defaults). */
function udpName(sport: number, dport: number): string {
  const has = (p: number): boolean => sport === p || dport === p;
  const inRange = (lo: number, hi: number): number | undefined => [dport, sport].find((p) => p >= lo && p <= hi);
  if (has(4500)) return 'ESP-in-UDP 4500';
  if (has(500)) return 'IKE UDP 500';
  if (has(51820)) return 'WireGuard UDP 51820';
  if (has(4789) || has(8472)) return `VXLAN UDP ${has(4789) ? 4789 : 8472}`;
  if (has(6081)) return 'Geneve UDP 6081';
  if (has(655)) return 'Tinc UDP 655';
  const ovpn = inRange(1194, 1194 + 255);
  if (ovpn !== undefined) return `OpenVPN UDP ${ovpn}`;
  return `UDP ${Math.min(sport, dport)}`;
}

function tcpName(sport: number, dport: number): string {
  const has = (p: number): boolean => sport === p || dport === p;
  if (has(655)) return 'Tinc TCP 655';
  if (has(1194)) return 'OpenVPN TCP 1194';
  return `TCP ${Math.min(sport, dport)}`;
}

/** The encapsulation an IPv4 packet shows: its protocol and, for UDP/TCP, the tunnel's port. */
export function encapsulationOf(ip: Buffer): string {
  const ihl = (ip[0]! & 0x0f) * 4;
  const proto = ip[9]!;
  const l4 = ip.subarray(ihl);
  const ports = (): [number, number] => (l4.length >= 4 ? [l4.readUInt16BE(0), l4.readUInt16BE(2)] : [0, 0]);
  switch (proto) {
    case 1: return 'plain ICMP';
    case 4: return 'IPIP';
    case 47: return 'GRE';
    case 50: return 'ESP';
    case 17: return udpName(...ports());
    case 6: return tcpName(...ports());
    default: return `IP protocol ${proto}`;
  }
}

export interface EncapsulationCount {
  readonly name: string;
  readonly packets: number;
  readonly markerPackets: number;
}

export interface CaptureAnalysis {
  readonly packets: number;
  readonly markerPackets: number;
  /** Between this host and a peer, most packets first. */
  readonly encapsulations: EncapsulationCount[];
}

/**
 * Counts the packets that carry `marker` anywhere in their bytes, and classifies the IPv4
 * packets of the experiment: those exchanged with `peers`, and routed ones (neither end is
 * this host's `local` address: container traffic of an unencapsulated setup). This host's own
 * traffic with anyone else (an SSH session, the agent's control connection) is left out, and
 * so are TCP packets of `ignoreTcpPorts`.
 */
export function analyzeCapture(packets: readonly PcapPacket[], marker: Buffer, peers: readonly string[], local = '', ignoreTcpPorts: readonly number[] = []): CaptureAnalysis {
  const peerSet = new Set(peers);
  const classes = new Map<string, { packets: number; markerPackets: number }>();
  let markerPackets = 0;
  for (const p of packets) {
    const hit = marker.length > 0 && p.raw.includes(marker);
    if (hit) markerPackets++;
    const ip = p.ip;
    if (ip === undefined) continue;
    const src = ipStr(ip, 12);
    const dst = ipStr(ip, 16);
    const ownOther = (src === local && !peerSet.has(dst)) || (dst === local && !peerSet.has(src));
    if (local !== '' && ownOther) continue;
    if (local === '' && peerSet.size > 0 && !peerSet.has(src) && !peerSet.has(dst)) continue;
    if (ip[9] === 6 && ignoreTcpPorts.length > 0) {
      const l4 = ip.subarray((ip[0]! & 0x0f) * 4);
      if (l4.length >= 4 && (ignoreTcpPorts.includes(l4.readUInt16BE(0)) || ignoreTcpPorts.includes(l4.readUInt16BE(2)))) continue;
    }
    const name = encapsulationOf(ip);
    const c = classes.get(name) ?? { packets: 0, markerPackets: 0 };
    c.packets++;
    if (hit) c.markerPackets++;
    classes.set(name, c);
  }
  const encapsulations = [...classes].map(([name, c]) => ({ name, ...c })).sort((a, b) => b.packets - a.packets || a.name.localeCompare(b.name));
  return { packets: packets.length, markerPackets, encapsulations };
}
