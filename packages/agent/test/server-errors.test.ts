import t from 'tap';
import { Writable } from 'node:stream';
import pino from 'pino';
import { SeconetError } from '@seconet/core';
import { connectAgent } from '../src/client/client.js';
import { startAgent, type StartAgentOptions } from '../src/server/server.js';
import type { AgentClient } from '../src/client/types.js';
import type { MetricsSample } from '../src/gen/seconet/agent/v1/MetricsSample.js';
import { FakeReconciler, agentConfig, makePki, tmpDir } from './server-helpers.js';

class MemoryLog extends Writable {
  lines: string[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.lines.push(...chunk.toString('utf8').split('\n').filter((l) => l.length > 0));
    cb();
  }
  text(): string {
    return this.lines.join('\n');
  }
}

const PRIVATE_KEY = 'kPv4UeW1zT0gS3a0mXq2tXhN7b6p1o0C0S3cR3tK3y0=';
const PSK = 'a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90';

t.test('status mapping, request_id, redaction and streams through the real client', async (t) => {
  const pki = await makePki(t, ['h1']);
  const dir = tmpDir(t);
  const rec = new FakeReconciler();
  rec.check = async () => {
    throw new Error('EACCES /var/lib/secret/internal/path at frame 12');
  };
  const logStream = new MemoryLog();
  const log = pino({ level: 'debug', redact: { paths: [...(await import('../src/server/logger.js')).REDACT_PATHS], censor: '[redacted]' } }, logStream);
  const workloadSignals: AbortSignal[] = [];
  let produced = 0;
  const opts: StartAgentOptions = {
    createReconciler: () => rec,
    skipBpffs: true,
    log,
    runWorkload: async (_deps, req, emit, signal) => {
      workloadSignals.push(signal);
      emit({ ready: { pairs: req.pairs.map((p) => p.pair), at: Date.now() / 1000 } });
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    },
    streamMetrics: async function* (_deps, _req, signal) {
      const big = Array.from({ length: 50 }, (_, i) => ({ netns: `snt1c${i}`, name: 'eth0', rxBytesPerS: i, txBytesPerS: i, rxPacketsPerS: i, txPacketsPerS: i }));
      while (!signal.aborted && produced < 200_000) {
        produced++;
        yield { timestamp: produced, intervalS: 1, interfaces: big } satisfies MetricsSample;
      }
    },
  };
  const agent = await startAgent(agentConfig(pki, dir, 'h1', 'snt2'), opts);
  t.teardown(() => agent.stop());
  const c: AgentClient = connectAgent({ name: 'h1', address: agent.address, tls: { ca: pki.ca.cert, cert: pki.controller.cert, key: pki.controller.key } });
  t.teardown(() => c.close());

  await t.test('a bad Apply is INVALID_ARGUMENT naming the field, with the agent\'s message', async (t) => {
    const e = await c.apply({ requestId: 'r1', scope: 'cell-1', state: { network: 'token-ring' } }).catch((x: unknown) => x);
    t.type(e, SeconetError);
    t.match(e, { code: 'INVALID_ARGUMENT', field: 'state.network', message: /^state\.network: "token-ring" is not a network solution/ });
  });

  await t.test('a mutating call without request_id is INVALID_ARGUMENT naming request_id', async (t) => {
    await t.rejects(c.apply({ scope: 'cell-1', state: { network: 'bridge' } }), { code: 'INVALID_ARGUMENT', field: 'request_id' });
    await t.rejects(c.teardown({ scope: 'cell-1' }), { code: 'INVALID_ARGUMENT', field: 'request_id' });
    await t.rejects(c.gc({ keepScopes: [] }), { code: 'INVALID_ARGUMENT', field: 'request_id' });
    await t.rejects(c.apply({ requestId: 'has space', scope: 'cell-1', state: { network: 'bridge' } }), { code: 'INVALID_ARGUMENT', field: 'request_id' });
    t.equal(rec.applied.size, 0, 'nothing reached the reconciler');
    const it = c.runWorkload({ scope: 'cell-1', runId: 'r', role: 'ROLE_SINK', pairs: [] })[Symbol.asyncIterator]();
    await t.rejects(it.next(), { code: 'INVALID_ARGUMENT', field: 'request_id' });
  });

  await t.test('an unexpected error is INTERNAL without internals; the log has them', async (t) => {
    const e = await c.check({ scope: 'cell-1' }).catch((x: unknown) => x);
    t.match(e, { code: 'INTERNAL', message: 'internal error, see agent log' });
    t.notMatch((e as Error).message, /secret|EACCES/);
    t.match(logStream.text(), /EACCES \/var\/lib\/secret\/internal\/path/);
  });

  await t.test('tunnel secrets never reach the log', async (t) => {
    const res = await c.apply({
      requestId: 'r2',
      scope: 'cell-2',
      state: { network: 'bridge', tunnel: { kind: 'wireguard', secrets: { privateKey: PRIVATE_KEY, preSharedKey: PSK } } },
    });
    t.equal(res.changed, true);
    t.equal(rec.applied.get('cell-2')?.state?.tunnel?.secrets?.privateKey, PRIVATE_KEY, 'the reconciler got the key');
    const text = logStream.text();
    t.match(text, /"method":"Apply".*"scope":"cell-2".*"client":"controller"/, 'the request was logged with the client certificate name');
    t.match(text, /\[redacted\]/);
    t.notOk(text.includes(PRIVATE_KEY), 'private key not logged');
    t.notOk(text.includes(PSK), 'psk not logged');
  });

  await t.test('cancelling RunWorkload aborts the agent side', async (t) => {
    const ac = new AbortController();
    const events: string[] = [];
    for await (const ev of c.runWorkload({ requestId: 'w1', scope: 'cell-2', runId: 'run-1', role: 'ROLE_SINK', pairs: [{ pair: 'p0' }] }, { signal: ac.signal })) {
      events.push(ev.event ?? '');
      ac.abort();
    }
    t.same(events, ['ready']);
    const sig = workloadSignals[0];
    t.ok(sig, 'runWorkload was called');
    await new Promise((r) => setTimeout(r, 300));
    t.equal(sig?.aborted, true, 'the agent-side signal is aborted');
  });

  await t.test('StreamMetrics respects backpressure: a slow reader stops the producer', async (t) => {
    const ac = new AbortController();
    let got = 0;
    for await (const s of c.streamMetrics({ intervalMs: 1000 }, { signal: ac.signal })) {
      got++;
      t.equal(s.interfaces.length, 50);
      await new Promise((r) => setTimeout(r, 100));
      if (got === 5) ac.abort();
    }
    await new Promise((r) => setTimeout(r, 300));
    t.equal(got, 5);
    t.comment(`produced ${produced}`);
    t.ok(produced < 20_000, `producer paused while the reader was slow (produced ${produced})`);
  });
});
