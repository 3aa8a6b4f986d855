// connectAgent: the controller's typed client for one agent (client/types.ts). Unary calls are
// promises, streams are async iterables; every failure is a SeconetError whose code follows
// the gRPC status (errors.ts). Only UNAVAILABLE is retried, only for unary calls (they are
// idempotent by contract: level-based state plus request_id), a few times with backoff,
// within the caller's deadline. Keepalive pings make a dead agent (host down, SIGKILL, cable)
// fail the calls on it within seconds instead of hanging until a deadline.

import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { SeconetError, sleep } from '@seconet/core';
import type { AgentServiceClient } from '../gen/seconet/agent/v1/AgentService.js';
import type { ApplyRequest } from '../gen/seconet/agent/v1/ApplyRequest.js';
import type { ApplyResponse__Output } from '../gen/seconet/agent/v1/ApplyResponse.js';
import type { CheckRequest } from '../gen/seconet/agent/v1/CheckRequest.js';
import type { CheckResponse__Output } from '../gen/seconet/agent/v1/CheckResponse.js';
import type { GCRequest } from '../gen/seconet/agent/v1/GCRequest.js';
import type { GCResponse__Output } from '../gen/seconet/agent/v1/GCResponse.js';
import type { GetInfoRequest } from '../gen/seconet/agent/v1/GetInfoRequest.js';
import type { GetInfoResponse__Output } from '../gen/seconet/agent/v1/GetInfoResponse.js';
import type { StartCaptureRequest } from '../gen/seconet/agent/v1/StartCaptureRequest.js';
import type { StartCaptureResponse__Output } from '../gen/seconet/agent/v1/StartCaptureResponse.js';
import type { StopCaptureRequest } from '../gen/seconet/agent/v1/StopCaptureRequest.js';
import type { StopCaptureResponse__Output } from '../gen/seconet/agent/v1/StopCaptureResponse.js';
import type { TeardownRequest } from '../gen/seconet/agent/v1/TeardownRequest.js';
import type { TeardownResponse__Output } from '../gen/seconet/agent/v1/TeardownResponse.js';
import { loadAgentProto } from '../server/proto.js';
import { fromGrpcError } from './errors.js';
import type { AgentClient, AgentEndpoint, CallOptions } from './types.js';

export interface ConnectOptions {
  /** Attempts for a unary call that meets UNAVAILABLE (default 4). */
  readonly attempts?: number;
  /** First backoff delay; doubles per attempt (default 250 ms). */
  readonly backoffMs?: number;
  /** Deadline of GetInfo when the caller gives none (first call probes the host: default 120 s). */
  readonly getInfoDeadlineMs?: number;
}

type Callback<T> = (err: grpc.ServiceError | null, value?: T) => void;
type UnaryMethod<Req, Res> = (req: Req, md: grpc.Metadata, options: grpc.CallOptions, cb: Callback<Res>) => grpc.ClientUnaryCall;


function cancelledError(agent: string, method: string): SeconetError {
  return new SeconetError('CANCELLED', `${method} on agent ${agent} was cancelled by the caller`, { details: { agent, method } });
}

export function connectAgent(endpoint: AgentEndpoint, connect: ConnectOptions = {}): AgentClient {
  const attempts = Math.max(1, connect.attempts ?? 4);
  const backoffMs = connect.backoffMs ?? 250;
  const creds = grpc.credentials.createSsl(readFileSync(endpoint.tls.ca), readFileSync(endpoint.tls.key), readFileSync(endpoint.tls.cert));
  const serverName = endpoint.serverName ?? endpoint.name;
  const Ctor = loadAgentProto().seconet.agent.v1.AgentService;
  const raw: AgentServiceClient = new Ctor(endpoint.address, creds, {
    'grpc.ssl_target_name_override': serverName,
    'grpc.default_authority': serverName,
    'grpc.keepalive_time_ms': 10_000,
    'grpc.keepalive_timeout_ms': 5_000,
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.http2.max_pings_without_data': 0,
    'grpc.initial_reconnect_backoff_ms': 200,
    'grpc.max_reconnect_backoff_ms': 5_000,
    'grpc.max_receive_message_length': 64 << 20,
    // Retries are ours (UNAVAILABLE only, with backoff); grpc-js's own would double them.
    'grpc.enable_retries': 0,
  });
  const agent = endpoint.name;
  // When this client last heard from the agent (a unary answer, a stream message) and when a
  // call last failed other than by the caller's cancel: performance.now() times. The
  // controller's health checks skip an agent it hears from anyway (contract.ts AgentLink).
  let heardAt: number | undefined;
  let failedAt: number | undefined;

  const unary = async <Req, Res>(method: string, fn: UnaryMethod<Req, Res>, req: Req, opts: CallOptions = {}, defaultDeadlineMs?: number): Promise<Res> => {
    const deadlineMs = opts.deadlineMs ?? defaultDeadlineMs;
    const deadline = deadlineMs === undefined ? undefined : Date.now() + deadlineMs;
    let last: SeconetError | undefined;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if (opts.signal?.aborted) throw cancelledError(agent, method);
      try {
        return await new Promise<Res>((resolve, reject) => {
          const call = fn.call(raw, req, new grpc.Metadata(), deadline === undefined ? {} : { deadline }, (err, value) => {
            opts.signal?.removeEventListener('abort', onAbort);
            if (err) reject(err);
            else {
              heardAt = performance.now();
              resolve(value as Res);
            }
          });
          function onAbort(): void {
            call.cancel();
          }
          opts.signal?.addEventListener('abort', onAbort, { once: true });
        });
      } catch (e) {
        if (opts.signal?.aborted) throw cancelledError(agent, method);
        failedAt = performance.now();
        last = fromGrpcError(e, agent, method);
        if (last.code !== 'UNAVAILABLE' || attempt === attempts) throw last;
        const wait = backoffMs * 2 ** (attempt - 1);
        if (deadline !== undefined && Date.now() + wait >= deadline) throw last;
        await sleep(wait, opts.signal);
      }
    }
    throw last ?? new SeconetError('INTERNAL', `${method}: no attempt made`);
  };

  async function* stream<T>(method: string, start: (options: grpc.CallOptions) => grpc.ClientReadableStream<T>, opts: CallOptions = {}): AsyncGenerator<T> {
    if (opts.signal?.aborted) return;
    const call = start(opts.deadlineMs === undefined ? {} : { deadline: Date.now() + opts.deadlineMs });
    const onAbort = (): void => call.cancel();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    let ended = false;
    try {
      for await (const msg of call as AsyncIterable<T>) {
        if (opts.signal?.aborted) break;
        heardAt = performance.now();
        yield msg;
      }
      ended = !(opts.signal?.aborted ?? false);
    } catch (e) {
      ended = true;
      // A cancellation the caller asked for ends the iteration quietly: the caller knows.
      if (opts.signal?.aborted) return;
      failedAt = performance.now();
      throw fromGrpcError(e, agent, method);
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
      if (!ended) call.cancel();
    }
  }

  return {
    name: agent,
    get lastHeardAt() {
      return heardAt;
    },
    get lastFailedAt() {
      return failedAt;
    },
    getInfo: (opts) => unary<GetInfoRequest, GetInfoResponse__Output>('GetInfo', raw.getInfo, {}, opts, connect.getInfoDeadlineMs ?? 120_000),
    apply: (req, opts) => unary<ApplyRequest, ApplyResponse__Output>('Apply', raw.apply, req, opts),
    check: (req, opts) => unary<CheckRequest, CheckResponse__Output>('Check', raw.check, req, opts),
    teardown: (req, opts) => unary<TeardownRequest, TeardownResponse__Output>('Teardown', raw.teardown, req, opts),
    gc: (req, opts) => unary<GCRequest, GCResponse__Output>('GC', raw.gc, req, opts),
    runWorkload: (req, opts) => stream('RunWorkload', (o) => raw.runWorkload(req, o), opts),
    streamMetrics: (req, opts) => stream('StreamMetrics', (o) => raw.streamMetrics(req, o), opts),
    startCapture: (req, opts) => unary<StartCaptureRequest, StartCaptureResponse__Output>('StartCapture', raw.startCapture, req, opts),
    stopCapture: (req, opts) => unary<StopCaptureRequest, StopCaptureResponse__Output>('StopCapture', raw.stopCapture, req, opts),
    waitReady: (deadlineMs) =>
      new Promise<void>((resolve, reject) =>
        raw.waitForReady(Date.now() + deadlineMs, (err) =>
          err ? reject(new SeconetError('UNAVAILABLE', `agent ${agent} at ${endpoint.address} not reachable within ${deadlineMs} ms: ${err.message}`, { cause: err, details: { agent } })) : resolve(),
        ),
      ),
    close: () => raw.close(),
  };
}
