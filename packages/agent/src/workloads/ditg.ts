// The D-ITG workloads (bursty, tcp-100, quake3, video): `ITGRecv -Sp <port>` in the sink, and
// in the source ITGSend in multi-flow mode, one script line per flow, `-m rttm` so delays are
// round trips. Flow i of a pair sends to data port `port + i` (the pair's port is the
// signalling port), so a pair holds ports port..port+flows on its sink.
//
// ITGSend tears its flows down one after another (~1 s each, LAB-NOTES: 100 flows took ~105 s
// for 5 s of traffic), so the flows of a pair are spread over ceil(flows / flowsPerProcess)
// ITGSend processes started together, each with its own script and log; ditg-decode.ts puts
// their results back together. Flow ids in the metrics are global per pair (1..flows).

import { requireIPv4, requirePort } from '@seconet/core';
import { readFile, writeFile } from 'node:fs/promises';
import { joinOutput, ToolFailure, type EngineContext, type WorkloadEngine } from './engine.js';
import { combineSeries, combineTotals, ditgMetrics, parseCombinedStats, parseItgDec, stripSpinner, type CombinedRow, type DitgStats } from './ditg-decode.js';
import type { WorkloadPlan } from './plan.js';
import { drawVideoStreams } from './video-model.js';
import type { WorkloadPair__Output } from '../gen/seconet/agent/v1/WorkloadPair.js';

/** Packets per second that carry `bitsPerSecond` of `payload`-byte packets. */
export function packetRate(bitsPerSecond: number, payload: number): number {
  return Math.max(0.001, Math.round((bitsPerSecond / (8 * payload)) * 1000) / 1000);
}

/** One argv-style line per flow (without the ITGSend binary), in flow order. */
export function ditgFlowLines(plan: WorkloadPlan, sinkAddress: string, port: number): string[][] {
  const addr = requireIPv4('pairs.sinkAddress', sinkAddress);
  requirePort('pairs.port', port);
  const d = plan.ditg;
  const common = (i: number): string[] => ['-a', addr, '-Sdp', String(port), '-rp', String(requirePort('pairs.port', port + 1 + i)), '-m', 'rttm', '-t', String(plan.durationMs)];
  const rate = packetRate(d.rateKbps * 1000, plan.payload);
  switch (plan.kind) {
    case 'bursty':
      return Array.from({ length: d.flows }, (_, i) => [...common(i), '-T', 'UDP', '-C', String(rate), '-c', String(plan.payload), '-B', 'C', String(d.onMs), 'C', String(d.offMs)]);
    case 'tcp-100':
      return Array.from({ length: d.flows }, (_, i) => [...common(i), '-T', 'TCP', '-C', String(rate), '-c', String(plan.payload)]);
    case 'quake3':
      // Application models come last on the line (ITGSend -h: [idt_opts][ps_opts] | [app_opts]).
      return Array.from({ length: d.flows }, (_, i) => [...common(i), 'Quake3']);
    case 'video':
      return drawVideoStreams(d.flows, plan.seed, d.gbPerHour).map((v, i) => [...common(i), '-T', 'TCP', '-C', String(packetRate(v.bitsPerSecond, plan.payload)), '-c', String(plan.payload)]);
    default:
      throw new Error(`${plan.kind} is not a D-ITG workload`);
  }
}

/** Splits flow lines into ITGSend script files' contents. */
export function ditgScripts(lines: readonly string[][], flowsPerProcess: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < lines.length; i += flowsPerProcess) {
    out.push(lines.slice(i, i + flowsPerProcess).map((l) => l.join(' ')).join('\n') + '\n');
  }
  return out;
}

export function itgRecvArgv(sinkAddress: string, port: number): string[] {
  return ['ITGRecv', '-Sp', String(requirePort('pairs.port', port)), '-a', requireIPv4('pairs.sinkAddress', sinkAddress)];
}

/** Wall time a source needs: traffic plus ~1.1 s per flow torn down in the busiest process, plus start-up. */
export function ditgWallMs(plan: WorkloadPlan): number {
  return plan.durationMs + Math.min(plan.ditg.flows, plan.ditg.flowsPerProcess) * 1100 + 5000;
}

async function decode(ctx: EngineContext, log: string, combinedPath: string): Promise<{ text: string; rows: CombinedRow[]; unreadable?: string }> {
  const r = await ctx.runner.run(['ITGDec', log, '-v', '-c', '1000', combinedPath], { timeoutMs: 60_000, signal: ctx.signal, okCodes: [0, 1] });
  const text = stripSpinner(r.stdout + r.stderr);
  try {
    return { text, rows: parseCombinedStats(await readFile(combinedPath, 'utf8')) };
  } catch (e) {
    // Kept, not swallowed: the caller reports it once the log is known to hold packets.
    return { text, rows: [], unreadable: `ITGDec (exit ${r.exitCode}) left no readable combined statistics at ${combinedPath}: ${(e as Error).message}` };
  }
}

async function runSource(ctx: EngineContext, plan: WorkloadPlan, pair: WorkloadPair__Output, netns: string) {
  const scripts = ditgScripts(ditgFlowLines(plan, pair.sinkAddress, pair.port), plan.ditg.flowsPerProcess);
  const base = `${ctx.workDir}/ditg-${pair.pair}`;
  const procs = await Promise.all(
    scripts.map(async (script, g) => {
      await writeFile(`${base}-${g}.txt`, script, { mode: 0o600 });
      return ctx.spawn(['ITGSend', `${base}-${g}.txt`, '-l', `${base}-${g}.log`], { netns, cwd: ctx.workDir });
    }),
  );
  const exits = await Promise.all(procs.map((p) => p.exited));
  // The scripts are part of the command line: keep them with the output for audit.
  const raw: string[] = scripts.map((script, g) => `--- ITGSend process ${g}: ${procs[g]!.argv.join(' ')} ---\n${script}`);
  exits.forEach((r, g) => raw.push(`--- ITGSend process ${g} output (exit ${r.exitCode ?? r.signal}) ---\n${joinOutput(r)}`));
  const failed = exits.findIndex((r) => r.exitCode !== 0);
  if (failed >= 0) {
    const r = exits[failed]!;
    const why = (r.stdout + r.stderr).split('\n').find((l) => /error|refused|abort/i.test(l))?.trim() ?? `exit ${r.exitCode ?? r.signal}`;
    throw new ToolFailure(`ITGSend process ${failed}: ${why}`, raw.join('\n'));
  }
  const totals: DitgStats[] = [];
  const flows: DitgStats[] = [];
  const rows: CombinedRow[][] = [];
  for (let g = 0; g < scripts.length; g++) {
    const d = await decode(ctx, `${base}-${g}.log`, `${base}-${g}.dat`);
    raw.push(`--- ITGDec ${g} ---\n${d.text}`);
    const parsed = parseItgDec(d.text);
    if (parsed.total === undefined || parsed.empty) throw new ToolFailure(`ITGDec found no packets in the log of ITGSend process ${g}`, raw.join('\n'));
    if (d.unreadable !== undefined) throw new ToolFailure(d.unreadable, raw.join('\n'));
    totals.push(parsed.total);
    for (const f of parsed.flows) flows.push({ ...f, flow: String(g * plan.ditg.flowsPerProcess + Number(f.flow)) });
    rows.push(d.rows);
  }
  const total = combineTotals(totals)!;
  return {
    metrics: [...ditgMetrics(total), ...flows.flatMap(ditgMetrics)],
    series: combineSeries(rows, 1),
    tool: 'ditg',
    argv: procs[0]!.argv,
    rawOutput: raw.join('\n'),
  };
}

export const ditgEngine: WorkloadEngine = {
  name: 'ditg',
  tools: (side) => (side === 'sink' ? ['ITGRecv'] : ['ITGSend', 'ITGDec']),
  sinkPorts: (plan, pair) => Array.from({ length: plan.ditg.flows + 1 }, (_, i) => pair.port + i),
  async startSink(ctx, _plan, pair, sink) {
    const proc = ctx.spawn(itgRecvArgv(pair.sinkAddress, pair.port), { netns: sink.netns, cwd: ctx.workDir });
    return { procs: [proc], listenPorts: [pair.port] };
  },
  runSource: (ctx, plan, pair, source) => runSource(ctx, plan, pair, source.netns),
};
