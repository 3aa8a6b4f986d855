// `seconet hosts check`: before anything is installed, ask a host over SSH which kernel it runs
// and which building blocks and tools it can offer. Kernel features are probed for real, by
// creating and deleting test objects inside a throwaway network namespace (never the host's
// own), as the agent's capability probes do. The remote script is a constant; only the
// namespace name (random, [a-z0-9]) is put into it.

import { randomBytes } from 'node:crypto';
import type { SshSession } from './session.js';

export interface BlockReport {
  readonly category: 'network' | 'tunnel' | 'filter';
  readonly kind: string;
  readonly variant: 'kernel' | 'userspace';
  readonly available: boolean;
  readonly reason: string;
}

export interface HostReport {
  readonly name: string;
  readonly kernel: string;
  readonly os: string;
  readonly root: boolean;
  readonly tools: ReadonlyArray<{ readonly tool: string; readonly path: string }>;
  readonly nodeVersion: string;
  readonly blocks: readonly BlockReport[];
}

export const CHECKED_TOOLS = ['ip', 'tc', 'iptables', 'nft', 'bpftool', 'ethtool', 'ovs-vswitchd', 'ovsdb-server', 'wireguard-go', 'wg', 'charon', 'swanctl', 'openvpn', 'tincd', 'ping', 'iperf3', 'uperf', 'ITGSend', 'ITGRecv', 'ITGDec', 'node'] as const;

// name:ip-link-arguments, created as link "t0" in the probe namespace.
const LINK_PROBES: ReadonlyArray<readonly [string, string, string]> = [
  ['network', 'bridge', 'type bridge'],
  ['tunnel', 'vxlan', 'type vxlan id 42 dstport 4789 local 198.18.0.1 remote 198.18.0.2'],
  ['tunnel', 'geneve', 'type geneve id 42 remote 198.18.0.2'],
  ['tunnel', 'ipip', 'type ipip local 198.18.0.1 remote 198.18.0.2'],
  ['tunnel', 'gre', 'type gre local 198.18.0.1 remote 198.18.0.2'],
  ['tunnel', 'wireguard', 'type wireguard'],
];

export function remoteScript(ns: string): string {
  if (!/^snchk[a-z0-9]{6,12}$/.test(ns)) throw new Error(`bad probe namespace ${ns}`);
  const tools = CHECKED_TOOLS.join(' ');
  const links = LINK_PROBES.map(([, kind, args]) => `probe_link ${kind} ${args}`).join('\n');
  return `set -u
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo -n"
echo "kernel=$(uname -r)"
echo "os=$( (. /etc/os-release && echo "$PRETTY_NAME") 2>/dev/null)"
echo "uid=$(id -u)"
for t in ${tools}; do
  p=$(command -v "$t" 2>/dev/null || true)
  if [ -z "$p" ]; then for d in /usr/sbin /sbin /usr/lib/ipsec /usr/local/bin; do if [ -x "$d/$t" ]; then p="$d/$t"; break; fi; done; fi
  echo "tool.$t=$p"
done
echo "node=$(node --version 2>/dev/null || true)"
[ -e /usr/lib/ipsec/plugins/libstrongswan-kernel-libipsec.so ] && echo "libipsec=yes" || echo "libipsec=no"
ns=${ns}
if ! $SUDO ip netns add $ns 2>/tmp/.$ns.err; then echo "netns=no:$(tr '\\n' ' ' </tmp/.$ns.err)"; rm -f /tmp/.$ns.err; exit 0; fi
rm -f /tmp/.$ns.err
echo "netns=yes"
probe_link() {
  kind=$1; shift
  if out=$($SUDO ip -n $ns link add t0 "$@" 2>&1); then echo "kernel.$kind=yes"; $SUDO ip -n $ns link del t0 2>/dev/null; else echo "kernel.$kind=no:$(echo "$out" | tr '\\n' ' ')"; fi
}
${links}
if out=$($SUDO ip -n $ns tuntap add t1 mode tun 2>&1); then echo "kernel.tun=yes"; else echo "kernel.tun=no:$out"; fi
if out=$($SUDO ip -n $ns xfrm state add src 198.18.0.1 dst 198.18.0.2 proto esp spi 0x100 mode tunnel aead 'rfc4106(gcm(aes))' 0x0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f2021222324 128 2>&1); then echo "kernel.ipsec=yes"; else echo "kernel.ipsec=no:$(echo "$out" | tr '\\n' ' ')"; fi
if [ -d /sys/module/openvswitch ] || modinfo openvswitch >/dev/null 2>&1; then echo "kernel.ovs=yes"; else echo "kernel.ovs=no:no openvswitch module (CONFIG_OPENVSWITCH)"; fi
if out=$($SUDO ip netns exec $ns nft add table inet snchk 2>&1); then echo "kernel.nftables=yes"; else echo "kernel.nftables=no:$out"; fi
if out=$($SUDO ip netns exec $ns iptables -w -t filter -N SNCHK 2>&1); then echo "kernel.iptables=yes"; else echo "kernel.iptables=no:$out"; fi
$SUDO ip -n $ns link add d0 type dummy 2>/dev/null
if out=$($SUDO tc -n $ns qdisc add dev d0 clsact 2>&1); then echo "kernel.clsact=yes"; else echo "kernel.clsact=no:$out"; fi
$SUDO ip netns del $ns
`;
}

function parseLines(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of text.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) m.set(line.slice(0, i), line.slice(i + 1).trim());
  }
  return m;
}

function verdict(v: string | undefined): { ok: boolean; reason: string } {
  if (v === undefined) return { ok: false, reason: 'not probed' };
  if (v === 'yes') return { ok: true, reason: '' };
  return { ok: false, reason: v.replace(/^no:?/, '').trim() || 'not supported' };
}

export function parseReport(name: string, text: string): HostReport {
  const m = parseLines(text);
  const tools = CHECKED_TOOLS.map((tool) => ({ tool, path: m.get(`tool.${tool}`) ?? '' }));
  const has = (t: string): boolean => (m.get(`tool.${t}`) ?? '') !== '';
  const blocks: BlockReport[] = [];
  const kernel = (category: BlockReport['category'], kind: string, key: string, needs: string[] = [], hint = ''): void => {
    const v = verdict(m.get(`kernel.${key}`));
    const missing = needs.filter((t) => !has(t));
    const available = v.ok && missing.length === 0;
    const reason = !v.ok ? `${v.reason}${hint ? `; ${hint}` : ''}` : missing.length ? `missing tools: ${missing.join(', ')}` : '';
    blocks.push({ category, kind, variant: 'kernel', available, reason });
  };
  const userspace = (category: BlockReport['category'], kind: string, needs: string[], extra?: { ok: boolean; reason: string }): void => {
    const missing = needs.filter((t) => !has(t));
    const tunOk = verdict(m.get('kernel.tun'));
    const reasons = [missing.length ? `missing tools: ${missing.join(', ')} (apt-get install)` : '', tunOk.ok ? '' : `no TUN device: ${tunOk.reason}`, extra && !extra.ok ? extra.reason : ''].filter(Boolean);
    blocks.push({ category, kind, variant: 'userspace', available: reasons.length === 0, reason: reasons.join('; ') });
  };
  kernel('network', 'bridge', 'bridge', ['ip']);
  blocks.push({ category: 'network', kind: 'routing', variant: 'kernel', available: has('ip'), reason: has('ip') ? '' : 'missing tools: ip' });
  kernel('network', 'bpf', 'clsact', ['tc', 'bpftool']);
  kernel('network', 'ovs', 'ovs', ['ovs-vswitchd', 'ovsdb-server']);
  userspace('network', 'ovs', ['ovs-vswitchd', 'ovsdb-server']);
  kernel('tunnel', 'vxlan', 'vxlan', ['ip']);
  kernel('tunnel', 'geneve', 'geneve', ['ip'], 'needs CONFIG_GENEVE');
  kernel('tunnel', 'ipip', 'ipip', ['ip'], 'needs CONFIG_NET_IPIP');
  kernel('tunnel', 'gre', 'gre', ['ip'], 'needs CONFIG_NET_IPGRE');
  kernel('tunnel', 'wireguard', 'wireguard', ['ip', 'wg'], 'needs CONFIG_WIREGUARD');
  userspace('tunnel', 'wireguard', ['wireguard-go', 'wg']);
  kernel('tunnel', 'ipsec', 'ipsec', ['charon', 'swanctl'], 'needs CONFIG_INET_ESP and CONFIG_XFRM');
  userspace('tunnel', 'ipsec', ['charon', 'swanctl'], { ok: m.get('libipsec') === 'yes', reason: 'strongSwan kernel-libipsec plugin missing (libcharon-extra-plugins)' });
  userspace('tunnel', 'openvpn', ['openvpn']);
  userspace('tunnel', 'tinc', ['tincd']);
  kernel('filter', 'iptables', 'iptables', ['iptables']);
  kernel('filter', 'nftables', 'nftables', ['nft']);
  kernel('filter', 'bpf', 'clsact', ['tc', 'bpftool']);
  return {
    name,
    kernel: m.get('kernel') ?? '',
    os: m.get('os') ?? '',
    root: m.get('uid') === '0',
    tools,
    nodeVersion: m.get('node') ?? '',
    blocks,
  };
}

export async function checkHost(session: SshSession): Promise<HostReport> {
  const ns = `snchk${randomBytes(4).toString('hex')}`;
  const r = await session.exec(remoteScript(ns), { timeoutMs: 60_000 });
  return parseReport(session.target.name, r.stdout);
}
