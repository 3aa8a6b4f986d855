import t from 'tap';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ProcSampler, parseMeminfo, parseNetDev, parseStat, toDstatCsv, BoundedSampleQueue, mergeSamples } from '../src/metrics/index.js';
import type { MetricsSample } from '../src/gen/seconet/agent/v1/MetricsSample.js';

const FIX = fileURLToPath(new URL('./fixtures/proc/', import.meta.url));

/** A sampler over two proc trees: reads `first`, then `second` (copied into one root), 1 s apart. */
async function sampleBetween(first: string, second: string, extraDev: Array<{ netns: string; file: string }> = []): Promise<MetricsSample> {
  let clock = 1000;
  const root = mkdtempSync(join(tmpdir(), 'sn-proc-'));
  try {
    cpSync(first, root, { recursive: true });
    const s = new ProcSampler({
      procRoot: root,
      netDevSources: () => [{ netns: '', path: join(root, 'net/dev') }, ...extraDev.map((d) => ({ netns: d.netns, path: join(root, d.file) }))],
      now: () => clock,
    });
    await s.prime();
    clock += 1;
    rmSync(root, { recursive: true });
    cpSync(second, root, { recursive: true });
    return await s.sample();
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

t.test('parsers read real /proc files', async (t) => {
  const st = parseStat(readFileSync(join(FIX, 't0/stat'), 'utf8'));
  t.ok(st.cpus.has('total') && st.cpus.has('cpu0') && st.cpus.has('cpu1'));
  t.equal(st.cpus.get('total')!.usr, 22303, 'usr = user + nice');
  t.equal(st.cpus.get('total')!.siq, 455);
  t.equal(st.interrupts, 738854);
  t.equal(st.contextSwitches, 1446432);
  const dev = parseNetDev(readFileSync(join(FIX, 't1/net/dev'), 'utf8'));
  t.same([...dev.keys()].sort(), ['eth0', 'lo']);
  t.same(dev.get('eth0'), { rxBytes: 6119264932, rxPackets: 213425, txBytes: 3490430844, txPackets: 274327 });
  const mem = parseMeminfo(readFileSync(join(FIX, 't0/meminfo'), 'utf8'));
  const total = Number(/MemTotal:\s+(\d+)/.exec(readFileSync(join(FIX, 't0/meminfo'), 'utf8'))![1]) * 1024;
  t.equal(mem.used + mem.free + mem.buffers + mem.cached, total, 'dstat columns add up to MemTotal');
  t.ok(mem.used > 0 && mem.free > 0);
});

t.test('rates between two real snapshots', async (t) => {
  const s = await sampleBetween(join(FIX, 't0'), join(FIX, 't1'));
  t.equal(s.intervalS, 1);
  const c = s.cpu!;
  const sum = [c.usr, c.sys, c.idle, c.wai, c.hiq, c.siq, c.stl].reduce<number>((a, v) => a + Number(v), 0);
  t.ok(Math.abs(sum - 100) < 1e-6, `cpu percents sum to 100 (${sum})`);
  t.equal(s.cores!.length, 2);
  t.ok(Number(s.interruptsPerS) > 0 && Number(s.contextSwitchesPerS) > 0);
  const eth0 = s.interfaces!.find((i) => i.name === 'eth0')!;
  t.ok(Number(eth0.rxBytesPerS) > 0 && Number(eth0.txPacketsPerS) > 0, 'ping traffic between the snapshots shows');
});

t.test('counter reset, vanished and new interfaces give no negative or huge rates', async (t) => {
  const dir = t.testdir();
  const a = join(dir, 'a');
  const b = join(dir, 'b');
  cpSync(join(FIX, 't1'), a, { recursive: true });
  cpSync(join(FIX, 't1'), b, { recursive: true });
  const header = readFileSync(join(FIX, 't1/net/dev'), 'utf8').split('\n').slice(0, 2).join('\n');
  const row = (name: string, rx: number, tx: number): string => `  ${name}: ${rx} 10 0 0 0 0 0 0 ${tx} 10 0 0 0 0 0 0`;
  writeFileSync(join(a, 'net/dev'), [header, row('lo', 5000, 5000), row('eth0', 9_000_000_000, 8_000_000_000), row('gone0', 100, 100)].join('\n') + '\n');
  // eth0 re-created (counters back near zero), gone0 vanished, new0 appears with a big counter.
  writeFileSync(join(b, 'net/dev'), [header, row('lo', 6000, 6000), row('eth0', 1200, 800), row('new0', 7_000_000_000, 7_000_000_000)].join('\n') + '\n');
  // A namespace whose net/dev disappears between the reads.
  mkdirSync(join(a, 'ns1'), { recursive: true });
  writeFileSync(join(a, 'ns1/dev'), [header, row('eth0', 10, 10)].join('\n') + '\n');
  // The CPU counters go backwards too (a restored snapshot): no negative percent.
  writeFileSync(join(b, 'stat'), readFileSync(join(FIX, 't0/stat'), 'utf8'));
  const s = await sampleBetween(a, b, [{ netns: 'snx', file: 'ns1/dev' }]);
  const names = s.interfaces!.map((i) => `${i.netns}/${i.name}`).sort();
  t.same(names, ['/eth0', '/lo'], 'vanished interfaces and namespaces are gone, a new one waits for its baseline');
  const eth0 = s.interfaces!.find((i) => i.name === 'eth0')!;
  t.equal(eth0.rxBytesPerS, 0, 'a counter going backwards counts as zero, not negative');
  t.equal(eth0.txBytesPerS, 0);
  t.equal(s.interfaces!.find((i) => i.name === 'lo')!.rxBytesPerS, 1000);
  for (const k of ['usr', 'sys', 'idle'] as const) t.ok(Number(s.cpu![k]) >= 0, `cpu ${k} not negative`);
  t.ok(Number(s.interruptsPerS) >= 0 && Number(s.contextSwitchesPerS) >= 0);
});

t.test('bounded queue merges then drops, never grows', async (t) => {
  const mk = (i: number): MetricsSample => ({
    timestamp: i,
    intervalS: 1,
    cpu: { name: 'total', usr: i % 2 === 0 ? 10 : 30, sys: 0, idle: i % 2 === 0 ? 90 : 70, wai: 0, hiq: 0, siq: 0, stl: 0 },
    cores: [],
    memory: { used: i, free: 0, buffers: 0, cached: 0 },
    interruptsPerS: 100,
    contextSwitchesPerS: 0,
    interfaces: [{ netns: '', name: 'eth0', rxBytesPerS: i % 2 === 0 ? 0 : 200, txBytesPerS: 0, rxPacketsPerS: 0, txPacketsPerS: 0 }],
    dropped: 0,
    merged: 0,
  });
  const q = new BoundedSampleQueue(3, 4);
  for (let i = 0; i < 100; i++) {
    q.push(mk(i));
    t.ok(q.length <= 3);
  }
  t.ok(q.dropped > 0, `dropped ${q.dropped}`);
  const out = [q.shift()!, q.shift()!, q.shift()!];
  t.equal(q.shift(), undefined);
  t.ok(out.every((s) => s.dropped === q.dropped));
  const last = out[2]!;
  t.equal(last.timestamp, 99, 'the newest sample is never dropped');
  const m = mergeSamples(mk(0), mk(1));
  t.equal(m.intervalS, 2);
  t.equal(m.merged, 1);
  t.equal(m.cpu!.usr, 20, 'cpu percent is time-weighted');
  t.equal(m.interfaces![0]!.rxBytesPerS, 100, 'rates are time-weighted');
  t.equal(m.memory!.used, 1, 'memory is a gauge: the later value');
});

t.test('dstat CSV', async (t) => {
  const s = await sampleBetween(join(FIX, 't0'), join(FIX, 't1'));
  const csv = toDstatCsv([s, s]);
  const lines = csv.trim().split('\n');
  t.equal(lines.length, 4);
  t.match(lines[0], /^"epoch","total cpu usage",,,,,,,"memory usage",,,,"net\/total",,"system",,"net\/host\/lo",,"net\/host\/eth0",$/);
  t.match(lines[1], /^"epoch","usr","sys","idl","wai","hiq","siq","stl","used","free","buff","cach","recv","send","int","csw","recv","send","recv","send"$/);
  const row = lines[2]!.split(',').map(Number);
  t.equal(row.length, 20);
  const eth0 = s.interfaces!.find((i) => i.name === 'eth0')!;
  t.ok(Math.abs(row[12]! - Number(eth0.rxBytesPerS)) < 0.01, 'net/total excludes lo');
});

t.test('the agent reports its own CPU share of the host, and per-core steal and softirq', async (t) => {
  let clock = 1000;
  let self = 0;
  const root = mkdtempSync(join(tmpdir(), 'sn-proc-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  cpSync(join(FIX, 't0'), root, { recursive: true });
  const s = new ProcSampler({ procRoot: root, netDevSources: () => [], now: () => clock, selfCpuMicros: () => self });
  await s.prime();
  clock += 2;
  self += 400_000; // 0.4 s of CPU in 2 s on 2 cores: 10 % of the host
  rmSync(root, { recursive: true });
  cpSync(join(FIX, 't1'), root, { recursive: true });
  const x = await s.sample();
  t.equal(x.cores!.length, 2);
  t.ok(Math.abs(Number(x.agentCpu) - 10) < 1e-9, `agent share ${x.agentCpu} %`);
  for (const c of x.cores!) t.ok(Number(c.stl) >= 0 && Number(c.siq) >= 0, `${c.name} reports siq and stl`);
  const merged = mergeSamples({ ...x, intervalS: 1, agentCpu: 10 }, { ...x, intervalS: 3, agentCpu: 2 });
  t.equal(merged.agentCpu, 4, 'merged samples weigh the agent share by time');
  const live = new ProcSampler({ netDevSources: () => [] });
  await live.prime();
  const end = Date.now() + 120;
  while (Date.now() < end) Math.sqrt(Math.random());
  const y = await live.sample();
  t.ok(Number(y.agentCpu) > 0, `a busy loop in this process shows as agent CPU (${Number(y.agentCpu).toFixed(1)} %)`);
});
