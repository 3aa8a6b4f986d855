// What each workload kind accepts and defaults to, and how a normalized workload entry
// expands over its list-valued parameters into WorkloadInstances. One table, so the
// parser's "does not apply" errors, the expansion and docs/spec.md cannot disagree.

import type { Engine, WorkloadInstance, WorkloadKind } from '../model.js';

export type WorkloadProtocol = 'tcp' | 'udp' | 'icmp';
export type WorkloadParam = 'duration' | 'protocol' | 'payload' | 'engine' | 'count' | 'interval' | 'clients' | 'parallel' | 'bitrate' | 'seed' | 'concurrency' | 'keepalive';

/** A workload entry after normalization (parseSpec output). */
export interface WorkloadEntry {
  readonly kind: WorkloadKind;
  /** Seconds of traffic per run. */
  readonly duration: number;
  readonly protocol: readonly WorkloadProtocol[];
  /** Absent for workloads whose model fixes the packet sizes (quake3, video). */
  readonly payload?: readonly number[];
  /** Absent: the controller chooses from agent capabilities (throughput kinds only). */
  readonly engine?: Engine;
  readonly count?: number;
  readonly interval?: number;
  readonly clients?: readonly number[];
  readonly parallel?: number;
  /** iperf3's target rate per stream (`-b`), e.g. "10M"; absent: unlimited TCP. */
  readonly bitrate?: string;
  readonly seed?: number;
  /** http: open connections per pair. */
  readonly concurrency?: number;
  /** http: reuse connections (default true); false opens one per request. */
  readonly keepalive?: boolean;
}

export interface WorkloadRule {
  readonly params: readonly WorkloadParam[];
  readonly protocols: readonly WorkloadProtocol[];
  readonly engines: readonly Engine[];
  readonly duration: number;
  readonly payload?: number;
  readonly clients?: readonly number[];
  readonly concurrency?: number;
  readonly summary: string;
}

export const DEFAULT_PAYLOAD = 653;

/** A target rate as iperf3's `-b` takes it (500K, 10M, 1.5G; 0 = unlimited): the spec's `bitrate` and the agent's parameter. */
export const BITRATE_PATTERN = '^[0-9]{1,6}(\\.[0-9]{1,3})?[KMG]?$';

export const WORKLOAD_RULES: Readonly<Record<WorkloadKind, WorkloadRule>> = {
  'latency-basic': { params: ['duration', 'count', 'interval', 'payload'], protocols: ['icmp'], engines: ['ping'], duration: 10, payload: DEFAULT_PAYLOAD, summary: 'ping RTT between each pair' },
  'throughput-basic': { params: ['duration', 'protocol', 'payload', 'engine', 'parallel', 'bitrate'], protocols: ['tcp', 'udp'], engines: ['uperf', 'iperf3'], duration: 10, payload: DEFAULT_PAYLOAD, summary: 'saturate the path, uperf or iperf3' },
  bursty: { params: ['duration', 'payload', 'seed'], protocols: ['udp'], engines: ['ditg'], duration: 10, payload: DEFAULT_PAYLOAD, summary: 'D-ITG 1 s on/off UDP bursts of 500 Kbps' },
  'tcp-100': { params: ['duration', 'payload'], protocols: ['tcp'], engines: ['ditg'], duration: 5, payload: DEFAULT_PAYLOAD, summary: 'D-ITG 100 TCP connections of ~500 Kbps' },
  quake3: { params: ['duration', 'seed'], protocols: ['udp'], engines: ['ditg'], duration: 10, summary: 'D-ITG Quake 3 model, 4 flows per pair' },
  video: { params: ['duration', 'seed'], protocols: ['tcp'], engines: ['ditg'], duration: 30, payload: 1370, summary: 'D-ITG 10 TCP video streams, seeded' },
  iperf3: { params: ['duration', 'protocol', 'payload', 'parallel', 'bitrate'], protocols: ['tcp', 'udp'], engines: ['iperf3'], duration: 10, payload: DEFAULT_PAYLOAD, summary: 'plain iperf3 between each pair' },
  'pairs-scale': { params: ['duration', 'protocol', 'payload', 'engine', 'parallel', 'bitrate'], protocols: ['tcp', 'udp'], engines: ['uperf', 'iperf3'], duration: 10, payload: DEFAULT_PAYLOAD, summary: 'throughput of all containers/2 pairs at once' },
  'clients-scale': { params: ['duration', 'protocol', 'payload', 'engine', 'clients', 'bitrate'], protocols: ['tcp', 'udp'], engines: ['uperf', 'iperf3'], duration: 10, payload: DEFAULT_PAYLOAD, clients: [50], summary: 'N clients against one server' },
  rr: { params: ['duration', 'payload'], protocols: ['tcp'], engines: ['sockperf'], duration: 10, payload: 64, summary: 'sockperf ping-pong: request/response transactions per second and latency percentiles (TCP_RR-style)' },
  http: { params: ['duration', 'concurrency', 'keepalive'], protocols: ['tcp'], engines: ['wrk'], duration: 20, concurrency: 100, summary: 'wrk against nginx in the sink: requests per second and latency percentiles' },
};

/** Default ping interval, seconds. */
export const DEFAULT_PING_INTERVAL = 0.2;

/**
 * The stable id of one instance, e.g. "throughput-basic/tcp/653", "clients-scale/tcp/653/50c",
 * and with a target rate "pairs-scale/tcp/653@2M" (so two entries differing only in bitrate differ).
 */
export function workloadInstanceId(kind: WorkloadKind, protocol: string, payload: number | undefined, clients: number | undefined, bitrate?: string): string {
  const parts: string[] = [kind, protocol];
  if (payload !== undefined) parts.push(String(payload));
  if (clients !== undefined) parts.push(`${clients}c`);
  return parts.join('/') + (bitrate === undefined ? '' : `@${bitrate}`);
}

/**
 * Expands one entry over protocol x payload x clients. `engine` is the resolved engine
 * (the entry's own, or the controller's choice); `seed` the spec seed for entries without one.
 */
export function workloadInstances(entry: WorkloadEntry, engine: Engine, seed: number): WorkloadInstance[] {
  const out: WorkloadInstance[] = [];
  const payloads: ReadonlyArray<number | undefined> = entry.payload ?? [undefined];
  const fixedPayload = WORKLOAD_RULES[entry.kind].payload ?? 0;
  const clientsList: ReadonlyArray<number | undefined> = entry.clients ?? [undefined];
  for (const protocol of entry.protocol) {
    for (const payload of payloads) {
      for (const clients of clientsList) {
        const params: Record<string, string> = {};
        if (entry.count !== undefined) params['count'] = String(entry.count);
        if (entry.interval !== undefined) params['interval'] = String(entry.interval);
        if (entry.parallel !== undefined) params['parallel'] = String(entry.parallel);
        if (entry.bitrate !== undefined) params['bitrate'] = entry.bitrate;
        if (clients !== undefined) params['clients'] = String(clients);
        if (entry.concurrency !== undefined) params['concurrency'] = String(entry.concurrency);
        if (entry.keepalive !== undefined) params['keepalive'] = String(entry.keepalive);
        out.push({
          id: workloadInstanceId(entry.kind, protocol, payload, clients, entry.bitrate),
          kind: entry.kind,
          engine,
          protocol,
          payload: payload ?? fixedPayload,
          durationMs: Math.round(entry.duration * 1000),
          params,
          seed: entry.seed ?? seed,
        });
      }
    }
  }
  return out;
}

/** Instance count of an entry without building them. */
export function instanceCount(entry: WorkloadEntry): number {
  return entry.protocol.length * (entry.payload?.length ?? 1) * (entry.clients?.length ?? 1);
}
