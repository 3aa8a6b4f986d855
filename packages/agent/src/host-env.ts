// Where an agent acts and what it owns. On a real host the agent acts in the root network
// namespace; in the lab each host is a network namespace (hostNetns) and several agents share
// one machine, each with its own name prefix, state directory and run directory.

export interface HostEnv {
  /** Agent name (host name in experiments). */
  readonly name: string;
  /** Prefix of every kernel object this agent owns: "sn" + 2 characters (PREFIX_RE). */
  readonly prefix: string;
  /** The lab host's namespace; undefined on a real host (root namespace). */
  readonly hostNetns: string | undefined;
  /** Journal, generated configs and keys (mode 0700). */
  readonly stateDir: string;
  /** Daemon run directories, pid files, sockets, logs. */
  readonly runDir: string;
  /** This agent's bpffs mount; pinned objects live below it. */
  readonly bpffs: string;
  /** Underlay device in the host namespace and its IPv4 address. */
  readonly underlayDev: string;
  readonly underlayAddress: string;
  /** MTU of the underlay device. */
  readonly underlayMtu: number;
  /**
   * Factor for the drivers' own waits (a daemon's start, a device appearing); above 1 on a
   * host whose CPU is emulated or shared. Default 1.
   */
  readonly timeScale?: number;
  /** Where the kernel's sysctls are (default /proc/sys): limits the containers need are raised there (netns/host-limits.ts). */
  readonly procSys?: string;
  /**
   * CIDRs a request may put on this host (container networks, overlay addresses, peer routes,
   * guarded networks). Undefined: the lab range 198.18.0.0/15 only.
   */
  readonly allowedRanges?: readonly string[];
  /**
   * The sn-nsconf helper (packages/agent/native, built by `npm run native`): container-namespace
   * work for every container in one process. Undefined: one `ip -n NS -batch` per namespace.
   */
  readonly nsconf?: string | undefined;
  /**
   * The sn-gate helper (packages/agent/native): the start barrier that releases a call's clients
   * together (workloads/start-gate.ts). Undefined: tools start as they are forked.
   */
  readonly gate?: string | undefined;
}

/** A wait of `ms` scaled to the host's speed (HostEnv.timeScale). */
export function hostWaitMs(env: Pick<HostEnv, 'timeScale'>, ms: number): number {
  const f = env.timeScale ?? 1;
  return Number.isFinite(f) && f > 1 ? Math.round(ms * f) : ms;
}
