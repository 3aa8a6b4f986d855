// Tunnel kind "gre": GRE (RFC 2784/2890) with a key, one kernel device per peer. The key lets
// several scopes run GRE between the same two hosts; both ends derive it from the scope (or
// take spec.vni). Overhead: outer IPv4 20 + GRE base header 4 + key 4 = 28 bytes (the paper's
// 24 is GRE without a key; with the key the extra 4 bytes must come off the MTU too, or
// full-size packets fragment). Kernel only; the lab machine's kernel lacks ip_gre.

import { makeP2pLinkTunnel, scopeId } from './p2p-link.js';

export const GRE_OVERHEAD = 20 + 4 + 4;

export const greTunnel = makeP2pLinkTunnel({
  kind: 'gre',
  letter: 'g',
  type: 'gre',
  config: 'CONFIG_NET_IPGRE',
  overhead: GRE_OVERHEAD,
  probeArgs: ['local', '198.18.0.1', 'remote', '198.18.0.2', 'key', '1'],
  linkArgs: (spec, peer, scope) => ['local', spec.localAddress, 'remote', peer.underlayAddress, 'key', String(scopeId(spec, scope)), 'ttl', '64'],
  userspaceReason: 'no userspace GRE is supported by this driver; use a kernel with CONFIG_NET_IPGRE (the full-kernel lab)',
});
