// Every kind of object the agent may create on a host. Each entry carries what is needed to
// remove it without the driver that made it (journal/undo.ts), and to recognise it in the
// kernel during GC.

export type OwnedObject =
  | { readonly type: 'netns'; readonly name: string }
  /** A link (veth, bridge, vxlan, tun, ...) in netns (undefined: the host namespace). */
  | {
      readonly type: 'link';
      readonly name: string;
      readonly netns?: string | undefined;
      /** A veth whose peer lives in this namespace: removing the namespace removes the link too. */
      readonly peerNetns?: string | undefined;
    }
  | { readonly type: 'route'; readonly dst: string; readonly netns?: string | undefined; readonly table?: number | undefined }
  | { readonly type: 'addr'; readonly cidr: string; readonly dev: string; readonly netns?: string | undefined }
  /** An iptables chain of ours plus the jump rules (argv after -A/-D CHAIN) that lead into it. */
  | {
      readonly type: 'iptables-chain';
      readonly table: string;
      readonly chain: string;
      readonly jumps: ReadonlyArray<{ readonly from: string; readonly rule: readonly string[] }>;
      readonly netns?: string | undefined;
      /** The iptables binary that made it (default "iptables", the nft backend). */
      readonly binary?: 'iptables' | 'iptables-legacy' | undefined;
    }
  | { readonly type: 'nft-table'; readonly family: string; readonly name: string; readonly netns?: string | undefined }
  | { readonly type: 'bpf-pin'; readonly path: string }
  /** A tc clsact qdisc on a device (removing it removes its filters). */
  | { readonly type: 'tc-clsact'; readonly dev: string; readonly netns?: string | undefined }
  /** One bpf tc filter on a clsact hook whose qdisc may belong to someone else (the bpf network's). */
  | {
      readonly type: 'tc-filter';
      readonly dev: string;
      readonly netns?: string | undefined;
      readonly direction: 'ingress' | 'egress';
      readonly prio: number;
      readonly handle: number;
    }
  /** A daemon; removed only when /proc/<pid> still shows the same start time. */
  | { readonly type: 'process'; readonly pid: number; readonly startTime: string; readonly what: string }
  /** A file or directory inside the agent's stateDir or runDir (secrets, configs, sockets). */
  | { readonly type: 'path'; readonly path: string }
  | { readonly type: 'ovs-bridge'; readonly name: string; readonly db: string }
  | { readonly type: 'ovs-port'; readonly bridge: string; readonly name: string; readonly db: string }
  /** OpenFlow flows on a bridge whose cookie matches cookie/mask; mgmt is the bridge's management socket path. */
  | { readonly type: 'ovs-flows'; readonly bridge: string; readonly mgmt: string; readonly cookie: string; readonly mask: string }
  /** An xfrm policy, by the words after `ip xfrm policy del` (src, dst, dir, if_id, ...). */
  | { readonly type: 'xfrm-policy'; readonly selector: readonly string[]; readonly netns?: string | undefined }
  /** xfrm states by the words after `ip xfrm state del` (with spi: one SA) or `deleteall` (without: every SA matching src/dst/proto). */
  | { readonly type: 'xfrm-state'; readonly selector: readonly string[]; readonly netns?: string | undefined }
  /** A policy routing rule `from all lookup <table>` (charon adds one per family for its table 220). */
  | { readonly type: 'ip-rule'; readonly family: 4 | 6; readonly priority: number; readonly table: number; readonly netns?: string | undefined }
  /** A sysctl we changed; restored at teardown when restore is set. */
  | { readonly type: 'sysctl'; readonly key: string; readonly previous: string; readonly netns?: string | undefined; readonly restore: boolean };

/** A short human-readable label, used in logs, Teardown/GC answers and drift reports. */
export function describe(o: OwnedObject): string {
  const ns = 'netns' in o && o.netns ? `@${o.netns}` : '';
  switch (o.type) {
    case 'netns':
      return `netns ${o.name}`;
    case 'link':
      return `link ${o.name}${ns}`;
    case 'route':
      return `route ${o.dst}${o.table ? ` table ${o.table}` : ''}${ns}`;
    case 'addr':
      return `addr ${o.cidr} dev ${o.dev}${ns}`;
    case 'iptables-chain':
      return `iptables ${o.table}/${o.chain}${ns}`;
    case 'nft-table':
      return `nft table ${o.family} ${o.name}${ns}`;
    case 'bpf-pin':
      return `bpf pin ${o.path}`;
    case 'tc-clsact':
      return `tc clsact ${o.dev}${ns}`;
    case 'tc-filter':
      return `tc filter ${o.dev} ${o.direction} prio ${o.prio} handle ${o.handle}${ns}`;
    case 'process':
      return `process ${o.pid} (${o.what})`;
    case 'path':
      return `path ${o.path}`;
    case 'ovs-bridge':
      return `ovs bridge ${o.name}`;
    case 'ovs-port':
      return `ovs port ${o.bridge}/${o.name}`;
    case 'ovs-flows':
      return `ovs flows ${o.bridge} cookie ${o.cookie}/${o.mask}`;
    case 'xfrm-policy':
      return `xfrm policy ${o.selector.join(' ')}${ns}`;
    case 'xfrm-state':
      return `xfrm state ${o.selector.join(' ')}${ns}`;
    case 'ip-rule':
      return `ip -${o.family} rule priority ${o.priority} table ${o.table}${ns}`;
    case 'sysctl':
      return `sysctl ${o.key}${ns}`;
  }
}
