// Validity guards: per-core summaries from host samples, the flags they raise, and the flags
// carried into every result row of the run.
import t from 'tap';
import { summarize } from '../src/monitor/monitor.js';
import { CORE_SATURATED_PCT, STEAL_NOISY_PCT, TESTBED_SHARE_PCT, runFlags, withValidity } from '../src/monitor/validity.js';
import type { HostSample } from '../src/store/store.js';

function core(host: string, ts: number, name: string, v: { usr?: number; sys?: number; siq?: number; stl?: number; idl: number }): HostSample[] {
  return Object.entries({ usr: 0, sys: 0, hiq: 0, siq: 0, stl: 0, wai: 0, ...v }).map(([k, value]) => ({ host, timestamp: ts, column: `${name} usage:${k}`, value }));
}

t.test('the busiest core per sample, with its softirq and steal, and the agent share', async (t) => {
  const samples: HostSample[] = [
    ...core('h1', 1, 'cpu0', { usr: 40, siq: 58, idl: 2 }), ...core('h1', 1, 'cpu1', { usr: 10, idl: 90 }),
    ...core('h1', 2, 'cpu0', { usr: 10, idl: 90 }), ...core('h1', 2, 'cpu1', { sys: 50, siq: 46, idl: 4 }),
    { host: 'h1', timestamp: 1, column: 'total cpu usage:idl', value: 50 }, { host: 'h1', timestamp: 2, column: 'total cpu usage:idl', value: 50 },
    { host: 'h1', timestamp: 1, column: 'testbed:agent_cpu', value: 1 }, { host: 'h1', timestamp: 2, column: 'testbed:agent_cpu', value: 3 },
    ...core('h2', 1, 'cpu0', { usr: 20, stl: 5, idl: 75 }),
  ];
  const m = new Map(summarize(samples).map((x) => [`${x.pair}:${x.metric}`, x.value]));
  t.equal(m.get('host/h1:host_core_busiest'), 97, 'cpu0 then cpu1, each 98 % and 96 % busy');
  t.equal(m.get('host/h1:host_core_busiest_siq'), 52);
  t.equal(m.get('host/h1:testbed_cpu_share'), 2);
  t.equal(m.get('host/h2:host_steal_max'), 5);
  t.equal(m.get('host/h2:host_core_busiest'), 25, 'steal counts as busy');
  t.equal(m.get('host/h1:host_cpu_mean'), 50, 'the whole-host mean is unchanged');
});

t.test('flags and their bounds', async (t) => {
  const h = (o: Record<string, number>): Map<string, Map<string, number>> => new Map([['host/h1', new Map(Object.entries(o))]]);
  t.same(runFlags(h({ host_core_busiest: CORE_SATURATED_PCT - 0.1, host_steal_max: 0, testbed_cpu_share: TESTBED_SHARE_PCT })), []);
  t.same(runFlags(h({ host_core_busiest: CORE_SATURATED_PCT })), ['cpu-bound']);
  t.same(runFlags(h({ host_steal_max: STEAL_NOISY_PCT, testbed_cpu_share: TESTBED_SHARE_PCT + 1 })), ['noisy', 'testbed-heavy']);
  const base = { experiment: 'e', cell: 'c', repetition: 1, workload: 'w', workload_kind: 'latency-basic', engine: 'ping', payload: 56, protocol: 'icmp', network: 'bridge', tunnel: 'none', tunnel_variant: '', filter: 'none', filter_variant: '', rules: 0, containers: 2, placement: 'multi-host', flow: '', unit: '%', recipe: '', rule_match: 'address', host_kind: 'netns-lab', kernel_release: '6.1.0-28-amd64' };
  const rows = withValidity([
    { ...base, run: 'r1', pair: 'p0', metric: 'rtt_avg', value: 0.1 },
    { ...base, run: 'r1', pair: 'host/h2', metric: 'host_core_busiest', value: 99 },
    { ...base, run: 'r2', pair: 'p0', metric: 'rtt_avg', value: 0.1 },
    { ...base, run: 'r2', pair: 'host/h2', metric: 'host_core_busiest', value: 50 },
  ]);
  t.same(rows.map((r) => r.validity), ['cpu-bound', 'cpu-bound', '', ''], 'every row of a flagged run carries the flag');
});
