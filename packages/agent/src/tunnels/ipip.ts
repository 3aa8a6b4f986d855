// Tunnel kind "ipip": IPv4-in-IPv4 (RFC 2003), one kernel device per peer. Overhead: the outer
// IPv4 header, 20 bytes. The kernel module is the only variant; the lab machine's kernel lacks
// it, so the probe says so and experiments skip it there.

import { makeP2pLinkTunnel } from './p2p-link.js';

export const IPIP_OVERHEAD = 20;

export const ipipTunnel = makeP2pLinkTunnel({
  kind: 'ipip',
  letter: 'p',
  type: 'ipip',
  config: 'CONFIG_NET_IPIP',
  overhead: IPIP_OVERHEAD,
  probeArgs: ['local', '198.18.0.1', 'remote', '198.18.0.2'],
  linkArgs: (spec, peer) => ['local', spec.localAddress, 'remote', peer.underlayAddress, 'ttl', '64'],
  userspaceReason: 'no userspace IPIP implementation is supported; use a kernel with CONFIG_NET_IPIP (the full-kernel lab)',
});
