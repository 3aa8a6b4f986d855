// Tunnel kind "geneve" (an extra beyond the paper): GENEVE (RFC 8926) over UDP, one kernel
// device per peer (a GENEVE device has a single remote). The VNI is spec.vni or derived from
// the scope, so both ends agree. Overhead: outer IPv4 20 + UDP 8 + GENEVE 8 + inner Ethernet
// 14 = 50 bytes without options; this driver sends no options, so 50 is exact (options would
// add 4-252 bytes). Kernel only; the lab machine's kernel lacks it.

import { makeP2pLinkTunnel, scopeId } from './p2p-link.js';
import { specPort } from './common.js';

export const GENEVE_OVERHEAD = 20 + 8 + 8 + 14;
export const GENEVE_PORT = 6081;

export const geneveTunnel = makeP2pLinkTunnel({
  kind: 'geneve',
  letter: 'g',
  type: 'geneve',
  config: 'CONFIG_GENEVE',
  overhead: GENEVE_OVERHEAD,
  probeArgs: ['id', '1', 'remote', '198.18.0.2'],
  linkArgs: (spec, peer, scope) => ['id', String(scopeId(spec, scope)), 'remote', peer.underlayAddress, 'ttl', '64', 'dstport', String(specPort(spec, GENEVE_PORT))],
  userspaceReason: 'no userspace GENEVE is supported by this driver (OVS netdev ports could provide one); use a kernel with CONFIG_GENEVE (the full-kernel lab)',
});
