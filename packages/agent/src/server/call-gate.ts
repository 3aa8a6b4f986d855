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

/** `target()` is what handlers act on, or undefined while the agent does not serve (then `phase()` says why). */
export function createCallGate<T>(name: string, log: Logger, target: () => T | undefined, phase: () => Phase): CallGate<T> {
  let inflight = 0;
  let idle: (() => void) | undefined;
  const streams = new Set<AbortController>();

  const unary = <Req, Res>(method: string, mutating: boolean, fn: (t: T, req: Req) => Promise<Res>): grpc.handleUnaryCall<Req, Res> => (call, callback) => {
    const t = target();
    if (t === undefined) return callback(unavailable(name, phase()));
    const req = call.request as Req & { requestId?: string; scope?: string };
    const ctx = { method, requestId: req.requestId, scope: req.scope, ...caller(call) };
    const t0 = performance.now();
    inflight++;
    log.debug({ ...ctx, request: req }, 'request');
    void (async () => {
      try {
        if (mutating) requireRequestId(req.requestId ?? '');
        const res = await fn(t, req);
        log.info({ ...ctx, ms: Math.round(performance.now() - t0) }, 'request done');
        callback(null, res);
      } catch (err) {
        callback(toServiceError(err, log, { ...ctx, ms: Math.round(performance.now() - t0) }));
      } finally {
        if (--inflight === 0) idle?.();
      }
    })();
  };

  const serverStream = <Req, Msg>(
    method: string,
    mutating: boolean,
    fn: (t: T, req: Req, write: (m: Msg) => Promise<void>, signal: AbortSignal) => Promise<void>,
  ): grpc.handleServerStreamingCall<Req, Msg> => (call) => {
    const t = target();
    if (t === undefined) {
      call.emit('error', unavailable(name, phase()));
      return;
    }
    const req = call.request as Req & { requestId?: string; scope?: string; runId?: string };
    const ctx = { method, requestId: req.requestId, scope: req.scope, runId: req.runId, ...caller(call) };
    const ac = new AbortController();
    streams.add(ac);
    let cancelled = false;
    call.on('cancelled', () => {
      cancelled = true;
      ac.abort();
    });
    const write = (m: Msg): Promise<void> => {
      if (ac.signal.aborted || call.write(m)) return Promise.resolve();
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
        await fn(t, req, write, ac.signal);
        if (cancelled) return;
        if (ac.signal.aborted) call.emit('error', unavailable(name, 'stopping'));
        else call.end();
        log.info({ ...ctx }, 'stream ended');
      } catch (err) {
        if (cancelled) {
          log.info({ ...ctx }, 'stream cancelled by the client');
          return;
        }
        if (ac.signal.aborted && phase() !== 'serving') call.emit('error', unavailable(name, 'stopping'));
        else call.emit('error', toServiceError(err, log, ctx));
      } finally {
        streams.delete(ac);
      }
    })();
  };

  return {
    unary,
    serverStream,
    inflight: () => inflight,
    streams: () => streams.size,
    abortStreams: () => {
      for (const ac of streams) ac.abort();
    },
    drained: () => (inflight === 0 ? Promise.resolve() : new Promise<void>((resolve) => (idle = resolve))),
  };
}
