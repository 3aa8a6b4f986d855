// dstat-style CSV of metrics samples, for people whose scripts read `dstat --output` files
// (dstat's own CSV writer crashes on Debian 12, LAB-NOTES). Two header rows as dstat writes
// them: group names over the first column of each group, then column names. The mapping is in
// docs/workloads.md ("Host metrics"):
//   "epoch"            epoch                          sample timestamp (unix s)
//   "total cpu usage"  usr sys idl wai hiq siq stl    percent of the interval
//   "memory usage"     used free buff cach            bytes (dstat's mem plugin formulas)
//   "net/total"        recv send                      bytes/s summed over interfaces except lo
//   "system"           int csw                        interrupts and context switches per s
//   "net/<ns>/<if>"    recv send                      per interface ("host" for the host namespace)

import type { MetricsSample } from '../gen/seconet/agent/v1/MetricsSample.js';

const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v ?? 0) || 0);
const fmt = (v: number): string => (Number.isInteger(v) ? String(v) : v.toFixed(3));
const quote = (s: string): string => `"${s.replace(/"/g, '""')}"`;

function ifaceLabel(netns: string, name: string): string {
  return `net/${netns === '' ? 'host' : netns}/${name}`;
}

export function toDstatCsv(samples: readonly MetricsSample[]): string {
  const ifaces: string[] = [];
  for (const s of samples) {
    for (const i of s.interfaces ?? []) {
      const l = ifaceLabel(i.netns ?? '', i.name ?? '');
      if (!ifaces.includes(l)) ifaces.push(l);
    }
  }
  const groups: Array<[string, string[]]> = [
    ['epoch', ['epoch']],
    ['total cpu usage', ['usr', 'sys', 'idl', 'wai', 'hiq', 'siq', 'stl']],
    ['memory usage', ['used', 'free', 'buff', 'cach']],
    ['net/total', ['recv', 'send']],
    ['system', ['int', 'csw']],
    ...ifaces.map((l): [string, string[]] => [l, ['recv', 'send']]),
  ];
  const head1 = groups.flatMap(([g, cols]) => [quote(g), ...cols.slice(1).map(() => '')]).join(',');
  const head2 = groups.flatMap(([, cols]) => cols.map(quote)).join(',');
  const rows = samples.map((s) => {
    const c = s.cpu;
    const m = s.memory;
    let recv = 0;
    let send = 0;
    const per = new Map<string, [number, number]>();
    for (const i of s.interfaces ?? []) {
      const rx = num(i.rxBytesPerS);
      const tx = num(i.txBytesPerS);
      per.set(ifaceLabel(i.netns ?? '', i.name ?? ''), [rx, tx]);
      if (i.name !== 'lo') {
        recv += rx;
        send += tx;
      }
    }
    const vals = [
      num(s.timestamp),
      num(c?.usr), num(c?.sys), num(c?.idle), num(c?.wai), num(c?.hiq), num(c?.siq), num(c?.stl),
      num(m?.used), num(m?.free), num(m?.buffers), num(m?.cached),
      recv, send,
      num(s.interruptsPerS), num(s.contextSwitchesPerS),
      ...ifaces.flatMap((l) => per.get(l) ?? [0, 0]),
    ];
    return vals.map(fmt).join(',');
  });
  return [head1, head2, ...rows].join('\n') + '\n';
}
