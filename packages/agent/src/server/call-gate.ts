// The gate every RPC passes: refused with UNAVAILABLE unless the agent is serving, request_id
// checked on mutating calls, the request logged (secrets redacted by the logger), the call
// counted while it runs (stop drains them), streams cancellable by the client and by stop, and
// errors mapped to statuses in one place (status.ts).

import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { invalid } from '@seconet/core';
import { toServiceError } from './status.js';

export type Phase = 'starting' | 'serving' | 'stopping' | 'stopped';

const REQUEST_ID_RE = /^[A-Za-z0-9._:-]{1,128}$/;

export function requireRequestId(v: string): void {
  if (v === '') throw invalid('request_id', "is required on every mutating request (1-128 letters, digits, '.', '_', ':' or '-', e.g. a UUID)");
  if (!REQUEST_ID_RE.test(v)) throw invalid('request_id', `${JSON.stringify(v.slice(0, 40))}: use 1-128 letters, digits, '.', '_', ':' or '-'`);
}

type AnyCall = grpc.ServerUnaryCall<unknown, unknown> | grpc.ServerWritableStream<unknown, unknown>;

/** Who called: the address and the CN of the client certificate (mTLS guarantees there is one). */
function caller(call: grpc.ServerUnaryCall<unknown, unknown> | grpc.ServerWritableStream<unknown, unknown>): { peer: string; client: string | undefined } {
  const cn = call.getAuthContext?.()?.sslPeerCertificate?.subject?.CN;
  return { peer: call.getPeer(), client: Array.isArray(cn) ? cn.join(',') : cn };
}

function unavailable(name: string, phase: Phase): Partial<grpc.StatusObject> {
  return { code: grpc.status.UNAVAILABLE, details: `agent ${name} is ${phase}; retry shortly` };
}

export interface CallGate<T> {
  unary<Req, Res>(method: string, mutating: boolean, fn: (target: T, req: Req) => Promise<Res>): grpc.handleUnaryCall<Req, Res>;
  serverStream<Req, Msg>(method: string, mutating: boolean, fn: (target: T, req: Req, write: (m: Msg) => Promise<void>, signal: AbortSignal) => Promise<void>): grpc.handleServerStreamingCall<Req, Msg>;
  /** Unary calls running now. */
  inflight(): number;
  /** Streams open now. */
  streams(): number;
  /** Aborts every open stream (they end with UNAVAILABLE). */
  abortStreams(): void;
  /** Resolves when no unary call runs. */
  drained(): Promise<void>;
}

interface GateState<T> {
  readonly name: string;
  readonly log: Logger;
  readonly target: () => T | undefined;
  readonly phase: () => Phase;
  /** Throws unless the caller's certificate names an accepted, unrevoked controller. */
  readonly authorize: (call: AnyCall) => void;
  inflight: number;
  idle: (() => void) | undefined;
  readonly streams: Set<AbortController>;
}

function unaryCall<T, Req, Res>(g: GateState<T>, method: string, mutating: boolean, fn: (t: T, req: Req) => Promise<Res>): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    const t = g.target();
    if (t === undefined) return callback(unavailable(g.name, g.phase()));
    const req = call.request as Req & { requestId?: string; scope?: string };
    const ctx = { method, requestId: req.requestId, scope: req.scope, ...caller(call) };
    try {
      g.authorize(call);
    } catch (err) {
      callback(toServiceError(err, g.log, ctx));
      return;
    }
    const t0 = performance.now();
    g.inflight++;
    g.log.debug({ ...ctx, request: req }, 'request');
    void (async () => {
      try {
        if (mutating) requireRequestId(req.requestId ?? '');
        const res = await fn(t, req);
        g.log.info({ ...ctx, ms: Math.round(performance.now() - t0) }, 'request done');
        callback(null, res);
      } catch (err) {
        callback(toServiceError(err, g.log, { ...ctx, ms: Math.round(performance.now() - t0) }));
      } finally {
        if (--g.inflight === 0) g.idle?.();
      }
    })();
  };
}

/**
 * A write that waits for the stream to drain (or for the abort), so a slow client slows the producer.
 * Writers blocked at the same time share one wait: a run of many pairs emitting at once adds one
 * `drain` and one `abort` listener, not one per pair.
 */
function streamWriter<Msg>(call: grpc.ServerWritableStream<unknown, Msg>, signal: AbortSignal): (m: Msg) => Promise<void> {
  let waiting: Promise<void> | undefined;
  const drained = (): Promise<void> =>
    (waiting ??= new Promise<void>((resolve) => {
      const done = (): void => {
        call.off('drain', done);
        signal.removeEventListener('abort', done);
        waiting = undefined;
        resolve();
      };
      call.on('drain', done);
      signal.addEventListener('abort', done, { once: true });
    }));
  return (m) => {
    if (signal.aborted || call.write(m)) return Promise.resolve();
    return drained();
  };
}

function streamCall<T, Req, Msg>(
  g: GateState<T>,
  method: string,
  mutating: boolean,
  fn: (t: T, req: Req, write: (m: Msg) => Promise<void>, signal: AbortSignal) => Promise<void>,
): grpc.handleServerStreamingCall<Req, Msg> {
  return (call) => {
    const t = g.target();
    if (t === undefined) {
      call.emit('error', unavailable(g.name, g.phase()));
      return;
    }
    const req = call.request as Req & { requestId?: string; scope?: string; runId?: string };
    const ctx = { method, requestId: req.requestId, scope: req.scope, runId: req.runId, ...caller(call) };
    try {
      g.authorize(call);
    } catch (err) {
      call.emit('error', toServiceError(err, g.log, ctx));
      return;
    }
    const ac = new AbortController();
    g.streams.add(ac);
    let cancelled = false;
    call.on('cancelled', () => {
      cancelled = true;
      ac.abort();
    });
    g.log.debug({ ...ctx, request: req }, 'stream started');
    void (async () => {
      try {
        if (mutating) requireRequestId(req.requestId ?? '');
        await fn(t, req, streamWriter(call as grpc.ServerWritableStream<unknown, Msg>, ac.signal), ac.signal);
        if (cancelled) return;
        if (ac.signal.aborted) call.emit('error', unavailable(g.name, 'stopping'));
        else call.end();
        g.log.info({ ...ctx }, 'stream ended');
      } catch (err) {
        if (cancelled) return g.log.info({ ...ctx }, 'stream cancelled by the client');
        if (ac.signal.aborted && g.phase() !== 'serving') call.emit('error', unavailable(g.name, 'stopping'));
        else call.emit('error', toServiceError(err, g.log, ctx));
      } finally {
        g.streams.delete(ac);
      }
    })();
  };
}

/** `target()` is what handlers act on, or undefined while the agent does not serve (then `phase()` says why). */
export function createCallGate<T>(
  name: string,
  log: Logger,
  target: () => T | undefined,
  phase: () => Phase,
  authorize: (call: AnyCall) => void = () => undefined,
): CallGate<T> {
  const g: GateState<T> = { name, log, target, phase, authorize, inflight: 0, idle: undefined, streams: new Set() };
  return {
    unary: (method, mutating, fn) => unaryCall(g, method, mutating, fn),
    serverStream: (method, mutating, fn) => streamCall(g, method, mutating, fn),
    inflight: () => g.inflight,
    streams: () => g.streams.size,
    abortStreams: () => {
      for (const ac of g.streams) ac.abort();
    },
    drained: () => (g.inflight === 0 ? Promise.resolve() : new Promise<void>((resolve) => (g.idle = resolve))),
  };
}
