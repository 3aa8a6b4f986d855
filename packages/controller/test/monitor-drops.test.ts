// The run monitor counts what the agents dropped: the cumulative `dropped` of each host's
// stream becomes a column, and the run's summary carries host_samples_dropped per host. The
// summary groups samples per host in one pass (a thousand hosts' samples in one run).
import t from 'tap';
import type { MetricsSampleMsg } from '../src/agents/contract.js';
import { flattenSample, summarize } from '../src/monitor/monitor.js';
import type { HostSample } from '../src/store/store.js';

function sample(ts: number, dropped?: number): MetricsSampleMsg {
  return {
    timestamp: ts, intervalS: 1,
    cpu: { name: 'total', usr: 10, sys: 5, idle: 85, wai: 0, hiq: 0, siq: 1, stl: 0 },
    cores: [], memory: null, interruptsPerS: 0, contextSwitchesPerS: 0, interfaces: [],
    ...(dropped === undefined ? {} : { dropped }),
  };
}

t.test('dropped samples become a column and a per-host metric', async (t) => {
  t.same(flattenSample(sample(1, 3)).find(([c]) => c === 'testbed:samples_dropped'), ['testbed:samples_dropped', 3]);
  t.notOk(flattenSample(sample(1)).some(([c]) => c === 'testbed:samples_dropped'), 'older agents: no column');
  const rows: HostSample[] = [];
  for (const [host, drops] of [['h1', [0, 0, 2, 5]], ['h2', [0, 0, 0, 0]]] as const) {
    drops.forEach((d, i) => {
      for (const [column, value] of flattenSample(sample(i + 1, d))) rows.push({ host, timestamp: i + 1, column, value });
    });
  }
  const m = new Map(summarize(rows).map((x) => [`${x.pair}:${x.metric}`, x.value]));
  t.equal(m.get('host/h1:host_samples_dropped'), 5, 'the last cumulative count');
  t.equal(m.get('host/h2:host_samples_dropped'), 0);
  t.equal(m.get('host/h1:host_samples'), 4);
});

t.test('a thousand hosts in one summary', async (t) => {
  const rows: HostSample[] = [];
  for (let h = 0; h < 1000; h++) {
    for (let s = 1; s <= 30; s++) for (const [column, value] of flattenSample(sample(s, 0))) rows.push({ host: `h${h}`, timestamp: s, column, value });
  }
  const t0 = performance.now();
  const out = summarize(rows);
  const ms = performance.now() - t0;
  t.equal(out.filter((x) => x.metric === 'host_samples').length, 1000, `every host summarized (${rows.length} samples in ${Math.round(ms)} ms)`);
});
