// The shared vocabulary of experiments, cells, runs and result rows (DESIGN.md, "Vocabulary").
// The experiment spec's schema (spec/schema.ts) produces ExperimentSpec; matrix expansion
// produces Cells and RunKeys; the store and the exports speak ResultRow.

export const NETWORK_KINDS = ['bridge', 'ovs', 'routing', 'bpf'] as const;
export const TUNNEL_KINDS = ['none', 'ipip', 'gre', 'vxlan', 'geneve', 'ipsec', 'wireguard', 'openvpn', 'tinc'] as const;
export const FILTER_KINDS = ['none', 'iptables', 'nftables', 'ovs', 'bpf', 'l7-http'] as const;
export const WORKLOAD_KINDS = ['latency-basic', 'throughput-basic', 'bursty', 'tcp-100', 'quake3', 'video', 'iperf3', 'pairs-scale', 'clients-scale', 'rr', 'http'] as const;
export const ENGINES = ['ping', 'uperf', 'iperf3', 'ditg', 'sockperf', 'wrk'] as const;

export type NetworkKind = (typeof NETWORK_KINDS)[number];
export type TunnelKind = (typeof TUNNEL_KINDS)[number];
export type FilterKind = (typeof FILTER_KINDS)[number];
export type WorkloadKind = (typeof WORKLOAD_KINDS)[number];
export type Engine = (typeof ENGINES)[number];
export type Placement = 'single-host' | 'multi-host';
export type Variant = 'kernel' | 'userspace';

/** One workload as it runs: a spec entry expanded over its list-valued parameters. */
export interface WorkloadInstance {
  /** Stable id within the experiment, e.g. "throughput-basic/tcp/653". */
  readonly id: string;
  readonly kind: WorkloadKind;
  readonly engine: Engine;
  readonly protocol: 'tcp' | 'udp' | 'icmp';
  readonly payload: number;
  readonly durationMs: number;
  /** Further parameters, passed to the agent as WorkloadSpec.params. */
  readonly params: Readonly<Record<string, string>>;
  readonly seed: number;
}

/** A network setup: what the Configurator applies on every host. */
export interface NetworkSetup {
  readonly network: NetworkKind;
  readonly tunnel: TunnelKind;
  readonly filter: FilterKind;
}

/** One point of the matrix. */
export interface Cell extends NetworkSetup {
  /** Deterministic: hash of experiment id and the cell's coordinates. */
  readonly id: string;
  /** Position in run order (0-based). */
  readonly index: number;
  readonly containers: number;
  readonly rules: number;
  readonly placement: Placement;
  readonly hosts: readonly string[];
  /** Set on a drift check of options.referenceCell: the k-th re-measurement (0-based). */
  readonly reference?: number | undefined;
  /** The container (path) MTU the cell will run with, known at plan time from the agents' underlay MTU (spec/path-mtu.ts). */
  readonly pathMtu?: number | undefined;
  /** Set when the cell comes from `matrix.recipe`: the CNI recipe it mirrors (spec/recipes.ts). */
  readonly recipe?: string | undefined;
  /** Set to "port" when the cell's extra rules differ by destination port range (matrix.ruleMatch); absent: by address. */
  readonly ruleMatch?: 'port' | undefined;
}

export interface SkippedCell {
  readonly cell: Omit<Cell, 'id' | 'index'>;
  readonly reason: string;
  /** Set when only this workload instance is skipped in an otherwise measured cell. */
  readonly workload?: string | undefined;
  /** The cell's id when the cell itself is measured (workload-level skips). */
  readonly cellId?: string | undefined;
}

/** The unit of result: one workload on one cell, one repetition. */
export interface RunKey {
  /** Deterministic: hash of (experiment, cell, workload, repetition). */
  readonly id: string;
  readonly experiment: string;
  readonly cell: string;
  readonly workload: WorkloadInstance;
  readonly repetition: number;
  /** Sort key of the global run order (0-based, increasing; gaps leave room for repetitions added by convergence). */
  readonly order: number;
}

/** A long-format result row (DESIGN.md, "Surfaces"): one per run x pair x metric. */
export interface ResultRow {
  readonly experiment: string;
  readonly cell: string;
  readonly run: string;
  readonly repetition: number;
  readonly workload: string;
  readonly workload_kind: string;
  readonly engine: string;
  readonly payload: number;
  readonly protocol: string;
  readonly network: string;
  readonly tunnel: string;
  readonly tunnel_variant: string;
  readonly filter: string;
  readonly filter_variant: string;
  readonly rules: number;
  readonly containers: number;
  readonly placement: string;
  readonly pair: string;
  readonly flow: string;
  readonly metric: string;
  readonly value: number;
  readonly unit: string;
  /**
   * Validity flags of the run ("" when none held): "cpu-bound" (a source or sink host had a
   * core saturated), "noisy" (steal time), "testbed-heavy" (the agent's own share above the
   * bound), ";"-separated. Computed from the run's host summaries (controller monitor/validity.ts).
   */
  readonly validity: string;
  /** The CNI recipe of the cell (`matrix.recipe`), "" for cells named by their building blocks. */
  readonly recipe: string;
  /** How the cell's extra rules differ from the allow rule: "address" or "port" ("" before rule matches existed). */
  readonly rule_match: string;
  /**
   * Where the numbers come from: the kind of the experiment's hosts, "netns-lab" (namespaces of one
   * machine), "vm-kvm", "vm-tcg" (QEMU guests; TCG is software emulation, figures are functional
   * only) or "remote" (hosts the controller reaches over the network); "+"-joined when they differ,
   * "" when no host was recorded.
   */
  readonly host_kind: string;
  /** The hosts' kernel releases (uname -r), "+"-joined when they differ; "" when no host was recorded. */
  readonly kernel_release: string;
}

/** Kinds of host an agent runs on (controller config `agents[i].hostKind`). */
export const HOST_KINDS = ['netns-lab', 'vm-kvm', 'vm-tcg', 'remote'] as const;
export type HostKind = (typeof HOST_KINDS)[number];

/** One host sample tied to a run (Performance Monitor), flattened for storage and export. */
export interface HostSampleRow {
  readonly experiment: string;
  readonly run: string;
  readonly host: string;
  readonly timestamp: number;
  /** dstat-style column name, e.g. "total cpu usage:usr", "net/eth0:recv", "memory usage:used". */
  readonly column: string;
  readonly value: number;
}

/** `paused`: the sweep stopped itself (the store's disk is full) and waits for a resume; nothing stored is lost. */
export type ExperimentState = 'queued' | 'running' | 'paused' | 'succeeded' | 'failed' | 'cancelled';
export type RunState = 'pending' | 'running' | 'succeeded' | 'failed' | 'skipped';
