// Benchmark: what a paced iperf3 sender's pacing timer costs. N iperf3 servers and N clients
// on loopback, each client paced (`-b`), once per timer value; per value the machine's busy CPU
// time over the run (/proc/stat) and the sum of the receivers' rates. iperf3's own timer (1 ms,
// the first value) is the baseline of the same run; the agent coarsens the timer of crowded
// calls (iperf3PacingTimerUs in packages/core/src/pinning.ts, docs/workloads.md "Paced senders").
//
// Run: node --import=tsx bench/pacing-timer.ts [--senders 200] [--bitrate 1M] [--duration 10]
//        [--timers 1000,10000,62500,100000] [--json]
// Traffic stays on 127.0.0.1 (ports 21000 up).

import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

const arg = (name: string, def: string): string => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1]! : def;
};
const senders = Number(arg('--senders', '200'));
const bitrate = arg('--bitrate', '1M');
const duration = Number(arg('--duration', '10'));
const timers = arg('--timers', '1000,10000,62500,100000').split(',').map(Number);
const BASE_PORT = 21000;

/** Busy and idle jiffies of the whole machine. */
function cpu(): { busy: number; idle: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = f as [number, number, number, number, number, number, number, number];
  return { busy: user + nice + system + irq + softirq + steal, idle: idle + iowait };
}

function run(argv: string[]): { child: ChildProcess; out: Promise<string> } {
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  return { child, out: new Promise((resolve) => child.on('close', () => resolve(out))) };
}

interface Row { timerUs: number; busyJiffies: number; idleJiffies: number; totalMbps: number; withResult: number }
const rows: Row[] = [];
for (const timerUs of timers) {
  const servers = Array.from({ length: senders }, (_, i) => run(['iperf3', '-s', '-1', '-B', '127.0.0.1', '-p', String(BASE_PORT + i)]));
  await new Promise((r) => setTimeout(r, 2000));
  const c0 = cpu();
  const clients = Array.from({ length: senders }, (_, i) => run(['iperf3', '-c', '127.0.0.1', '-p', String(BASE_PORT + i), '-t', String(duration), '-b', bitrate, '-l', '653', '--pacing-timer', String(timerUs), '-J']));
  const outs = await Promise.all(clients.map((c) => c.out));
  const c1 = cpu();
  for (const s of servers) if (s.child.exitCode === null) s.child.kill('SIGTERM');
  await Promise.all(servers.map((s) => s.out));
  let total = 0;
  let withResult = 0;
  for (const o of outs) {
    try {
      total += (JSON.parse(o) as { end: { sum_received: { bits_per_second: number } } }).end.sum_received.bits_per_second;
      withResult++;
    } catch {
      // a client without a result is counted by withResult
    }
  }
  rows.push({ timerUs, busyJiffies: c1.busy - c0.busy, idleJiffies: c1.idle - c0.idle, totalMbps: +(total / 1e6).toFixed(1), withResult });
}
if (process.argv.includes('--json')) console.log(JSON.stringify(rows));
else {
  const base = rows[0]!;
  console.log(`${senders} paced iperf3 senders at ${bitrate} each, ${duration} s, on loopback; load ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
  for (const r of rows) {
    console.log(`pacing timer ${String(r.timerUs).padStart(6)} us: busy CPU ${r.busyJiffies} jiffies (${(r.busyJiffies / base.busyJiffies).toFixed(2)}x the ${base.timerUs} us timer), idle ${r.idleJiffies}, received ${r.totalMbps} Mbit/s from ${r.withResult}/${senders} senders`);
  }
}
