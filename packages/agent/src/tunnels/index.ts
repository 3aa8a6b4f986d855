// Registry of tunnel drivers, by kind (the strings of TunnelSpec.kind and the experiment spec).
import type { TunnelDriver } from '../driver.js';
import { noneTunnel } from './none.js';
import { vxlanTunnel } from './vxlan.js';
import { geneveTunnel } from './geneve.js';
import { ipipTunnel } from './ipip.js';
import { greTunnel } from './gre.js';
import { wireguardTunnel } from './wireguard.js';
import { ipsecTunnel } from './ipsec.js';
import { openvpnTunnel } from './openvpn.js';
import { tincTunnel } from './tinc.js';

export const TUNNEL_DRIVERS: ReadonlyMap<string, TunnelDriver> = new Map<string, TunnelDriver>(
  [noneTunnel, vxlanTunnel, geneveTunnel, ipipTunnel, greTunnel, wireguardTunnel, ipsecTunnel, openvpnTunnel, tincTunnel].map((d) => [d.kind, d]),
);

export { resetProbeCache } from './common.js';
