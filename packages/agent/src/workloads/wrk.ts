// http: wrk (Debian's `wrk`) against nginx (Debian's `nginx-light`) in the sink container, the
// HTTP requests-per-second measure of the CNI studies (100 connections for 20 s by default).
// The sink is an nginx master started in the foreground (`daemon off`) with a configuration
// the agent writes into the call's private directory: it listens on the sink address and the
// pair's port only, answers `GET /` with a fixed body (612 B, nginx's welcome page) from memory
// and 404 elsewhere, logs no requests, and keeps its pid file, error log and temp paths in that
// directory. It is tracked like every tool the agent starts and stopped by PID (SIGTERM: nginx's
// fast shutdown stops its worker too). The source is `wrk --latency`: the transaction rate and
// the latency percentiles wrk prints. With keepalive off wrk sends `Connection: close`, so
// every request opens a new TCP connection: the TCP_CRR-style measure.
//
// The L7 probe (`probe: l7`, the pre-flight of an l7-http cell) replaces wrk with three curl
// requests against the same nginx: `GET /` (the one request the policy allows), `POST /` and
// `GET /l7-denied`. nginx itself answers 200, 200 and 404; through the l7-http filter's HAProxy
// the last two get 403. Their statuses are the probe's metrics.

import { writeFile } from 'node:fs/promises';
import { requireIPv4, requirePort } from '@seconet/core';
import { joinOutput, metric, ToolFailure, type SourceOutcome, type WorkloadEngine } from './engine.js';
import type { WorkloadPlan } from './plan.js';

/** nginx.conf for one pair; `dir` is the call's private directory (validated by the caller's layout). */
export function nginxConfig(dir: string, name: string, address: string, port: number, bodyBytes: number): string {
  const addr = requireIPv4('pairs.sinkAddress', address);
  const p = requirePort('pairs.port', port);
  if (!/^[A-Za-z0-9_.-]+$/.test(name)) throw new ToolFailure(`pair name ${JSON.stringify(name)} cannot name an nginx file`, '');
  const base = `${dir}/nginx-${name}`;
  return [
    'daemon off;',
    'worker_processes 1;',
    `pid ${base}.pid;`,
    `error_log ${base}.error.log warn;`,
    'events { worker_connections 16384; }',
    'http {',
    '  access_log off;',
    `  client_body_temp_path ${base}.body;`,
    `  proxy_temp_path ${base}.proxy;`,
    `  fastcgi_temp_path ${base}.fastcgi;`,
    `  uwsgi_temp_path ${base}.uwsgi;`,
    `  scgi_temp_path ${base}.scgi;`,
    '  keepalive_requests 1000000;',
    '  server {',
    `    listen ${addr}:${p};`,
    `    location = / { default_type text/html; return 200 "${'x'.repeat(bodyBytes)}"; }`,
    '    location / { return 404; }',
    '  }',
    '}',
    '',
  ].join('\n');
}

export function nginxArgv(dir: string, name: string): string[] {
  const base = `${dir}/nginx-${name}`;
  return ['nginx', '-e', `${base}.error.log`, '-p', dir, '-c', `${base}.conf`];
}

export function wrkArgv(plan: Pick<WorkloadPlan, 'durationMs' | 'http'>, address: string, port: number): string[] {
  const h = plan.http;
  const argv = ['wrk', '-t', String(h.threads), '-c', String(h.concurrency), '-d', `${Math.round(plan.durationMs / 1000)}s`, '--latency', '--timeout', '5s'];
  if (!h.keepalive) argv.push('-H', 'Connection: close');
  argv.push(`http://${requireIPv4('pairs.sinkAddress', address)}:${requirePort('pairs.port', port)}/`);
  return argv;
}

/** The probe's requests: metric name, method, path. */
export const L7_PROBES = [
  { metric: 'l7_get_root_status', method: 'GET', path: '/' },
  { metric: 'l7_post_root_status', method: 'POST', path: '/' },
  { metric: 'l7_get_other_status', method: 'GET', path: '/l7-denied' },
] as const;

/** One curl process sending the probe's requests in order (`--next` starts the next request's options). */
export function curlArgv(address: string, port: number): string[] {
  const base = `http://${requireIPv4('pairs.sinkAddress', address)}:${requirePort('pairs.port', port)}`;
  return L7_PROBES.flatMap((p, i) => [...(i === 0 ? ['curl'] : ['--next']), '-sS', '-o', '/dev/null', '-w', '%{http_code}\\n', '--max-time', '5', '-X', p.method, `${base}${p.path}`]);
}

const TIME_UNITS: Readonly<Record<string, number>> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const SIZE_UNITS: Readonly<Record<string, number>> = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4 };

/** "1.26ms" -> 1.26, "476.00us" -> 0.476 (milliseconds). */
function ms(v: string): number {
  const m = /^([\d.]+)(us|ms|s|m|h)$/.exec(v);
  if (!m) throw new ToolFailure(`wrk printed a time I cannot read: ${JSON.stringify(v)}`, '');
  // Rounded to the nanosecond: wrk prints at most two decimals, the scaling must not add digits.
  return Math.round(Number(m[1]) * TIME_UNITS[m[2]!]! * 1e6) / 1e6;
}

export interface WrkParse {
  readonly metrics: SourceOutcome['metrics'];
}

/** Parses `wrk --latency` output; throws ToolFailure when wrk could not run the test. */
export function parseWrk(output: string): WrkParse {
  const rps = /^Requests\/sec:\s+([\d.]+)/m.exec(output);
  const total = /^\s*(\d+) requests in ([\d.]+)(us|ms|s|m|h), ([\d.]+)(B|KB|MB|GB|TB) read/m.exec(output);
  if (!rps || !total) {
    const first = output.split('\n').find((l) => l.trim() !== '')?.trim();
    throw new ToolFailure(first ? `wrk: ${first}` : 'wrk printed nothing', output);
  }
  const requests = Number(total[1]);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(output)?.[1] ?? 0);
  if (requests === 0) throw new ToolFailure('wrk completed no request', output);
  if (non2xx === requests) throw new ToolFailure(`every one of the ${requests} responses was an error status (not 2xx or 3xx)`, output);
  const seconds = ms(`${total[2]}${total[3]}`) / 1000;
  const metrics = [
    metric('rps', Number(rps[1]), '1/s'),
    metric('requests', requests, 'count'),
    metric('duration', seconds, 's'),
    metric('bytes', Number(total[4]) * SIZE_UNITS[total[5]!]!, 'B'),
  ];
  const lat = /^\s*Latency\s+([\d.]+\w+)\s+([\d.]+\w+)\s+([\d.]+\w+)/m.exec(output);
  if (lat) metrics.push(metric('latency_avg', ms(lat[1]!), 'ms'), metric('latency_stddev', ms(lat[2]!), 'ms'), metric('latency_max', ms(lat[3]!), 'ms'));
  for (const m of output.matchAll(/^\s*(50|75|90|99)%\s+([\d.]+\w+)$/gm)) metrics.push(metric(`latency_p${m[1]}`, ms(m[2]!), 'ms'));
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  metrics.push(
    metric('errors_connect', Number(sock?.[1] ?? 0), 'count'),
    metric('errors_read', Number(sock?.[2] ?? 0), 'count'),
    metric('errors_write', Number(sock?.[3] ?? 0), 'count'),
    metric('errors_timeout', Number(sock?.[4] ?? 0), 'count'),
    metric('non_2xx', non2xx, 'count'),
  );
  return { metrics };
}

export const wrkEngine: WorkloadEngine = {
  name: 'wrk',
  tools: (side, plan) => (side === 'sink' ? ['nginx'] : plan?.http.probe === true ? ['curl'] : ['wrk']),
  sinkPorts: (_plan, pair) => [pair.port],
  async startSink(ctx, plan, pair, sink) {
    await writeFile(`${ctx.workDir}/nginx-${pair.pair}.conf`, nginxConfig(ctx.workDir, pair.pair, pair.sinkAddress, pair.port, plan.http.bodyBytes), { mode: 0o600 });
    const proc = ctx.spawn(nginxArgv(ctx.workDir, pair.pair), { netns: sink.netns });
    return { procs: [proc], listenPorts: [pair.port] };
  },
  async runSource(ctx, plan, pair, source) {
    if (plan.http.probe) return await runL7Probe(ctx, pair, source);
    const proc = ctx.spawn(wrkArgv(plan, pair.sinkAddress, pair.port), { netns: source.netns });
    const r = await proc.exited;
    const raw = joinOutput(r);
    if (r.exitCode !== 0) {
      const said = raw.split('\n').find((l) => l.trim() !== '')?.trim();
      throw new ToolFailure(`wrk exited with ${r.exitCode === null ? `signal ${r.signal}` : `code ${r.exitCode}`}${said ? `: ${said}` : ''}`, raw);
    }
    try {
      return { metrics: parseWrk(raw).metrics, series: [], tool: 'wrk', argv: proc.argv, rawOutput: raw };
    } catch (e) {
      if (e instanceof ToolFailure) throw new ToolFailure(e.message, raw);
      throw e;
    }
  },
};

async function runL7Probe(ctx: Parameters<WorkloadEngine['runSource']>[0], pair: Parameters<WorkloadEngine['runSource']>[2], source: Parameters<WorkloadEngine['runSource']>[3]): Promise<SourceOutcome> {
  const proc = ctx.spawn(curlArgv(pair.sinkAddress, pair.port), { netns: source.netns });
  const r = await proc.exited;
  const raw = joinOutput(r);
  // curl prints 000 for a request that got no HTTP answer (refused, reset, timed out): a status too.
  const codes = [...r.stdout.matchAll(/^(\d{3})$/gm)].map((m) => Number(m[1]));
  if (codes.length !== L7_PROBES.length) throw new ToolFailure(`curl printed ${codes.length} of ${L7_PROBES.length} statuses (exit ${String(r.exitCode ?? r.signal)})`, raw);
  const metrics = L7_PROBES.map((p, i) => metric(p.metric, codes[i]!, 'status'));
  return { metrics, series: [], tool: 'curl', argv: proc.argv, rawOutput: raw };
}
