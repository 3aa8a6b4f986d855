// liveHostMetrics: merges the hosts' StreamMetrics into small samples (host namespace only, no
// loopback), reports a failed host in words and asks it again, stops when the signal aborts,
// and drops the oldest samples instead of growing without bound when nobody reads.
import t from 'tap';
import type { AgentLink, MetricsSampleMsg } from '../src/agents/contract.js';
import { liveHostMetrics, liveSample } from '../src/monitor/live.js';

function sample(ts: number, busy = 10): MetricsSampleMsg {
  return {
    timestamp: ts,
    intervalS: 1,
    cpu: { name: 'total', usr: busy / 2, sys: busy / 2 - 1, idle: 100 - busy, wai: 0, hiq: 0, siq: 1, stl: 0 },
    cores: [],
    memory: null,
    interruptsPerS: 0,
    contextSwitchesPerS: 0,
    interfaces: [
      { netns: '', name: 'eth0', rxBytesPerS: 1000, txBytesPerS: 500, rxPacketsPerS: 1, txPacketsPerS: 1 },
      { netns: '', name: 'lo', rxBytesPerS: 9, txBytesPerS: 9, rxPacketsPerS: 1, txPacketsPerS: 1 },
      { netns: 'snabc-c0', name: 'eth0', rxBytesPerS: 7, txBytesPerS: 7, rxPacketsPerS: 1, txPacketsPerS: 1 },
    ],
  };
}

/** A link that only streams metrics, as scripted; anything else is a test bug. */
function link(name: string, script: (call: number, signal: AbortSignal) => AsyncIterable<MetricsSampleMsg>): AgentLink & { calls: Array<{ intervalMs: number; scope: string }> } {
  const calls: Array<{ intervalMs: number; scope: string }> = [];
  const unexpected = (): never => {
    throw new Error(`${name}: unexpected call`);
  };
  return {
    name,
    calls,
    streamMetrics(req, opts) {
      calls.push({ intervalMs: req.intervalMs, scope: req.scope });
      return script(calls.length, opts!.signal!);
    },
    getInfo: unexpected, apply: unexpected, teardown: unexpected, gc: unexpected, runWorkload: unexpected, waitReady: unexpected, close: unexpected,
  };
}

const untilAborted = (signal: AbortSignal): Promise<void> => new Promise((r) => (signal.aborted ? r() : signal.addEventListener('abort', () => r(), { once: true })));

t.test('a sample keeps CPU shares and the host namespace interfaces, without loopback', async (t) => {
  t.same(liveSample('h1', sample(5, 30)), {
    host: 'h1', timestamp: 5, dropped: 0,
    cpu: { usr: 15, sys: 14, siq: 1, hiq: 0, wai: 0, idle: 70 },
    interfaces: [{ name: 'eth0', rxBytesPerS: 1000, txBytesPerS: 500 }],
  });
  t.notOk('cpu' in liveSample('h1', { ...sample(1), cpu: null }), 'no CPU figures, no cpu field');
  t.equal(liveSample('h1', { ...sample(1), dropped: 4 }, 3).dropped, 7, "the agent's drops plus the merged stream's");
});

t.test('merges hosts; a failed host is reported and asked again; stops on abort', async (t) => {
  const abort = new AbortController();
  const h1 = link('h1', async function* (_call, signal) {
    yield sample(1);
    yield sample(2);
    await untilAborted(signal);
  });
  const h2 = link('h2', async function* (call, signal) {
    if (call === 1) throw new Error('14 UNAVAILABLE: connect ECONNREFUSED 127.0.0.1:7002');
    yield sample(3);
    await untilAborted(signal);
  });
  const got: Array<{ host: string; timestamp: number; error?: string | undefined }> = [];
  const t0 = Date.now();
  for await (const s of liveHostMetrics(new Map([['h1', h1], ['h2', h2]]), 500, abort.signal, 100)) {
    got.push(s);
    if (got.filter((g) => g.error === undefined).length === 3) abort.abort();
  }
  t.ok(Date.now() - t0 < 5000, 'ends promptly after abort');
  t.same(got.filter((g) => g.host === 'h1').map((g) => g.timestamp), [1, 2]);
  const h2s = got.filter((g) => g.host === 'h2');
  t.match(h2s[0], { error: /UNAVAILABLE: connect ECONNREFUSED/ }, 'the failure in words, with its cause');
  t.equal(h2s[1]?.timestamp, 3, 'the host came back after the retry');
  t.same(h1.calls, [{ intervalMs: 500, scope: '' }], 'the host namespace only (scope "")');
  t.equal(h2.calls.length, 2);
});

t.test('a reader that does not read loses the oldest samples, not memory', async (t) => {
  const abort = new AbortController();
  const flood = link('h1', async function* (_call, signal) {
    for (let i = 0; i < 5000 && !signal.aborted; i++) yield sample(i);
    await untilAborted(signal);
  });
  const it = liveHostMetrics(new Map([['h1', flood]]), 250, abort.signal)[Symbol.asyncIterator]();
  await it.next();
  await new Promise((r) => setTimeout(r, 300));
  let read = 0;
  let last = -1;
  let lastDropped = 0;
  while (last < 4999) {
    const n = await it.next();
    if (n.done) break;
    last = n.value.timestamp;
    lastDropped = n.value.dropped ?? 0;
    read++;
  }
  t.equal(last, 4999, 'the newest sample arrives');
  t.ok(read <= 256, `at most the buffer's 256 samples were waiting (read ${read} of 5000)`);
  t.equal(lastDropped + read + 1, 5000, `every sample was read or counted as dropped (${lastDropped} dropped)`);
  abort.abort();
  await it.return?.(undefined);
});
