// The run monitor opens and ends its streams in slices of the event loop: a run across many
// hosts does not hold the loop (and the REST API behind it) for all of its call set-ups at once.
import t from 'tap';
import type { AgentLink, MetricsSampleMsg } from '../src/agents/contract.js';
import { startMonitor } from '../src/monitor/monitor.js';

const burn = (ms: number): void => {
  const until = performance.now() + ms;
  while (performance.now() < until);
};

function sample(ts: number): MetricsSampleMsg {
  return {
    timestamp: ts, intervalS: 0.01,
    cpu: { name: 'total', usr: 10, sys: 5, idle: 85, wai: 0, hiq: 0, siq: 1, stl: 0 },
    cores: [], memory: null, interruptsPerS: 0, contextSwitchesPerS: 0, interfaces: [],
  };
}

t.test('a many-host run opens and ends its metric streams with event-loop turns between them', async (t) => {
  // Each stream's set-up and each cancel cost 3 ms of synchronous work here (a call's headers,
  // HTTP/2 framing, the CANCELLED status); 32 hosts are ~96 ms, more than the pacer's slice.
  const hosts = Array.from({ length: 32 }, (_, i) => `h${i + 1}`);
  const order: string[] = [];
  const link = (host: string): AgentLink => ({
    streamMetrics: (_req: unknown, opts?: { signal?: AbortSignal }) => {
      burn(3);
      order.push(`open ${host}`);
      opts?.signal?.addEventListener('abort', () => {
        burn(3);
        order.push(`end ${host}`);
      }, { once: true });
      return (async function* () {
        for (let ts = 1; !opts?.signal?.aborted; ts++) {
          yield sample(ts);
          await new Promise((r) => setTimeout(r, 10));
        }
      })();
    },
  }) as unknown as AgentLink;
  const agents = new Map(hosts.map((h) => [h, link(h)]));
  // A mark on every turn of the event loop.
  let marking = true;
  const mark = (): void => {
    order.push('turn');
    if (marking) setImmediate(mark);
  };
  setImmediate(mark);
  const turnsBetween = (prefix: string): number => {
    const first = order.findIndex((x) => x.startsWith(prefix));
    const last = order.findLastIndex((x) => x.startsWith(prefix));
    return order.slice(first, last).filter((x) => x === 'turn').length;
  };
  const m = startMonitor(agents, hosts, 'snmon', { intervalMs: 10 });
  await new Promise((r) => setTimeout(r, 300));
  const opens = order.filter((x) => x.startsWith('open ')).length;
  t.equal(opens, 32, 'every host\'s stream opened');
  t.ok(turnsBetween('open ') > 0, `the event loop turned between opens (${turnsBetween('open ')} times)`);
  const out = await m.stop();
  marking = false;
  const ends = order.filter((x) => x.startsWith('end ')).length;
  t.equal(ends, 32, 'every stream was ended');
  t.ok(turnsBetween('end ') > 0, `the event loop turned between ends (${turnsBetween('end ')} times)`);
  t.same(new Set(out.samples.map((s) => s.host)), new Set(hosts), 'samples from every host');
  t.equal(out.errors.size, 0, 'no stream failed: ending them is not an error');
});

t.test('a run that ends while its streams are still opening stops opening them', async (t) => {
  const hosts = Array.from({ length: 32 }, (_, i) => `h${i + 1}`);
  let opened = 0;
  const agents = new Map(hosts.map((h) => [h, {
    streamMetrics: (_req: unknown, opts?: { signal?: AbortSignal }) => {
      burn(5);
      opened++;
      return (async function* () {
        while (!opts?.signal?.aborted) await new Promise((r) => setTimeout(r, 5));
      })();
    },
  } as unknown as AgentLink]));
  const m = startMonitor(agents, hosts, 'snmon', { intervalMs: 10 });
  await new Promise((r) => setImmediate(r));
  const out = await m.stop();
  t.ok(opened > 0 && opened < 32, `only the streams opened before the stop (${opened})`);
  t.equal(out.errors.size, 0);
});
