import t from 'tap';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parsePing } from '../src/workloads/ping.js';
import { onSecondGrid, parseIperf3 } from '../src/workloads/iperf3.js';
import { parseUperf, parseUperfBytes, parseUperfRate, uperfOutcome, uperfProfile } from '../src/workloads/uperf.js';
import { combineSeries, combineTotals, ditgMetrics, parseCombinedStats, parseItgDec, stripSpinner } from '../src/workloads/ditg-decode.js';
import { ToolFailure } from '../src/workloads/engine.js';
import { resolvePlan } from '../src/workloads/plan.js';
import { parseListeningPorts } from '../src/workloads/run.js';
import { parseVersion } from '../src/workloads/tool-version.js';

const fix = (p: string): string => readFileSync(fileURLToPath(new URL(`./fixtures/${p}`, import.meta.url)), 'utf8');
// Real uperf 1.0.8 output (see fixtures/uperf/README.md): uperf is not installable here.
const uperfFix = (p: string): string => fix(`uperf/${p}`);
const spec = (o: Record<string, unknown>) => ({ kind: '', engine: '', protocol: '', payload: 0, durationMs: 0, params: {}, seed: 0, ...o });

t.test('ping: every reply, summary, loss, killed run', async (t) => {
  const ok = parsePing(fix('ping/ok-653.txt'));
  t.equal(ok.rtts.length, 10);
  t.equal(ok.rtts[0], 0.046);
  t.same([ok.transmitted, ok.received, ok.lossPercent], [10, 10, 0]);
  t.same([ok.min, ok.avg, ok.max, ok.mdev], [0.046, 0.059, 0.065, 0.005]);
  t.ok(ok.complete);
  const loss = parsePing(fix('ping/loss.txt'));
  t.same([loss.transmitted, loss.received], [9, 6]);
  t.ok(Math.abs(loss.lossPercent - 33.3333) < 1e-6);
  t.equal(loss.rtts.length, 6);
  const none = parsePing(fix('ping/unreachable.txt'));
  t.same([none.transmitted, none.received, none.lossPercent, none.rtts.length, none.avg], [4, 0, 100, 0, 0]);
  const intr = parsePing(fix('ping/interrupted.txt'));
  t.ok(intr.complete);
  t.equal(intr.transmitted, 4);
  const killed = parsePing(fix('ping/killed.txt'));
  t.notOk(killed.complete, 'no summary after SIGKILL');
  t.equal(killed.rtts.length, 4);
  t.ok(killed.avg > 0);
});

t.test('iperf3 -J: TCP, UDP, reverse multi-stream, refused, killed', async (t) => {
  const tcp = parseIperf3(fix('iperf3/tcp-653.json'), 'tcp');
  const m = Object.fromEntries(tcp.metrics.map((x) => [x.name, x]));
  t.equal(m.throughput!.value, 488597768.4327782, 'end.sum_received.bits_per_second');
  t.equal(m.throughput!.unit, 'bit/s');
  t.equal(m.retransmits!.value, 216, 'end.sum_sent.retransmits');
  t.ok(Math.abs(Number(m.cpu_local!.value) - 99.10888212382595) < 1e-9, 'end.cpu_utilization_percent.host_total');
  t.equal(tcp.version, 'iperf 3.12');
  t.equal(tcp.series[0]!.values!.length, 2);
  t.equal(tcp.series[0]!.intervalS, 1);
  const udp = parseIperf3(fix('iperf3/udp-1370.json'), 'udp');
  const u = Object.fromEntries(udp.metrics.map((x) => [x.name, x.value]));
  t.ok(Number(u.throughput) > 1e8);
  t.equal(u.loss, 0);
  t.equal(u.packets, 36483);
  t.ok(Number(u.jitter) > 0 && Number(u.jitter) < 1, 'jitter in ms');
  const rev = parseIperf3(fix('iperf3/tcp-p2-reverse.json'), 'tcp');
  t.ok(Number(rev.metrics.find((x) => x.name === 'throughput')!.value) > 0);
  t.throws(() => parseIperf3(fix('iperf3/refused.json'), 'tcp'), /Connection refused/);
  t.throws(() => parseIperf3(fix('iperf3/killed.json'), 'tcp'), ToolFailure);
  t.throws(() => parseIperf3('{"start":{', 'tcp'), /not JSON/);
});

t.test('iperf3 intervals go on a 1 s grid by their own times (a starved client reports irregularly)', async (t) => {
  const tcp = parseIperf3(fix('iperf3/tcp-653.json'), 'tcp');
  const j = JSON.parse(fix('iperf3/tcp-653.json')) as { intervals: Array<{ sum: { bits_per_second: number } }> };
  const regular = (tcp.series[0]!.values ?? []).map(Number);
  t.equal(regular.length, j.intervals.length, 'one value per regular interval');
  regular.forEach((v, k) => t.ok(Math.abs(v / j.intervals[k]!.sum.bits_per_second - 1) < 1e-3, `regular second ${k} keeps its rate`));
  // Intervals as a client among 1,000 on 2 cores reported them: 1.7 s, 0.72 s, 2.0 s, 0.58 s.
  const grid = onSecondGrid([
    { start: 0, end: 1.7, rate: 10 },
    { start: 1.7, end: 2.42, rate: 20 },
    { start: 2.42, end: 4.42, rate: 30 },
    { start: 4.42, end: 5.0, rate: 40 },
  ]);
  t.equal(grid.length, 5, '5 s of test are 5 values, not 4');
  const want = [10, (0.7 * 10 + 0.3 * 20) / 1, (0.42 * 20 + 0.58 * 30) / 1, 30, (0.42 * 30 + 0.58 * 40) / 1];
  grid.forEach((v, k) => t.ok(Math.abs(v - want[k]!) < 1e-9, `second ${k}: ${v} = ${want[k]}`));
  t.same(onSecondGrid([{ start: 0, end: 1.00004, rate: 5 }, { start: 1.00004, end: 2.00003, rate: 5 }]), [5, 5], 'microseconds past the end add no second');
  t.same(onSecondGrid([{ start: 0, end: 1, rate: 5 }, { start: 1, end: 1.5, rate: 7 }]), [5, 7], 'a last half second is the rate over that half');
  t.same(onSecondGrid([]), []);
  const omitted = JSON.stringify({
    start: { version: 'iperf 3.12' },
    intervals: [
      { sum: { start: 0, end: 1, bits_per_second: 1, omitted: true } },
      { sum: { start: 0, end: 1, bits_per_second: 8, omitted: false } },
      { sum: { start: 1, end: 2, bits_per_second: 9, omitted: false } },
    ],
    end: { sum_received: { bits_per_second: 8.5, bytes: 2, seconds: 2 }, sum_sent: { bits_per_second: 8.5, retransmits: 0 } },
  });
  t.same(parseIperf3(omitted, 'tcp').series[0]!.values, [8, 9], 'omitted (-O) intervals are not seconds of the test');
});

t.test('uperf: steady state from -R counters, not the diluted Total', async (t) => {
  t.equal(parseUperfBytes('663.82M'), 663.82 * 2 ** 20);
  t.equal(parseUperfBytes('1.44GB'), 1.44 * 2 ** 30);
  t.equal(parseUperfBytes('192.00B'), 192);
  t.equal(parseUperfBytes('0'), 0);
  t.ok(Math.abs(parseUperfRate('1.07Gb/s') - 1.07e9) < 1);
  t.equal(parseUperfRate('365.39b/s'), 365.39);
  t.equal(parseUperfRate('0'), 0);

  const raw = parseUperf(uperfFix('tcp-stream-653.raw-i1.txt'));
  const expected = ((541177668 - 0) * 8) / ((1795314333323.2317 - 1795314328115.696) / 1000);
  t.ok(Math.abs(raw.throughput! - expected) < 1, `steady state ${raw.throughput} = Txn2 bytes / Txn2 time`);
  t.equal(raw.series.length, 5);
  t.ok(Math.abs(raw.series[0]! - (114146359 * 8) / ((1795314329120.699 - 1795314328115.696) / 1000)) < 1, 'first interval rate');
  const hosts = raw.hosts.map((h) => h.host);
  t.same(hosts, ['198.18.200.2', 'master'], 'Run Statistics rows, Difference row skipped');
  const totalRate = raw.hosts.find((h) => h.host === 'master')!.bitsPerSecond;
  t.ok(raw.throughput! > totalRate * 1.3, 'steady state is well above the whole-run figure');

  const def = parseUperf(uperfFix('tcp-stream-653.default.txt'));
  const txn2 = (663.82 * 2 ** 20 * 8) / 5.21;
  t.ok(Math.abs(def.txns.find((x) => x.name === 'Txn2')!.bitsPerSecond - txn2) < 1, 'last state of the CR-separated Txn2 line');
  t.equal(def.throughput, def.txns.find((x) => x.name === 'Txn2')!.bitsPerSecond);
  t.ok(Math.abs(def.throughput! / 1e9 - 1.07) < 0.005, 'matches the printed 1.07Gb/s');
  t.ok(Math.abs(def.total!.bitsPerSecond / 1e6 - 761.85) < 0.5, 'Total (diluted by set-up): 761.85Mb/s');
  const out = uperfOutcome(def, 'tcp');
  t.equal(out.metrics.find((x) => x.name === 'throughput_with_setup')!.value, def.total!.bitsPerSecond);

  const udp = parseUperf(uperfFix('udp-stream-1370.default.txt'));
  const uo = uperfOutcome(udp, 'udp');
  const loss = Number(uo.metrics.find((x) => x.name === 'loss')!.value);
  t.ok(loss > 1.5 && loss < 2.5, `udp loss from slave vs master bytes (${loss.toFixed(2)} %)`);

  const all = parseUperf(uperfFix('tcp-stream-653.all.txt'));
  t.equal(all.throughput, all.txns.find((x) => x.name === 'Txn2')!.bitsPerSecond);
  const rr = parseUperf(uperfFix('tcp-rr-64.default.txt'));
  t.ok(rr.throughput! > 0);

  const none = parseUperf(uperfFix('no-slave.txt'));
  t.equal(none.throughput, undefined);
  t.match(none.error, /Connection refused|Error connecting/);
  t.throws(() => uperfOutcome(none, 'tcp'), ToolFailure);
});

t.test('uperf profile writer reproduces the fixture profiles', async (t) => {
  const tcp = resolvePlan(spec({ kind: 'throughput-basic', engine: 'uperf', protocol: 'tcp', payload: 653, durationMs: 5000 }));
  t.equal(uperfProfile(tcp, '198.18.200.2'), uperfFix('tcp-stream-653.xml'));
  const udp = resolvePlan(spec({ kind: 'throughput-basic', engine: 'uperf', protocol: 'udp', payload: 1370, durationMs: 5000 }));
  t.equal(uperfProfile(udp, '198.18.200.2'), uperfFix('udp-stream-1370.xml'));
  t.throws(() => uperfProfile(tcp, '198.18.200.2"/><x'), { code: 'INVALID_ARGUMENT' });
});

t.test('ITGDec: spinner, per-flow and total blocks, empty log, combining processes', async (t) => {
  const raw = fix('ditg/bursty.dec.txt');
  t.ok(raw.includes('\b'), 'fixture has the spinner');
  t.notOk(stripSpinner(raw).includes('\b'));
  const b = parseItgDec(raw);
  t.equal(b.flows.length, 1);
  t.equal(b.total!.packets, 190);
  t.equal(b.total!.bitrateKbps, 331.298156);
  t.equal(b.total!.maxDelayS, 1.000056);
  t.equal(b.total!.dropped, 0);
  const tcp = parseItgDec(fix('ditg/tcp-10.dec.txt'));
  t.equal(tcp.flows.length, 10);
  t.same(tcp.flows.map((f) => f.flow), ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10']);
  const sumPackets = tcp.flows.reduce((a, f) => a + f.packets, 0);
  t.equal(tcp.total!.packets, sumPackets, 'total packets = sum of flows');
  const q3 = parseItgDec(fix('ditg/quake3.dec.txt'));
  t.equal(q3.flows.length, 4);
  t.ok(q3.total!.packets > 0);
  const empty = parseItgDec(fix('ditg/empty.dec.txt'));
  t.ok(empty.empty);
  t.equal(empty.total!.seconds, 0, 'negative "Total time" of an empty log is clamped');

  const m = Object.fromEntries(ditgMetrics(b.total!).map((x) => [x.name, x]));
  t.equal(m.rtt_max!.value, 1000.056);
  t.equal(m.rtt_max!.unit, 'ms');
  t.equal(m.bitrate!.value, 331298.156);
  t.equal(m.rtt_avg!.flow, '');

  const c = combineTotals([tcp.total!, q3.total!])!;
  t.equal(c.packets, tcp.total!.packets + q3.total!.packets);
  t.equal(c.minDelayS, Math.min(tcp.total!.minDelayS, q3.total!.minDelayS));
  t.ok(Math.abs(c.bitrateKbps - (tcp.total!.bitrateKbps + q3.total!.bitrateKbps)) < 1e-9);
  const w = (tcp.total!.avgDelayS * tcp.total!.packets + q3.total!.avgDelayS * q3.total!.packets) / c.packets;
  t.ok(Math.abs(c.avgDelayS - w) < 1e-12, 'delay is packet-weighted');

  const rows = parseCombinedStats(fix('ditg/bursty.combined.dat'));
  t.equal(rows.length, 3);
  t.same(rows.map((r) => r.bitrateKbps), [496.28, 0, 496.28], '1 s on / 1 s off');
  const s = combineSeries([rows, rows], 1);
  t.same(s.find((x) => x.name === 'bitrate')!.values, [992560, 0, 992560]);
  t.equal(s.find((x) => x.name === 'rtt')!.values![0], rows[0]!.delayS * 1000);
});

t.test('ss listening ports and tool versions', async (t) => {
  const ss = 'LISTEN 0      5      198.18.250.2:5301       0.0.0.0:*\nLISTEN 0 4096 *:20000 *:*\nLISTEN 0 128 [::]:9000 [::]:*\n';
  t.same([...parseListeningPorts(ss)].sort(), [20000, 5301, 9000]);
  t.equal(parseVersion('ping', 'ping from iputils 20221126\nlibcap: yes'), 'iputils 20221126');
  t.equal(parseVersion('iperf3', 'iperf 3.12 (cJSON 1.7.15)'), '3.12');
  t.equal(parseVersion('ITGSend', 'ITGSend version 2.8.1 (r1023)\nCompile-time options'), '2.8.1 (r1023)');
});
