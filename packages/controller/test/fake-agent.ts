// A scriptable in-memory agent for the controller's tests: records every call, answers Apply
// with timings, plays sinks (ready, then wait) and sources (one result per pair), and lets a
// test make it leak denied pairs, fail a run, or die.
import type { AgentInfo, AgentLink, ApplyResult, CaptureResultMsg, HostStateMsg, StartCaptureMsg, LinkCallOptions, MetricsSampleMsg, RunWorkloadMsg, WorkloadEventMsg } from '../src/agents/contract.js';

export interface FakeBehaviour {
  /** Denied pairs (ids d*) answer as if the filter let them through. */
  leak?: boolean;
  /** Throw UNAVAILABLE on RunWorkload source calls for these run ids. */
  failRuns?: Set<string>;
  /** Source calls of these run ids answer each pair with an error event of this code (as an agent reports a bad payload). */
  runErrors?: Map<string, string>;
  /** Value of the main metric for a run (default 1). */
  value?: (runId: string, pair: string) => number;
  /** The agent is down: every call fails with UNAVAILABLE. */
  down?: boolean;
  /** Source results arrive after this many ms (default 5). */
  sourceDelayMs?: number;
  /** Sources never answer (until the call is cancelled). */
  hang?: boolean;
  /** The underlay capture reports the pre-flight marker in clear (a tunnel leaking plaintext). */
  wireLeak?: boolean;
  /** Pad each pair's raw output to this many bytes (to fill a small store disk). */
  rawBytes?: number;
  /** This many pre-flight probes (run ids "pre...") find allowed pairs cut off, as during an underlay cut. */
  cutPreflights?: number;
  /**
   * StreamMetrics samples on a fixed grid (start + k x interval) and, when it wakes a whole
   * interval or more late (a starved process), counts the ticks it missed in `dropped`, as an
   * agent counts the samples its buffer lost: no sample goes missing uncounted.
   */
  metricsGrid?: boolean;
  /** GetInfo reports these tunnel kinds unavailable but undetermined: their probe timed out (as in a loaded guest). */
  undeterminedTunnels?: readonly string[];
}

export interface Call {
  readonly method: string;
  readonly scope?: string;
  readonly runId?: string;
  readonly role?: string;
  readonly pairs?: readonly string[];
  readonly state?: HostStateMsg;
  readonly timeoutMs?: number;
}

function unavailable(name: string): Error {
  return Object.assign(new Error(`agent ${name} unavailable`), { code: 'UNAVAILABLE' });
}

function waitAbort(signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (!signal) return;
    if (signal.aborted) resolve();
    signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

export class FakeAgent implements AgentLink {
  readonly calls: Call[] = [];
  /** RunWorkload calls whose signal was aborted (cancellation reached the agent). */
  cancelled = 0;
  readonly scopes = new Set<string>();
  startedAt = 1;

  constructor(readonly name: string, readonly underlay: string, public behaviour: FakeBehaviour = {}) {}

  private check(): void {
    if (this.behaviour.down) throw unavailable(this.name);
  }

  private lastTunnel = 'none';

  async startCapture(req: StartCaptureMsg): Promise<{ captureId: string; device: string; netns: string }> {
    this.check();
    if (req.marker.length !== 16) throw Object.assign(new Error('marker: must be 4 to 16 bytes'), { code: 'INVALID_ARGUMENT' });
    return { captureId: `cap-${req.scope}`, device: 'eth0', netns: '' };
  }

  async stopCapture(): Promise<CaptureResultMsg> {
    this.check();
    const marker = this.behaviour.wireLeak ? 4 : 0;
    const name = this.lastTunnel === 'wireguard' ? 'WireGuard UDP 51820' : this.lastTunnel === 'vxlan' ? 'VXLAN UDP 4789' : 'plain ICMP';
    return { packets: 4, markerPackets: marker, encapsulations: [{ name, packets: 4, markerPackets: marker }], device: 'eth0', argv: ['tcpdump'], truncated: false };
  }

  async getInfo(): Promise<AgentInfo> {
    this.calls.push({ method: 'getInfo' });
    this.check();
    return {
      name: this.name, agentVersion: '0.1.0-test', kernel: '6.1.0-test', hostname: 'lab', namePrefix: 'snzz', underlayAddress: this.underlay,
      cpu: { model: 'Fake CPU', cores: 2 }, memoryBytes: 1 << 30,
      capabilities: [
        ...['bridge', 'routing'].map((kind) => ({ category: 'network', kind, variant: 'VARIANT_KERNEL', available: true, version: '', reason: '', engine: '' })),
        ...['vxlan', 'wireguard'].map((kind) => ({ category: 'tunnel', kind, variant: 'VARIANT_KERNEL', available: true, version: '', reason: '', engine: '' })),
        ...(this.behaviour.undeterminedTunnels ?? []).map((kind) => ({ category: 'tunnel', kind, variant: 'VARIANT_KERNEL', available: false, version: '', reason: `ip link add type ${kind}: timed out after 30000 ms`, engine: '', undetermined: true })),
        ...['iptables', 'nftables'].map((kind) => ({ category: 'filter', kind, variant: 'VARIANT_KERNEL', available: true, version: '', reason: '', engine: '' })),
        { category: 'workload', kind: 'latency-basic', variant: 'VARIANT_USERSPACE', available: true, version: '1', reason: '', engine: 'ping' },
        { category: 'workload', kind: 'throughput-basic', variant: 'VARIANT_USERSPACE', available: true, version: '3.12', reason: '', engine: 'iperf3' },
        { category: 'workload', kind: 'throughput-basic', variant: 'VARIANT_USERSPACE', available: false, version: '', reason: 'uperf is not installed', engine: 'uperf' },
      ],
      tools: [{ tool: 'iperf3', version: '3.12' }], startedAt: this.startedAt, scopes: [...this.scopes],
    };
  }

  async apply(req: { requestId: string; scope: string; state: HostStateMsg }): Promise<ApplyResult> {
    this.calls.push({ method: 'apply', scope: req.scope, state: req.state });
    this.check();
    this.lastTunnel = req.state.tunnel.kind;
    this.scopes.add(req.scope);
    return {
      changed: true,
      timings: [{ component: 'containers', kind: '', variant: 'VARIANT_KERNEL', seconds: 0.01, changed: true }, { component: 'filter', kind: req.state.filter.kind, variant: 'VARIANT_KERNEL', seconds: 0.002, changed: true }],
      tunnelVariant: req.state.tunnel.kind === 'wireguard' ? 'VARIANT_USERSPACE' : 'VARIANT_KERNEL',
      filterVariant: 'VARIANT_KERNEL', mtu: 1450, tunnelVersion: '', filterVersion: '',
    };
  }

  async teardown(req: { requestId: string; scope: string }): Promise<{ removed: string[]; seconds: number }> {
    this.calls.push({ method: 'teardown', scope: req.scope });
    this.check();
    this.scopes.delete(req.scope);
    return { removed: [], seconds: 0 };
  }

  async gc(req: { requestId: string; keepScopes: string[] }): Promise<{ removed: string[]; removedScopes: string[] }> {
    this.calls.push({ method: 'gc' });
    const gone = [...this.scopes].filter((s) => !req.keepScopes.includes(s));
    for (const s of gone) this.scopes.delete(s);
    return { removed: [], removedScopes: gone };
  }

  async *runWorkload(req: RunWorkloadMsg, opts?: LinkCallOptions): AsyncIterable<WorkloadEventMsg> {
    this.calls.push({ method: 'runWorkload', scope: req.scope, runId: req.runId, role: req.role, pairs: req.pairs.map((p) => p.pair), timeoutMs: req.timeoutMs });
    this.check();
    if (req.role === 'ROLE_SINK') {
      yield { ready: { pairs: req.pairs.map((p) => p.pair), at: Date.now() / 1000 } };
      await waitAbort(opts?.signal);
      this.cancelled++;
      return;
    }
    if (this.behaviour.failRuns?.has(req.runId)) throw unavailable(this.name);
    const code = this.behaviour.runErrors?.get(req.runId);
    if (code !== undefined) {
      for (const p of req.pairs) yield { error: { pair: p.pair, code, message: `scripted ${code} on ${this.name}`, rawOutput: '' } };
      return;
    }
    if (this.behaviour.hang) {
      await waitAbort(opts?.signal);
      this.cancelled++;
      return;
    }
    await new Promise((r) => setTimeout(r, this.behaviour.sourceDelayMs ?? 5));
    const cut = req.runId.startsWith('pre') && (this.behaviour.cutPreflights ?? 0) > 0;
    if (cut) this.behaviour.cutPreflights = this.behaviour.cutPreflights! - 1;
    for (const p of req.pairs) {
      if ((p.pair.startsWith('d') && !this.behaviour.leak) || cut) {
        yield { result: { pair: p.pair, metrics: [{ name: 'loss', value: 100, unit: '%', flow: '' }], series: [], tool: 'ping', toolVersion: 't', rawOutput: '100% packet loss', startedAt: 0, endedAt: 0, argv: ['ping'] } };
        continue;
      }
      const v = this.behaviour.value?.(req.runId, p.pair) ?? 1;
      const metric = req.workload.kind === 'latency-basic' ? 'rtt_avg' : 'throughput';
      yield {
        result: {
          pair: p.pair,
          metrics: [{ name: metric, value: v, unit: metric === 'rtt_avg' ? 'ms' : 'bit/s', flow: '' }, { name: 'loss', value: 0, unit: '%', flow: '' }],
          series: metric === 'rtt_avg' ? [{ name: 'rtt', unit: 'ms', values: [v, v], intervalS: 0 }] : [],
          tool: req.workload.engine, toolVersion: '1.0', rawOutput: `raw ${req.runId} ${p.pair}`.padEnd(this.behaviour.rawBytes ?? 0, '.'), startedAt: 1, endedAt: 2, argv: [req.workload.engine, p.sinkAddress],
        },
      };
    }
  }

  async *streamMetrics(req: { intervalMs: number }, opts?: LinkCallOptions): AsyncIterable<MetricsSampleMsg> {
    this.calls.push({ method: 'streamMetrics' });
    this.check();
    let ts = Date.now() / 1000;
    if (this.behaviour.metricsGrid) {
      yield* this.gridMetrics(req.intervalMs, opts?.signal);
      return;
    }
    while (!opts?.signal?.aborted) {
      yield {
        timestamp: ts, intervalS: req.intervalMs / 1000,
        cpu: { name: 'total', usr: 10, sys: 5, idle: 80, wai: 0, hiq: 0, siq: 5, stl: 0 }, cores: [],
        memory: { used: 100, free: 50, buffers: 1, cached: 2 }, interruptsPerS: 10, contextSwitchesPerS: 20,
        interfaces: [{ netns: '', name: 'eth0', rxBytesPerS: 1000, txBytesPerS: 2000, rxPacketsPerS: 1, txPacketsPerS: 2 }],
      };
      ts += 0.001;
      await Promise.race([new Promise((r) => setTimeout(r, req.intervalMs)), waitAbort(opts?.signal)]);
    }
  }

  private async *gridMetrics(intervalMs: number, signal: AbortSignal | undefined): AsyncIterable<MetricsSampleMsg> {
    const start = Date.now();
    let tick = 0;
    let dropped = 0;
    // One listener for the whole stream (not one per tick).
    const aborted = waitAbort(signal);
    while (!signal?.aborted) {
      const now = Date.now();
      const due = Math.floor((now - start) / intervalMs);
      if (due > tick) {
        dropped += due - tick;
        tick = due;
      }
      yield {
        timestamp: (start + tick * intervalMs) / 1000, intervalS: intervalMs / 1000, dropped,
        cpu: { name: 'total', usr: 10, sys: 5, idle: 80, wai: 0, hiq: 0, siq: 5, stl: 0 }, cores: [],
        memory: { used: 100, free: 50, buffers: 1, cached: 2 }, interruptsPerS: 10, contextSwitchesPerS: 20,
        interfaces: [{ netns: '', name: 'eth0', rxBytesPerS: 1000, txBytesPerS: 2000, rxPacketsPerS: 1, txPacketsPerS: 2 }],
      } as MetricsSampleMsg;
      tick++;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([new Promise((r) => (timer = setTimeout(r, Math.max(0, start + tick * intervalMs - Date.now())))), aborted]);
      clearTimeout(timer);
    }
  }

  async waitReady(): Promise<void> {
    this.check();
  }

  close(): void {}

  runsStarted(role = 'ROLE_SOURCE'): string[] {
    return this.calls.filter((c) => c.method === 'runWorkload' && c.role === role && !c.runId?.startsWith('pre')).map((c) => c.runId!);
  }
}

/** A pool of fake agents with the AgentPool interface the engine expects. */
export class FakePool {
  readonly agents: Map<string, FakeAgent>;
  constructor(names: readonly string[]) {
    this.agents = new Map(names.map((n, i) => [n, new FakeAgent(n, `198.18.0.${i + 1}`)]));
  }
  get(name: string): FakeAgent {
    const a = this.agents.get(name);
    if (!a) throw Object.assign(new Error(`no agent ${name}`), { code: 'NOT_FOUND' });
    return a;
  }
  async refresh(name: string): Promise<AgentInfo> {
    return this.get(name).getInfo();
  }
  info(name: string): AgentInfo | undefined {
    const a = this.agents.get(name);
    return a && !a.behaviour.down ? { name, agentVersion: '0.1.0-test', kernel: '6.1.0-test', hostname: 'lab', namePrefix: 'snzz', underlayAddress: a.underlay, cpu: null, memoryBytes: 1, capabilities: [], tools: [], startedAt: 1, scopes: [] } : undefined;
  }
}
