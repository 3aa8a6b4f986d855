// The agent daemon: seconet.agent.v1.AgentService over mutual TLS, in front of the reconciler,
// the workload runner and the metrics sampler. It owns the daemon's life cycle:
//
//   lock stateDir -> bind (answers UNAVAILABLE) -> reconciler (loads the journal) ->
//   startup GC keeping applied scopes -> bpffs -> serving -> stop: UNAVAILABLE, cancel
//   streams, drain unary calls (bounded), reconciler.close(), unmount bpffs, release lock.
//
// Handlers only translate: the call gate (call-gate.ts) checks request_id on mutating calls,
// logs the request, counts it for the drain at stop and maps errors to statuses (status.ts). The
// reconciler and the workload/metrics functions are injectable so the server can be tested
// with fakes and with the real drivers alike.

import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { SeconetError, invalid } from '@seconet/core';
import { hostEnvFromConfig, parseListen, type AgentConfig } from '../config.js';
import type { CapabilityReport, ContainerHandle, ProbeContext } from '../driver.js';
import type { HostEnv } from '../host-env.js';
import { createReconciler } from '../reconciler/reconciler.js';
import type { ReconcilerApi } from '../reconciler/types.js';
import { ExecRunner, type Runner } from '../runner/runner.js';
import { runWorkload as defaultRunWorkload, probeWorkloads as defaultProbeWorkloads, type WorkloadDeps } from '../workloads/index.js';
import { streamMetrics as defaultStreamMetrics, type MetricsDeps } from '../metrics/index.js';
import { createInfoSource } from '../capabilities/info.js';
import { createCaptureManager } from '../capture/capture.js';
import type { AgentServiceHandlers } from '../gen/seconet/agent/v1/AgentService.js';
import type { RunWorkloadRequest__Output } from '../gen/seconet/agent/v1/RunWorkloadRequest.js';
import type { StreamMetricsRequest__Output } from '../gen/seconet/agent/v1/StreamMetricsRequest.js';
import type { WorkloadEvent } from '../gen/seconet/agent/v1/WorkloadEvent.js';
import type { MetricsSample } from '../gen/seconet/agent/v1/MetricsSample.js';
import { ensureBpffs } from '../solutions/bpffs.js';
import { unmountBpffs } from './bpffs.js';
import { createAgentLogger } from './logger.js';
import { loadAgentProto } from './proto.js';
import { acquirePrefixLock, acquireStateLock } from './state-lock.js';
import { createCallGate, type CallGate, type Phase } from './call-gate.js';
import { createPeerAuthorizer } from './peer-identity.js';

export interface ReconcilerDeps {
  readonly env: HostEnv;
  readonly runner: Runner;
  readonly log: Logger;
}

export type ReconcilerFactory = (deps: ReconcilerDeps) => ReconcilerApi | Promise<ReconcilerApi>;

export interface StartAgentOptions {
  readonly runner?: Runner;
  /** Default: a pino logger from the config (logLevel, logFile) with secrets redacted. */
  readonly log?: Logger;
  /** Default: createReconciler from reconciler/reconciler.ts. */
  readonly createReconciler?: ReconcilerFactory;
  readonly runWorkload?: typeof defaultRunWorkload;
  readonly probeWorkloads?: typeof defaultProbeWorkloads;
  readonly streamMetrics?: typeof defaultStreamMetrics;
  /** How long stop() lets running unary calls finish before cutting them (default 30 s). */
  readonly shutdownGraceMs?: number;
  /** Where the machine-wide prefix locks live (default /run/seconet/prefixes). */
  readonly prefixLockDir?: string;
  /** Skip mounting env.bpffs (tests of the server alone). */
  readonly skipBpffs?: boolean;
}

export interface RunningAgent {
  readonly name: string;
  /** host:port actually bound (port 0 in the config becomes the chosen port). */
  readonly address: string;
  readonly port: number;
  readonly log: Logger;
  /** Probes capabilities and tool versions again (after a tool was installed); GetInfo answers from the cache otherwise. */
  refreshInfo(): Promise<void>;
  /** Graceful stop; safe to call more than once. */
  stop(): Promise<void>;
}

interface Locks {
  release(): void;
}

function acquireLocks(env: HostEnv, prefixLockDir: string | undefined): Locks {
  const lock = acquireStateLock(env.stateDir, env.name);
  try {
    const prefixLock = acquirePrefixLock(env.prefix, env.name, prefixLockDir);
    return {
      release: () => {
        prefixLock.release();
        lock.release();
      },
    };
  } catch (e) {
    lock.release();
    throw e;
  }
}

interface HandlerDeps {
  readonly env: HostEnv;
  readonly runner: Runner;
  readonly log: Logger;
  readonly info: ReturnType<typeof createInfoSource>;
  readonly captures: ReturnType<typeof createCaptureManager>;
  readonly runWorkload: typeof defaultRunWorkload;
  readonly streamMetrics: typeof defaultStreamMetrics;
}

/** The service's handlers: each translates one RPC to the layer below, through the call gate. */
function buildHandlers(gate: CallGate<ReconcilerApi>, d: HandlerDeps): AgentServiceHandlers {
  const workloadDeps = (rec: ReconcilerApi): WorkloadDeps => {
    // One lookup table per call and scope: rec.containers() rebuilds every handle of the scope
    // (names are hashes), and asking it once per pair made a 1,000-pair call quadratic: ~15 s
    // of a held event loop before the first tool started, past the client's keepalive timeout.
    const byScope = new Map<string, ReadonlyMap<string, ContainerHandle>>();
    return {
      env: d.env,
      runner: d.runner,
      log: d.log.child({ component: 'workloads' }),
      resolveContainer: (scope, name) => {
        let m = byScope.get(scope);
        if (m === undefined) {
          m = new Map(rec.containers(scope).map((c) => [c.spec.name, c]));
          byScope.set(scope, m);
        }
        return m.get(name);
      },
    };
  };
  const metricsDeps = (rec: ReconcilerApi): MetricsDeps => ({
    env: d.env,
    runner: d.runner,
    log: d.log.child({ component: 'metrics' }),
    scopeNamespaces: (scope) => rec.containers(scope).map((c) => c.netns),
  });
  return {
    GetInfo: gate.unary('GetInfo', false, () => d.info.getInfo()),
    Apply: gate.unary('Apply', true, (rec, req) => rec.apply(req)),
    Check: gate.unary('Check', false, (rec, req) => rec.check(req)),
    Teardown: gate.unary('Teardown', true, (rec, req) => rec.teardown(req)),
    GC: gate.unary('GC', true, (rec, req) => rec.gc(req)),
    RunWorkload: gate.serverStream<RunWorkloadRequest__Output, WorkloadEvent>('RunWorkload', true, async (rec, req, write, signal) => {
      await d.runWorkload(workloadDeps(rec), req, (e) => void write(e), signal);
    }),
    StreamMetrics: gate.serverStream<StreamMetricsRequest__Output, MetricsSample>('StreamMetrics', false, async (rec, req, write, signal) => {
      for await (const sample of d.streamMetrics(metricsDeps(rec), req, signal)) {
        if (signal.aborted) break;
        await write(sample);
      }
    }),
    StartCapture: gate.unary('StartCapture', true, (_rec, req) => d.captures.start(req)),
    StopCapture: gate.unary('StopCapture', true, (_rec, req) => d.captures.stop(req)),
  };
}

/** Binds the mTLS listener; resolves to the port actually bound. */
async function bindServer(server: grpc.Server, config: AgentConfig, handlers: AgentServiceHandlers): Promise<number> {
  const creds = grpc.ServerCredentials.createSsl(
    readFileSync(config.tls.ca),
    [{ cert_chain: readFileSync(config.tls.cert), private_key: readFileSync(config.tls.key) }],
    true,
  );
  server.addService(loadAgentProto().seconet.agent.v1.AgentService.service, handlers);
  return new Promise<number>((resolve, reject) =>
    server.bindAsync(config.listen, creds, (err, p) => (err ? reject(new SeconetError('UNAVAILABLE', `listen: cannot bind ${config.listen}: ${err.message}`, { field: 'listen', cause: err })) : resolve(p))),
  );
}

/** Removes what crashed runs left (keeping the scopes the journal says are applied); a failure is logged, not fatal. */
async function startupGc(reconciler: ReconcilerApi, log: Logger): Promise<void> {
  const keep = reconciler.scopes();
  try {
    const gc = await reconciler.gc({ requestId: 'startup', keepScopes: keep });
    log.info({ kept: keep, removed: gc.removed?.length ?? 0, removedScopes: gc.removedScopes ?? [] }, 'startup GC done');
  } catch (err) {
    log.error({ err }, 'startup GC failed; objects of a crashed run may remain until the next GC');
  }
}

/** Mounts the agent's bpffs; false (logged) when it cannot, BPF building blocks are then unavailable. */
async function mountBpffs(runner: Runner, env: HostEnv, log: Logger): Promise<boolean> {
  try {
    await ensureBpffs(runner, env);
    return true;
  } catch (err) {
    log.warn({ err, path: env.bpffs }, 'could not mount bpffs; BPF building blocks will be unavailable');
    return false;
  }
}

interface StopDeps {
  readonly server: grpc.Server;
  readonly gate: CallGate<ReconcilerApi>;
  readonly log: Logger;
  readonly graceMs: number;
  /** Closes what the agent runs (captures, reconciler) and releases mounts and locks. */
  readonly close: () => Promise<void>;
  readonly setPhase: (p: Phase) => void;
}

/** Graceful stop: UNAVAILABLE for new calls, streams cancelled, unary calls drained (bounded), then close. */
function createStop(d: StopDeps): () => Promise<void> {
  let stopping: Promise<void> | undefined;
  return () => {
    stopping ??= (async () => {
      d.setPhase('stopping');
      d.log.info({ inflight: d.gate.inflight(), streams: d.gate.streams() }, 'agent stopping');
      d.gate.abortStreams();
      const shut = new Promise<void>((resolve) => d.server.tryShutdown(() => resolve()));
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), d.graceMs)));
      const r = await Promise.race([Promise.all([shut, d.gate.drained()]), timedOut]);
      clearTimeout(timer);
      if (r === 'timeout') {
        d.log.warn({ inflight: d.gate.inflight(), graceMs: d.graceMs }, 'calls still running after the grace period; closing their connections');
        d.server.forceShutdown();
      }
      await d.close();
      d.setPhase('stopped');
      d.log.info('agent stopped');
      d.log.flush?.();
    })();
    return stopping;
  };
}

/** Starts the agent; resolves once it serves (startup GC done). */
export async function startAgent(config: AgentConfig, opts: StartAgentOptions = {}): Promise<RunningAgent> {
  const log = opts.log ?? createAgentLogger(config);
  const runner = opts.runner ?? new ExecRunner(log);
  const env = hostEnvFromConfig(config);
  const { host } = parseListen('listen', config.listen);
  if (env.hostNetns !== undefined && !existsSync(`/run/netns/${env.hostNetns}`)) {
    throw invalid('hostNetns', `network namespace ${env.hostNetns} does not exist (ip netns list)`);
  }
  const locks = acquireLocks(env, opts.prefixLockDir);
  let phase: Phase = 'starting';
  let reconciler: ReconcilerApi | undefined;
  let bpffsMounted = false;
  const peers = createPeerAuthorizer(config);
  // Every call, every time: the certificate must name an accepted controller and not be revoked.
  const gate = createCallGate<ReconcilerApi>(
    env.name,
    log,
    () => (phase === 'serving' ? reconciler : undefined),
    () => phase,
    (call) => peers.authorize(call.getAuthContext?.()?.sslPeerCertificate),
  );
  const server = new grpc.Server({ 'grpc.keepalive_time_ms': 30_000, 'grpc.keepalive_timeout_ms': 10_000, 'grpc.max_receive_message_length': 64 << 20 });
  const probeWorkloads = opts.probeWorkloads ?? defaultProbeWorkloads;
  const probeCtx: ProbeContext = { env, runner, log: log.child({ component: 'probe' }) };
  const info = createInfoSource({
    env,
    runner,
    log,
    probes: [(): Promise<CapabilityReport[]> => (reconciler ? reconciler.probe() : Promise.resolve([])), (): Promise<CapabilityReport[]> => probeWorkloads(probeCtx)],
    scopes: () => reconciler?.scopes() ?? [],
    startedAt: Date.now() / 1000,
  });
  const captures = createCaptureManager({ env, runner, log: log.child({ component: 'capture' }), controlPorts: [] });
  const handlers = buildHandlers(gate, { env, runner, log, info, captures, runWorkload: opts.runWorkload ?? defaultRunWorkload, streamMetrics: opts.streamMetrics ?? defaultStreamMetrics });

  const releaseAll = async (): Promise<void> => {
    if (bpffsMounted) {
      await unmountBpffs(runner, env.bpffs).catch((err: unknown) => log.warn({ err, path: env.bpffs }, 'could not unmount bpffs'));
      bpffsMounted = false;
    }
    locks.release();
  };

  let port: number;
  try {
    mkdirSync(env.runDir, { recursive: true, mode: 0o700 });
    port = await bindServer(server, config, handlers);
    log.info({ listen: config.listen, port }, 'listening (starting)');
    reconciler = await (opts.createReconciler ?? createReconciler)({ env, runner, log: log.child({ component: 'reconciler' }) });
    await startupGc(reconciler, log);
    if (opts.skipBpffs !== true) bpffsMounted = await mountBpffs(runner, env, log);
  } catch (err) {
    phase = 'stopped';
    server.forceShutdown();
    await reconciler?.close().catch((e: unknown) => log.error({ err: e }, 'reconciler close after a failed start failed'));
    await releaseAll();
    throw err;
  }
  phase = 'serving';
  log.info({ name: env.name, prefix: env.prefix, port, scopes: reconciler.scopes() }, 'agent serving');

  const rec = reconciler;
  const close = async (): Promise<void> => {
    await captures.close().catch((err: unknown) => log.error({ err }, 'capture close failed'));
    await rec.close().catch((err: unknown) => log.error({ err }, 'reconciler close failed'));
    await releaseAll();
  };
  const stop = createStop({ server, gate, log, graceMs: opts.shutdownGraceMs ?? 30_000, close, setPhase: (p) => (phase = p) });
  const refreshInfo = async (): Promise<void> => {
    await info.getInfo({ refresh: true });
  };
  return { name: env.name, address: `${host}:${port}`, port, log, refreshInfo, stop };
}
