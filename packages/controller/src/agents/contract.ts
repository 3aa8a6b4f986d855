// The part of the agent contract (proto/seconet/agent/v1/agent.proto) the controller speaks,
// as structural types. The agent package's `AgentClient` satisfies `AgentLink`, and so does a
// fake in tests; keeping the controller on this narrow view means it compiles and is tested
// without a gRPC channel, and a field the controller does not read never couples the two.

export type VariantName = 'VARIANT_UNSPECIFIED' | 'VARIANT_KERNEL' | 'VARIANT_USERSPACE';
export type RoleName = 'ROLE_SINK' | 'ROLE_SOURCE';

export interface CapabilityInfo {
  readonly category: string;
  readonly kind: string;
  readonly variant: string;
  readonly available: boolean;
  readonly version: string;
  readonly reason: string;
  readonly engine: string;
  /** Not available as far as the probe got, which met a failure that may pass (a timeout): not the kernel's answer. */
  readonly undetermined?: boolean;
}

export interface AgentInfo {
  readonly name: string;
  readonly agentVersion: string;
  readonly kernel: string;
  readonly hostname: string;
  readonly namePrefix: string;
  readonly underlayAddress: string;
  readonly cpu: { readonly model: string; readonly cores: number } | null;
  readonly memoryBytes: number;
  readonly capabilities: readonly CapabilityInfo[];
  readonly tools: ReadonlyArray<{ readonly tool: string; readonly version: string }>;
  readonly startedAt: number;
  readonly scopes: readonly string[];
  /** The host's NICs (the underlay device among them, by underlayAddress). */
  readonly nics?: ReadonlyArray<{ readonly name: string; readonly mtu: number; readonly addresses: readonly string[] }> | undefined;
}

/** MTU of the NIC that holds the agent's underlay address, when the agent reported it. */
export function underlayMtuOf(info: AgentInfo | undefined): number | undefined {
  const nic = info?.nics?.find((n) => n.addresses.some((a) => a.split('/')[0] === info.underlayAddress));
  return nic !== undefined && nic.mtu > 0 ? nic.mtu : undefined;
}

export interface ContainerSpecMsg { readonly name: string; readonly address: string }
export interface TunnelPeerMsg {
  readonly name: string;
  readonly underlayAddress: string;
  readonly overlayAddress: string;
  readonly routes: string[];
  readonly publicKey: string;
  readonly index: number;
}
export interface TunnelSecretsMsg { readonly privateKey: string; readonly preSharedKey: string }
export interface TunnelSpecMsg {
  readonly kind: string;
  readonly variant: VariantName;
  readonly localAddress: string;
  readonly overlayAddress: string;
  readonly peers: TunnelPeerMsg[];
  readonly secrets: TunnelSecretsMsg;
  /** UDP port where the kind has one; 0 or absent: the kind's default. */
  readonly port?: number;
  /** VXLAN / GENEVE network identifier; 0 or absent: derived from the scope. */
  readonly vni?: number;
}
export interface FilterSpecMsg {
  readonly kind: string;
  readonly allow: Array<{ readonly src: string; readonly dst: string }>;
  readonly extraRules: number;
  readonly guarded: string[];
  /** "port": the extra rules differ by destination port range; "" or absent: by address. */
  readonly ruleMatch?: string;
}
export interface HostStateMsg {
  readonly network: string;
  readonly containerCidr: string;
  readonly containers: ContainerSpecMsg[];
  readonly tunnel: TunnelSpecMsg;
  readonly filter: FilterSpecMsg;
}

export interface ApplyResult {
  readonly changed: boolean;
  readonly timings: ReadonlyArray<{ readonly component: string; readonly kind: string; readonly variant: string; readonly seconds: number; readonly changed: boolean }>;
  readonly tunnelVariant: string;
  readonly filterVariant: string;
  readonly mtu: number;
  readonly tunnelVersion: string;
  readonly filterVersion: string;
}

export interface WorkloadSpecMsg {
  readonly kind: string;
  readonly engine: string;
  readonly protocol: string;
  readonly payload: number;
  readonly durationMs: number;
  readonly params: Record<string, string>;
  readonly seed: number;
}

export interface WorkloadPairMsg {
  readonly pair: string;
  readonly sourceContainer: string;
  readonly sourceAddress: string;
  readonly sinkContainer: string;
  readonly sinkAddress: string;
  readonly port: number;
}

export interface RunWorkloadMsg {
  readonly requestId: string;
  readonly scope: string;
  readonly runId: string;
  readonly role: RoleName;
  readonly workload: WorkloadSpecMsg;
  readonly pairs: WorkloadPairMsg[];
  readonly timeoutMs: number;
}

export interface MetricMsg { readonly name: string; readonly value: number; readonly unit: string; readonly flow: string }
export interface SeriesMsg { readonly name: string; readonly unit: string; readonly values: readonly number[]; readonly intervalS: number }
export interface PairResultMsg {
  readonly pair: string;
  readonly metrics: readonly MetricMsg[];
  readonly series: readonly SeriesMsg[];
  readonly tool: string;
  readonly toolVersion: string;
  readonly rawOutput: string;
  readonly startedAt: number;
  readonly endedAt: number;
  readonly argv: readonly string[];
}

export interface WorkloadEventMsg {
  readonly ready?: { readonly pairs: readonly string[]; readonly at: number } | null | undefined;
  readonly progress?: { readonly pair: string; readonly fraction: number; readonly note: string } | null | undefined;
  readonly result?: PairResultMsg | null | undefined;
  readonly error?: { readonly pair: string; readonly code: string; readonly message: string; readonly rawOutput: string } | null | undefined;
}

export interface CpuTimesMsg {
  readonly name: string;
  readonly usr: number; readonly sys: number; readonly idle: number; readonly wai: number;
  readonly hiq: number; readonly siq: number; readonly stl: number;
}

export interface MetricsSampleMsg {
  readonly timestamp: number;
  readonly intervalS: number;
  readonly cpu: CpuTimesMsg | null;
  readonly cores: readonly CpuTimesMsg[];
  readonly memory: { readonly used: number; readonly free: number; readonly buffers: number; readonly cached: number } | null;
  readonly interruptsPerS: number;
  readonly contextSwitchesPerS: number;
  readonly interfaces: ReadonlyArray<{ readonly netns: string; readonly name: string; readonly rxBytesPerS: number; readonly txBytesPerS: number; readonly rxPacketsPerS: number; readonly txPacketsPerS: number }>;
  /** The agent process's own CPU use, percent of all cores (absent from older agents). */
  readonly agentCpu?: number;
  /** Samples the agent dropped for this slow reader since the stream began (cumulative). */
  readonly dropped?: number;
}

export interface LinkCallOptions {
  readonly deadlineMs?: number;
  readonly signal?: AbortSignal;
}

/** What the controller calls on one agent; `connectAgent()` from @seconet/agent returns one. */
export interface AgentLink {
  readonly name: string;
  /**
   * performance.now() when the agent last answered a call or sent a stream message, and when a
   * call last failed other than by the caller's cancel. A link without them (a test double) is
   * health-checked every interval; with them, an agent heard from since the last check is not
   * asked again (registry.ts).
   */
  readonly lastHeardAt?: number | undefined;
  readonly lastFailedAt?: number | undefined;
  getInfo(opts?: LinkCallOptions): Promise<AgentInfo>;
  apply(req: { requestId: string; scope: string; state: HostStateMsg }, opts?: LinkCallOptions): Promise<ApplyResult>;
  teardown(req: { requestId: string; scope: string }, opts?: LinkCallOptions): Promise<{ readonly removed: readonly string[]; readonly seconds: number }>;
  gc(req: { requestId: string; keepScopes: string[] }, opts?: LinkCallOptions): Promise<{ readonly removed: readonly string[]; readonly removedScopes: readonly string[] }>;
  runWorkload(req: RunWorkloadMsg, opts?: LinkCallOptions): AsyncIterable<WorkloadEventMsg>;
  streamMetrics(req: { intervalMs: number; scope: string; buffer: number }, opts?: LinkCallOptions): AsyncIterable<MetricsSampleMsg>;
  /** Underlay capture for the wire check; absent on links that cannot capture (then the check is recorded as not done). */
  startCapture?(req: StartCaptureMsg, opts?: LinkCallOptions): Promise<{ readonly captureId: string; readonly device: string; readonly netns: string }>;
  stopCapture?(req: { requestId: string; captureId: string }, opts?: LinkCallOptions): Promise<CaptureResultMsg>;
  waitReady(deadlineMs: number): Promise<void>;
  close(): void;
}

export interface StartCaptureMsg {
  readonly requestId: string;
  readonly scope: string;
  readonly marker: Buffer;
  readonly peers: string[];
  readonly maxDurationMs: number;
}

export interface CaptureResultMsg {
  readonly packets: number;
  readonly markerPackets: number;
  readonly encapsulations: ReadonlyArray<{ readonly name: string; readonly packets: number; readonly markerPackets: number }>;
  readonly device: string;
  readonly argv: readonly string[];
  readonly truncated: boolean;
}

export function variantName(v: string | number): 'kernel' | 'userspace' | '' {
  if (v === 'VARIANT_KERNEL' || v === 1) return 'kernel';
  if (v === 'VARIANT_USERSPACE' || v === 2) return 'userspace';
  return '';
}
