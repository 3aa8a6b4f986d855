// The agent daemon: seconet.agent.v1.AgentService over mutual TLS, in front of the reconciler,
// the workload runner and the metrics sampler. It owns the daemon's life cycle:
//
//   lock stateDir -> bind (answers UNAVAILABLE) -> reconciler (loads the journal) ->
//   startup GC keeping applied scopes -> bpffs -> serving -> stop: UNAVAILABLE, cancel
//   streams, drain unary calls (bounded), reconciler.close(), unmount bpffs, release lock.
//
// Handlers only translate: they check request_id on mutating calls, log the request (secrets
// redacted by the logger), call the layer below and map errors to statuses (status.ts). The
// reconciler and the workload/metrics functions are injectable so the server can be tested
// with fakes and with the real drivers alike.

import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { SeconetError, invalid } from '@seconet/core';
import { hostEnvFromConfig, parseListen, type AgentConfig } from '../config.js';
import type { CapabilityReport, ProbeContext } from '../driver.js';
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
import { toServiceError } from './status.js';
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

type Phase = 'starting' | 'serving' | 'stopping' | 'stopped';

const REQUEST_ID_RE = /^[A-Za-z0-9._:-]{1,128}$/;

function requireRequestId(v: string): void {
  if (v === '') throw invalid('request_id', "is required on every mutating request (1-128 letters, digits, '.', '_', ':' or '-', e.g. a UUID)");
  if (!REQUEST_ID_RE.test(v)) throw invalid('request_id', `${JSON.stringify(v.slice(0, 40))}: use 1-128 letters, digits, '.', '_', ':' or '-'`);
}

type AnyCall = grpc.ServerUnaryCall<unknown, unknown> | grpc.ServerWritableStream<unknown, unknown>;

/** Who called: the address and the CN of the client certificate (mTLS guarantees there is one). */
function caller(call: AnyCall): { peer: string; client: string | undefined } {
  const cn = call.getAuthContext?.()?.sslPeerCertificate?.subject?.CN;
  return { peer: call.getPeer(), client: Array.isArray(cn) ? cn.join(',') : cn };
}

function unavailable(name: string, phase: Phase): Partial<grpc.StatusObject> {
  return { code: grpc.status.UNAVAILABLE, details: `agent ${name} is ${phase}; retry shortly` };
}

/** Starts the agent; resolves once it serves (startup GC done). */
export async function startAgent(config: AgentConfig, opts: StartAgentOptions = {}): Promise<RunningAgent> {
  const log = opts.log ?? createAgentLogger(config);
  const runner = opts.runner ?? new ExecRunner(log);
  const env = hostEnvFromConfig(config);
  const { host } = parseListen('listen', config.listen);
  const startedAt = Date.now() / 1000;
  const graceMs = opts.shutdownGraceMs ?? 30_000;
  const runWorkload = opts.runWorkload ?? defaultRunWorkload;
  const probeWorkloads = opts.probeWorkloads ?? defaultProbeWorkloads;
  const streamMetrics = opts.streamMetrics ?? defaultStreamMetrics;

  if (env.hostNetns !== undefined && !existsSync(`/run/netns/${env.hostNetns}`)) {
    throw invalid('hostNetns', `network namespace ${env.hostNetns} does not exist (ip netns list)`);
  }

  const lock = acquireStateLock(env.stateDir, env.name);
  let prefixLock: ReturnType<typeof acquirePrefixLock>;
  try {
    prefixLock = acquirePrefixLock(env.prefix, env.name, opts.prefixLockDir);
  } catch (e) {
    lock.release();
    throw e;
  }
  let phase: Phase = 'starting';
  let reconciler: ReconcilerApi | undefined;
  let bpffsMounted = false;
  let inflight = 0;
  let idle: (() => void) | undefined;
  const streams = new Set<AbortController>();
  const server = new grpc.Server({
    'grpc.keepalive_time_ms': 30_000,
    'grpc.keepalive_timeout_ms': 10_000,
    'grpc.max_receive_message_length': 64 << 20,
  });

  const peers = createPeerAuthorizer(config);
  /** Every call, every time: the certificate must name an accepted controller and not be revoked. */
  const authorize = (call: AnyCall): void => {
    peers.authorize(call.getAuthContext?.()?.sslPeerCertificate);
  };

  const ready = (): ReconcilerApi | undefined => (phase === 'serving' ? reconciler : undefined);

  const unary = <Req, Res>(method: string, mutating: boolean, fn: (rec: ReconcilerApi, req: Req) => Promise<Res>): grpc.handleUnaryCall<Req, Res> => {
    return (call, callback) => {
      const rec = ready();
      if (rec === undefined) return callback(unavailable(env.name, phase));
      const req = call.request as Req & { requestId?: string; scope?: string };
      const ctx = { method, requestId: req.requestId, scope: req.scope, ...caller(call) };
      try {
        authorize(call);
      } catch (err) {
        callback(toServiceError(err, log, ctx));
        return;
      }
      const t0 = performance.now();
      inflight++;
      log.debug({ ...ctx, request: req }, 'request');
      void (async () => {
        try {
          if (mutating) requireRequestId(req.requestId ?? '');
          const res = await fn(rec, req);
          log.info({ ...ctx, ms: Math.round(performance.now() - t0) }, 'request done');
          callback(null, res);
        } catch (err) {
          callback(toServiceError(err, log, { ...ctx, ms: Math.round(performance.now() - t0) }));
        } finally {
          if (--inflight === 0) idle?.();
        }
      })();
    };
  };

  const serverStream = <Req, Msg>(
    method: string,
    mutating: boolean,
    fn: (rec: ReconcilerApi, req: Req, write: (m: Msg) => Promise<void>, signal: AbortSignal) => Promise<void>,
  ): grpc.handleServerStreamingCall<Req, Msg> => {
    return (call) => {
      const rec = ready();
      if (rec === undefined) {
        call.emit('error', unavailable(env.name, phase));
        return;
      }
      const req = call.request as Req & { requestId?: string; scope?: string; runId?: string };
      const ctx = { method, requestId: req.requestId, scope: req.scope, runId: req.runId, ...caller(call) };
      try {
        authorize(call);
      } catch (err) {
        call.emit('error', toServiceError(err, log, ctx));
        return;
      }
      const ac = new AbortController();
      streams.add(ac);
      let cancelled = false;
      call.on('cancelled', () => {
        cancelled = true;
        ac.abort();
      });
      const write = (m: Msg): Promise<void> => {
        if (ac.signal.aborted) return Promise.resolve();
        if (call.write(m)) return Promise.resolve();
        return new Promise<void>((resolve) => {
          const done = (): void => {
            call.off('drain', done);
            ac.signal.removeEventListener('abort', done);
            resolve();
          };
          call.on('drain', done);
          ac.signal.addEventListener('abort', done, { once: true });
        });
      };
      log.debug({ ...ctx, request: req }, 'stream started');
      void (async () => {
        try {
          if (mutating) requireRequestId(req.requestId ?? '');
          await fn(rec, req, write, ac.signal);
          if (cancelled) return;
          if (ac.signal.aborted) call.emit('error', unavailable(env.name, 'stopping'));
          else call.end();
          log.info({ ...ctx }, 'stream ended');
        } catch (err) {
          if (cancelled) {
            log.info({ ...ctx }, 'stream cancelled by the client');
            return;
          }
          if (ac.signal.aborted && phase !== 'serving') call.emit('error', unavailable(env.name, 'stopping'));
          else call.emit('error', toServiceError(err, log, ctx));
        } finally {
          streams.delete(ac);
        }
      })();
    };
  };

  const workloadDeps = (rec: ReconcilerApi): WorkloadDeps => ({
    env,
    runner,
    log: log.child({ component: 'workloads' }),
    resolveContainer: (scope, name) => rec.containers(scope).find((c) => c.spec.name === name),
  });
  const metricsDeps = (rec: ReconcilerApi): MetricsDeps => ({
    env,
    runner,
    log: log.child({ component: 'metrics' }),
    scopeNamespaces: (scope) => rec.containers(scope).map((c) => c.netns),
  });
  const probeCtx: ProbeContext = { env, runner, log: log.child({ component: 'probe' }) };
  const info = createInfoSource({
    env,
    runner,
    log,
    probes: [
      (): Promise<CapabilityReport[]> => (reconciler ? reconciler.probe() : Promise.resolve([])),
      (): Promise<CapabilityReport[]> => probeWorkloads(probeCtx),
    ],
    scopes: () => reconciler?.scopes() ?? [],
    startedAt,
  });

  const captures = createCaptureManager({ env, runner, log: log.child({ component: 'capture' }), controlPorts: [] });
  const handlers: AgentServiceHandlers = {
    GetInfo: unary('GetInfo', false, () => info.getInfo()),
    Apply: unary('Apply', true, (rec, req) => rec.apply(req)),
    Check: unary('Check', false, (rec, req) => rec.check(req)),
    Teardown: unary('Teardown', true, (rec, req) => rec.teardown(req)),
    GC: unary('GC', true, (rec, req) => rec.gc(req)),
    RunWorkload: serverStream<RunWorkloadRequest__Output, WorkloadEvent>('RunWorkload', true, async (rec, req, write, signal) => {
      await runWorkload(workloadDeps(rec), req, (e) => void write(e), signal);
    }),
    StreamMetrics: serverStream<StreamMetricsRequest__Output, MetricsSample>('StreamMetrics', false, async (rec, req, write, signal) => {
      for await (const sample of streamMetrics(metricsDeps(rec), req, signal)) {
        if (signal.aborted) break;
        await write(sample);
      }
    }),
    StartCapture: unary('StartCapture', true, (_rec, req) => captures.start(req)),
    StopCapture: unary('StopCapture', true, (_rec, req) => captures.stop(req)),
  };

  const releaseAll = async (): Promise<void> => {
    if (bpffsMounted) {
      await unmountBpffs(runner, env.bpffs).catch((err: unknown) => log.warn({ err, path: env.bpffs }, 'could not unmount bpffs'));
      bpffsMounted = false;
    }
    prefixLock.release();
    lock.release();
  };

  let port: number;
  try {
    mkdirSync(env.runDir, { recursive: true, mode: 0o700 });
    const creds = grpc.ServerCredentials.createSsl(
      readFileSync(config.tls.ca),
      [{ cert_chain: readFileSync(config.tls.cert), private_key: readFileSync(config.tls.key) }],
      true,
    );
    server.addService(loadAgentProto().seconet.agent.v1.AgentService.service, handlers);
    port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(config.listen, creds, (err, p) => (err ? reject(new SeconetError('UNAVAILABLE', `listen: cannot bind ${config.listen}: ${err.message}`, { field: 'listen', cause: err })) : resolve(p))),
    );
    log.info({ listen: config.listen, port }, 'listening (starting)');

    reconciler = await (opts.createReconciler ?? createReconciler)({ env, runner, log: log.child({ component: 'reconciler' }) });
    const keep = reconciler.scopes();
    try {
      const gc = await reconciler.gc({ requestId: 'startup', keepScopes: keep });
      log.info({ kept: keep, removed: gc.removed?.length ?? 0, removedScopes: gc.removedScopes ?? [] }, 'startup GC done');
    } catch (err) {
      log.error({ err }, 'startup GC failed; objects of a crashed run may remain until the next GC');
    }
    if (opts.skipBpffs !== true) {
      try {
        await ensureBpffs(runner, env);
        bpffsMounted = true;
      } catch (err) {
        log.warn({ err, path: env.bpffs }, 'could not mount bpffs; BPF building blocks will be unavailable');
      }
    }
  } catch (err) {
    phase = 'stopped';
    server.forceShutdown();
    await reconciler?.close().catch(() => undefined);
    await releaseAll();
    throw err;
  }
  phase = 'serving';
  log.info({ name: env.name, prefix: env.prefix, port, scopes: reconciler.scopes() }, 'agent serving');

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      phase = 'stopping';
      log.info({ inflight, streams: streams.size }, 'agent stopping');
      for (const ac of streams) ac.abort();
      const shut = new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
      const drained = inflight === 0 ? Promise.resolve() : new Promise<void>((resolve) => (idle = resolve));
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), graceMs)));
      const r = await Promise.race([Promise.all([shut, drained]), timedOut]);
      clearTimeout(timer);
      if (r === 'timeout') {
        log.warn({ inflight, graceMs }, 'calls still running after the grace period; closing their connections');
        server.forceShutdown();
      }
      await captures.close().catch((err: unknown) => log.error({ err }, 'capture close failed'));
      await reconciler!.close().catch((err: unknown) => log.error({ err }, 'reconciler close failed'));
      await releaseAll();
      phase = 'stopped';
      log.info('agent stopped');
      log.flush?.();
    })();
    return stopping;
  };

  const refreshInfo = async (): Promise<void> => {
    await info.getInfo({ refresh: true });
  };
  return { name: env.name, address: `${host}:${port}`, port, log, refreshInfo, stop };
}
