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

t.test('a run of 1,000 container namespaces summarizes: peaks over millions of interface samples', async (t) => {
  // 1,000 containers (eth0 in each namespace) for 150 one-second samples: 150,000 values per
  // peak. Math.max(...values) threw "Maximum call stack size exceeded" past ~125,000 and ended
  // the experiment of a 1,000-client run.
  const rows: HostSample[] = [];
  for (let ts = 1; ts <= 150; ts++) {
    rows.push({ host: 'h1', timestamp: ts, column: 'total cpu usage:idl', value: 50 });
    for (let c = 0; c < 1000; c++) rows.push({ host: 'h1', timestamp: ts, column: `net/snc${c}/eth0:recv`, value: c === 7 && ts === 99 ? 1e6 : 10 });
  }
  const m = new Map(summarize(rows).map((x) => [x.metric, x.value]));
  t.equal(m.get('host_net_rx_peak'), 8e6, 'the one peak among 150,000 interface samples, in bit/s');
  t.equal(m.get('host_cpu_peak'), 50);
  t.equal(m.get('host_samples'), 150);
});
