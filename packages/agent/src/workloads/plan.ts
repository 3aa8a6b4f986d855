// A WorkloadSpec resolved into a plan: the kind's engine checked (never switched), defaults
// filled in, every parameter parsed and range-checked, so the engines only build argv from
// values known to be sane. docs/workloads.md holds the same table for users; errors name the
// proto field (`workload.params.rateKbps`).

import { BITRATE_PATTERN, SeconetError, WORKLOAD_KINDS, type Engine, type WorkloadKind } from '@seconet/core';
import type { WorkloadSpec__Output } from '../gen/seconet/agent/v1/WorkloadSpec.js';

export type Protocol = 'tcp' | 'udp' | 'icmp';

/** Engines that can run each kind; the first is the default when the spec leaves it empty and it is the only one. */
export const KIND_ENGINES: Readonly<Record<WorkloadKind, readonly Engine[]>> = {
  'latency-basic': ['ping'],
  'throughput-basic': ['uperf', 'iperf3'],
  iperf3: ['iperf3'],
  bursty: ['ditg'],
  'tcp-100': ['ditg'],
  quake3: ['ditg'],
  video: ['ditg'],
  'pairs-scale': ['iperf3', 'uperf', 'ping'],
  'clients-scale': ['iperf3', 'uperf', 'ping'],
  rr: ['sockperf'],
  http: ['wrk'],
};

/** D-ITG kinds and the transport each uses. */
const DITG_PROTOCOL: Readonly<Record<string, Protocol>> = { bursty: 'udp', 'tcp-100': 'tcp', quake3: 'udp', video: 'tcp' };

/** iperf3 `-b` values (the spec's bitrate pattern). */
const BITRATE_RE = new RegExp(BITRATE_PATTERN);

export const DEFAULT_PAYLOAD = 653;
/** rr's message size when the spec leaves it out (the spec's default too). */
export const RR_PAYLOAD = 64;
/** The paper's largest payload (and `video`'s): it crosses every tunnel's MTU unfragmented. */
export const PAPER_MAX_PAYLOAD = 1370;
/** Jumbo frames (MTU 9000) less IP and UDP headers; the container MTU usually caps lower. */
export const MAX_PAYLOAD = 8972;
export const MIN_PAYLOAD = 16;
export const MIN_DURATION_MS = 500;
export const MAX_DURATION_MS = 3_600_000;

export interface PingParams {
  readonly intervalS: number;
  readonly count: number;
  readonly waitS: number;
  /** Hex bytes filling the payload (ping -p), or undefined for ping's default fill. */
  readonly pattern?: string | undefined;
}

export interface Iperf3Params {
  readonly streams: number;
  readonly reverse: boolean;
  /** -b value for UDP ("0" = unlimited) or a TCP pacing cap; undefined: none. */
  readonly bitrate: string | undefined;
  /** -M value; undefined: the kernel's MSS. */
  readonly mss: number | undefined;
  /** Whether mss came from the payload (the default), so it may be clamped to the path. */
  readonly mssFromPayload: boolean;
  readonly omitS: number;
  /** `--pacing-timer` (µs) of a paced sender, set per call by its crowding (iperf3PacingTimerUs); undefined: iperf3's 1 ms. */
  readonly pacingTimerUs?: number | undefined;
}

export interface UperfParams {
  readonly nthreads: number;
}

export interface DitgParams {
  /** Flows (bursty, tcp-100, quake3) or video streams. */
  readonly flows: number;
  readonly rateKbps: number;
  readonly onMs: number;
  readonly offMs: number;
  readonly flowsPerProcess: number;
  readonly gbPerHour: number;
}

export interface HttpParams {
  /** Open connections of wrk (-c). */
  readonly concurrency: number;
  /** wrk threads (-t); never more than the connections. */
  readonly threads: number;
  /** false: wrk sends `Connection: close`, so every request opens a new TCP connection. */
  readonly keepalive: boolean;
  /** Bytes of the body nginx answers `GET /` with (612: nginx's welcome page). */
  readonly bodyBytes: number;
  /**
   * The L7 policy probe (`probe: l7`, the pre-flight of an l7-http cell): instead of wrk's load,
   * curl sends `GET /`, `POST /` and `GET /l7-denied` once each and reports their statuses.
   */
  readonly probe: boolean;
}

export interface WorkloadPlan {
  readonly kind: WorkloadKind;
  readonly engine: Engine;
  readonly protocol: Protocol;
  readonly payload: number;
  readonly durationMs: number;
  readonly seed: number;
  readonly ping: PingParams;
  readonly iperf3: Iperf3Params;
  readonly uperf: UperfParams;
  readonly ditg: DitgParams;
  readonly http: HttpParams;
}

/** ping -p: 1 to 16 bytes in hex that fill the payload (the controller's wire-check marker). */
function pingPattern(v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  if (!/^(?:[0-9a-f]{2}){1,16}$/.test(v)) throw bad('workload.params.pattern', `${JSON.stringify(v.slice(0, 40))} is not 1 to 16 bytes in lowercase hex (e.g. 736e2d6d61726b6572)`);
  return v;
}

function bad(field: string, msg: string): SeconetError {
  return new SeconetError('INVALID_ARGUMENT', `${field}: ${msg}`, { field });
}

class Params {
  private readonly used = new Set<string>();
  constructor(private readonly raw: Readonly<Record<string, string>>) {}

  private get(name: string): string | undefined {
    this.used.add(name);
    const v = this.raw[name];
    return v === undefined || v === '' ? undefined : v;
  }

  num(name: string, def: number, min: number, max: number, integer = true): number {
    const s = this.get(name);
    if (s === undefined) return def;
    const v = Number(s);
    if (!/^\d+(\.\d+)?$/.test(s) || !Number.isFinite(v) || (integer && !Number.isInteger(v)) || v < min || v > max) {
      throw bad(`workload.params.${name}`, `${JSON.stringify(s)} is not ${integer ? 'an integer' : 'a number'} in ${min}..${max}`);
    }
    return v;
  }

  bool(name: string, def: boolean): boolean {
    const s = this.get(name);
    if (s === undefined) return def;
    if (s === 'true' || s === '1') return true;
    if (s === 'false' || s === '0') return false;
    throw bad(`workload.params.${name}`, `${JSON.stringify(s)} is not true or false`);
  }

  str(name: string): string | undefined {
    return this.get(name);
  }

  /** Parameters the workload does not know are an error, not silently ignored. */
  checkUnknown(allowed: readonly string[]): void {
    for (const k of Object.keys(this.raw)) {
      if (!allowed.includes(k)) throw bad(`workload.params.${k}`, `unknown parameter; this workload takes ${allowed.length ? allowed.join(', ') : 'none'}`);
    }
  }
}

const PARAMS_BY_ENGINE: Readonly<Record<Engine, readonly string[]>> = {
  ping: ['interval', 'count', 'wait', 'pattern'],
  iperf3: ['streams', 'parallel', 'reverse', 'bitrate', 'mss', 'omit'],
  uperf: ['nthreads', 'parallel'],
  ditg: ['flows', 'rateKbps', 'onMs', 'offMs', 'flowsPerProcess', 'gbPerHour'],
  sockperf: [],
  wrk: ['concurrency', 'threads', 'keepalive', 'bodyBytes', 'probe'],
};

/** The whole-seconds engines (iperf3 `-t`, uperf `duration="Ns"`). */
function wholeSeconds(engine: Engine): boolean {
  return engine === 'iperf3' || engine === 'uperf' || engine === 'sockperf' || engine === 'wrk';
}

/** Defaults when `durationMs` is 0, as in the experiment spec (docs/spec.md). */
export function defaultDurationMs(kind: WorkloadKind): number {
  return kind === 'tcp-100' ? 5000 : kind === 'video' ? 30_000 : kind === 'http' ? 20_000 : 10_000;
}

function httpProbe(v: string | undefined): boolean {
  if (v === undefined || v === '') return false;
  if (v === 'l7') return true;
  throw bad('workload.params.probe', `${JSON.stringify(v)} is not a probe: the only one is "l7" (the l7-http filter's pre-flight)`);
}

/** Validates and resolves a spec; MTU-dependent payload limits are applied by `fitPlanToMtu`. */
export function resolvePlan(spec: WorkloadSpec__Output | null | undefined): WorkloadPlan {
  if (!spec) throw bad('workload', 'missing');
  const kind = spec.kind as WorkloadKind;
  if (!(WORKLOAD_KINDS as readonly string[]).includes(spec.kind)) throw bad('workload.kind', `${JSON.stringify(spec.kind)} is not a workload (${WORKLOAD_KINDS.join(', ')})`);
  const engines = KIND_ENGINES[kind];
  let engine: Engine;
  if (spec.engine === '') {
    if (engines.length !== 1) throw bad('workload.engine', `${kind} runs on ${engines.join(' or ')}: choose one explicitly`);
    engine = engines[0]!;
  } else if ((engines as readonly string[]).includes(spec.engine)) {
    engine = spec.engine as Engine;
  } else {
    throw bad('workload.engine', `${JSON.stringify(spec.engine)} cannot run ${kind} (use ${engines.join(' or ')})`);
  }

  let protocol: Protocol;
  const fixed = DITG_PROTOCOL[kind];
  if (engine === 'ping') {
    if (spec.protocol !== '' && spec.protocol !== 'icmp') throw bad('workload.protocol', `ping measures ICMP; leave it empty or "icmp", not ${JSON.stringify(spec.protocol)}`);
    protocol = 'icmp';
  } else if (kind === 'rr' || kind === 'http') {
    // The sinks' readiness is a listening TCP socket, and HTTP is TCP.
    if (spec.protocol !== '' && spec.protocol !== 'tcp') throw bad('workload.protocol', `${kind} runs over tcp, not ${JSON.stringify(spec.protocol)}`);
    protocol = 'tcp';
  } else if (fixed !== undefined) {
    if (spec.protocol !== '' && spec.protocol !== fixed) throw bad('workload.protocol', `${kind} is ${fixed} traffic, not ${JSON.stringify(spec.protocol)}`);
    protocol = fixed;
  } else {
    if (spec.protocol !== '' && spec.protocol !== 'tcp' && spec.protocol !== 'udp') throw bad('workload.protocol', `${JSON.stringify(spec.protocol)} is not tcp or udp`);
    protocol = spec.protocol === 'udp' ? 'udp' : 'tcp';
  }

  const payload = spec.payload === 0 ? (kind === 'video' ? PAPER_MAX_PAYLOAD : kind === 'rr' ? RR_PAYLOAD : DEFAULT_PAYLOAD) : spec.payload;
  if (!Number.isInteger(payload) || payload < MIN_PAYLOAD || payload > MAX_PAYLOAD) {
    throw bad('workload.payload', `${spec.payload} B is out of range (${MIN_PAYLOAD}-${MAX_PAYLOAD} B, and at most what the container MTU carries unfragmented; the paper uses up to ${PAPER_MAX_PAYLOAD} B)`);
  }

  const durationMs = spec.durationMs === 0 ? defaultDurationMs(kind) : spec.durationMs;
  if (!Number.isInteger(durationMs) || durationMs < MIN_DURATION_MS || durationMs > MAX_DURATION_MS) {
    throw bad('workload.durationMs', `${spec.durationMs} ms is out of range (${MIN_DURATION_MS}-${MAX_DURATION_MS}, 0 for the default)`);
  }
  if (wholeSeconds(engine) && durationMs % 1000 !== 0) throw bad('workload.durationMs', `${engine} runs whole seconds: use a multiple of 1000 ms, not ${durationMs}`);

  const p = new Params(spec.params ?? {});
  p.checkUnknown(kind === 'clients-scale' ? [...PARAMS_BY_ENGINE[engine], 'clients'] : PARAMS_BY_ENGINE[engine]);
  // The controller makes one pair per client; the count is checked, the pairs are what run.
  if (kind === 'clients-scale') p.num('clients', 1, 1, 1024);
  const parallel = p.num('parallel', 1, 1, 128);
  const intervalS = p.num('interval', 0.2, 0.002, 60, false);
  const ping: PingParams = {
    intervalS,
    count: p.num('count', Math.max(1, Math.round(durationMs / 1000 / intervalS)), 1, 1_000_000),
    waitS: p.num('wait', 1, 1, 30),
    pattern: pingPattern(p.str('pattern')),
  };

  const bitrate = p.str('bitrate');
  if (bitrate !== undefined && !BITRATE_RE.test(bitrate)) throw bad('workload.params.bitrate', `${JSON.stringify(bitrate)} is not a rate like 500K, 100M, 1.5G or 0 (unlimited)`);
  const mssRaw = p.str('mss') ?? 'payload';
  let mss: number | undefined;
  if (mssRaw === 'payload') mss = protocol === 'tcp' && payload >= 88 ? payload : undefined;
  else if (mssRaw === 'auto') mss = undefined;
  else {
    mss = Number(mssRaw);
    if (!/^\d+$/.test(mssRaw) || mss < 88 || mss > 9000) throw bad('workload.params.mss', `${JSON.stringify(mssRaw)} is not "payload", "auto" or an MSS in 88..9000`);
  }
  const iperf3: Iperf3Params = {
    streams: p.num('streams', parallel, 1, 128),
    reverse: p.bool('reverse', false),
    bitrate: bitrate ?? (protocol === 'udp' ? '0' : undefined),
    mss,
    mssFromPayload: mssRaw === 'payload',
    omitS: p.num('omit', 0, 0, 60),
  };

  const uperf: UperfParams = { nthreads: p.num('nthreads', parallel, 1, 128) };

  const defaultFlows = kind === 'tcp-100' ? 100 : kind === 'quake3' ? 4 : kind === 'video' ? 10 : 1;
  const ditg: DitgParams = {
    flows: p.num('flows', defaultFlows, 1, 1000),
    rateKbps: p.num('rateKbps', 500, 1, 10_000_000, false),
    onMs: p.num('onMs', 1000, 1, 3_600_000),
    offMs: p.num('offMs', 1000, 1, 3_600_000),
    flowsPerProcess: p.num('flowsPerProcess', 10, 1, 100),
    gbPerHour: p.num('gbPerHour', 3, 0.001, 1000, false),
  };

  const concurrency = p.num('concurrency', 100, 1, 10_000);
  const http: HttpParams = {
    concurrency,
    threads: Math.min(concurrency, p.num('threads', 1, 1, 64)),
    keepalive: p.bool('keepalive', true),
    bodyBytes: p.num('bodyBytes', 612, 0, 4000),
    probe: httpProbe(p.str('probe')),
  };

  const seed = Number(spec.seed ?? 0);
  return { kind, engine, protocol, payload, durationMs, seed: Number.isFinite(seed) ? seed : 0, ping, iperf3, uperf, ditg, http };
}

/** Largest payload that crosses a link of `mtu` without fragmenting (IPv4 header 20 B, no options). */
export function maxPayloadForMtu(mtu: number, protocol: Protocol): number {
  const l4 = protocol === 'tcp' ? 20 : 8;
  return mtu - 20 - l4;
}

/**
 * Fits a plan to the smallest container MTU of a call (docs/spec.md, "Payload and path MTU").
 * TCP never fragments: a payload above the path's MSS is written as asked and cut into
 * segments of the MSS, and where the MSS is pinned to the payload (iperf3 `-M`, the default)
 * the pin is clamped to the path, so the returned plan carries the effective segment size. An
 * MSS the user set explicitly above the path is refused. UDP datagrams above the path would
 * fragment: refused (the controller skips such runs at plan time; this is the agent's guard).
 */
export function fitPlanToMtu(plan: WorkloadPlan, mtu: number, where: string): WorkloadPlan {
  if (plan.kind === 'quake3') return plan; // the Quake3 model picks its own packet sizes
  const max = maxPayloadForMtu(mtu, plan.protocol);
  if (plan.protocol === 'tcp') {
    const mss = plan.iperf3.mss;
    if (mss === undefined || mss <= max) return plan;
    if (!plan.iperf3.mssFromPayload) throw bad('workload.params.mss', `${mss} B is above what ${where} carries (MTU ${mtu}: an MSS of at most ${max} B); lower it or use "payload" to clamp to the path`);
    return { ...plan, iperf3: { ...plan.iperf3, mss: max } };
  }
  if (plan.payload > max) {
    throw bad('workload.payload', `${plan.payload} B does not fit ${where} (MTU ${mtu}: at most ${max} B of ${plan.protocol} payload without fragmenting)`);
  }
  return plan;
}
