// CNI recipes: named combinations of seconet's building blocks that mirror a Kubernetes CNI's
// datapath (docs/recipes.md says, per recipe, what it mirrors, what it leaves out and which page
// of the CNI's own documentation says so). A recipe in `matrix.recipe` stands for one network
// setup (network x tunnel x filter) plus the tunnel parameters the CNI uses on the wire, so a
// recipe cell is an ordinary cell that also carries the recipe's name into results and reports.
// One table, so the spec schema, the parser's contradiction check, expansion and the docs'
// table (a test keeps docs/recipes.md in step) cannot disagree.

import type { FilterKind, NetworkKind, TunnelKind } from '../model.js';

export interface Recipe {
  readonly name: string;
  readonly network: NetworkKind;
  readonly tunnel: TunnelKind;
  readonly filter: FilterKind;
  /** UDP port the CNI's tunnel uses; absent: seconet's default for the tunnel kind. */
  readonly tunnelPort?: number;
  /** VXLAN / GENEVE network identifier the CNI uses; absent: derived from the scope. */
  readonly vni?: number;
  /** One line: the CNI datapath it stands for. */
  readonly mirrors: string;
}

export const RECIPE_NAMES = [
  'calico-ipip', 'calico-vxlan', 'cilium-vxlan', 'cilium-wireguard', 'flannel-vxlan',
  'weave-fastdp', 'weave-encrypted', 'antrea-geneve', 'antrea-ipsec', 'kube-router',
] as const;

export type RecipeName = (typeof RECIPE_NAMES)[number];

export const RECIPES: Readonly<Record<RecipeName, Recipe>> = {
  'calico-ipip': { name: 'calico-ipip', network: 'routing', tunnel: 'ipip', filter: 'iptables', mirrors: 'Calico: routed veths, IP-in-IP between nodes (ipipMode Always), Felix iptables policy' },
  'calico-vxlan': { name: 'calico-vxlan', network: 'routing', tunnel: 'vxlan', filter: 'iptables', mirrors: 'Calico: routed veths, VXLAN between nodes (vxlanMode Always), Felix iptables policy' },
  'cilium-vxlan': { name: 'cilium-vxlan', network: 'bpf', tunnel: 'vxlan', filter: 'bpf', tunnelPort: 8472, mirrors: 'Cilium: eBPF datapath at tc, VXLAN tunnel mode on 8472/UDP, eBPF policy' },
  'cilium-wireguard': { name: 'cilium-wireguard', network: 'bpf', tunnel: 'wireguard', filter: 'bpf', tunnelPort: 51871, mirrors: 'Cilium: eBPF datapath, WireGuard transparent encryption on 51871/UDP, eBPF policy' },
  'flannel-vxlan': { name: 'flannel-vxlan', network: 'bridge', tunnel: 'vxlan', filter: 'none', tunnelPort: 8472, vni: 1, mirrors: 'Flannel: cni0 bridge, flannel.1 VXLAN (VNI 1, 8472/UDP), no network policy' },
  'weave-fastdp': { name: 'weave-fastdp', network: 'ovs', tunnel: 'vxlan', filter: 'iptables', mirrors: 'Weave Net fast datapath: kernel Open vSwitch datapath, VXLAN, weave-npc iptables policy' },
  'weave-encrypted': { name: 'weave-encrypted', network: 'ovs', tunnel: 'ipsec', filter: 'iptables', mirrors: 'Weave Net encrypted fast datapath: Open vSwitch datapath, IPsec ESP (AES-GCM), weave-npc iptables policy' },
  'antrea-geneve': { name: 'antrea-geneve', network: 'ovs', tunnel: 'geneve', filter: 'ovs', mirrors: 'Antrea: OVS bridge, GENEVE encap mode (the default), NetworkPolicy as OpenFlow rules' },
  'antrea-ipsec': { name: 'antrea-ipsec', network: 'ovs', tunnel: 'ipsec', filter: 'ovs', mirrors: 'Antrea with IPsec: OVS bridge, ESP-protected tunnel between nodes, OpenFlow policy' },
  'kube-router': { name: 'kube-router', network: 'routing', tunnel: 'none', filter: 'iptables', mirrors: 'kube-router: direct routing between nodes (BGP-learned routes), iptables policy' },
};

export function isRecipeName(s: string): s is RecipeName {
  return (RECIPE_NAMES as readonly string[]).includes(s);
}

/** The recipe's definition as one phrase, for error messages: "network routing, tunnel ipip, filter iptables". */
export function recipeDefinition(r: Recipe): string {
  const parts = [`network ${r.network}`, `tunnel ${r.tunnel}`, `filter ${r.filter}`];
  if (r.tunnelPort !== undefined) parts.push(`tunnel port ${r.tunnelPort}`);
  if (r.vni !== undefined) parts.push(`vni ${r.vni}`);
  return parts.join(', ');
}
