// A FakeAgent served over real gRPC with mutual TLS: the agent contract's AgentService, bound on
// loopback with the agent's certificate and requiring a client certificate from the given CA,
// exactly as the real agent serves it (server/server.ts). The controller reaches it through its
// own client (connectAgent), so channel, TLS, serialization, deadlines, streams and error codes
// are the real ones; only what the agent does on its host is scripted (fake-agent.ts).

import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { loadAgentProto } from '../../agent/src/server/proto.js';
import type { LinkCallOptions } from '../src/agents/contract.js';
import { FakeAgent } from './fake-agent.js';

export interface ServedFakeAgent {
  readonly agent: FakeAgent;
  /** host:port it listens on. */
  readonly address: string;
  stop(): Promise<void>;
}

export interface ServeOptions {
  /** PEM files: the agent's certificate and key, and the CA its clients must be signed by. */
  readonly tls: { readonly cert: string; readonly key: string; readonly ca: string };
  readonly underlay?: string;
}

/** gRPC status for an error the fake throws (`code` is the SeconetError-style name). */
function statusOf(err: unknown): grpc.StatusObject {
  const code = (err as { code?: unknown }).code;
  const status = typeof code === 'string' && code in grpc.status ? grpc.status[code as keyof typeof grpc.status] : grpc.status.INTERNAL;
  return { code: status as grpc.status, details: (err as Error).message, metadata: new grpc.Metadata() };
}

function unary<Req, Res>(fn: (req: Req) => Promise<Res>): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    fn(call.request).then(
      (res) => callback(null, res),
      (err: unknown) => callback(statusOf(err)),
    );
  };
}

function serverStream<Req, Res>(fn: (req: Req, opts: LinkCallOptions) => AsyncIterable<Res>): grpc.handleServerStreamingCall<Req, Res> {
  return (call) => {
    const abort = new AbortController();
    call.on('cancelled', () => abort.abort());
    void (async () => {
      try {
        for await (const msg of fn(call.request, { signal: abort.signal })) {
          if (abort.signal.aborted) break;
          call.write(msg);
        }
        if (!abort.signal.aborted) call.end();
      } catch (err) {
        if (!abort.signal.aborted) call.emit('error', statusOf(err));
      }
    })();
  };
}

/** Serves `agent` (or a new FakeAgent named `name`) on 127.0.0.1 with an ephemeral port. */
export async function serveFakeAgent(name: string, opts: ServeOptions, agent = new FakeAgent(name, opts.underlay ?? '198.18.0.1')): Promise<ServedFakeAgent> {
  const server = new grpc.Server();
  /* eslint-disable @typescript-eslint/no-explicit-any -- the handlers bridge proto-loader's untyped messages to the fake's contract types */
  const handlers: grpc.UntypedServiceImplementation = {
    GetInfo: unary(() => agent.getInfo()),
    Apply: unary((req: any) => agent.apply(req)),
    Check: unary(async () => ({})),
    Teardown: unary((req: any) => agent.teardown(req)),
    GC: unary((req: any) => agent.gc(req)),
    RunWorkload: serverStream((req: any, o) => agent.runWorkload(req, o)),
    StreamMetrics: serverStream((req: any, o) => agent.streamMetrics(req, o)),
  };
  /* eslint-enable @typescript-eslint/no-explicit-any */
  server.addService(loadAgentProto().seconet.agent.v1.AgentService.service, handlers);
  const creds = grpc.ServerCredentials.createSsl(readFileSync(opts.tls.ca), [{ cert_chain: readFileSync(opts.tls.cert), private_key: readFileSync(opts.tls.key) }], true);
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', creds, (err, p) => (err ? reject(err) : resolve(p))));
  return {
    agent,
    address: `127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.tryShutdown(() => resolve());
        setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 2000).unref();
      }),
  };
}
