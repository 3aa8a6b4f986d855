// rr (sockperf) and http (wrk against nginx): argv, parsers on real output fixtures, plan
// validation, and both workloads really run between two namespaces with every daemon stopped.
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import type { HostEnv } from '../src/host-env.js';
import type { RunWorkloadRequest__Output } from '../src/gen/seconet/agent/v1/RunWorkloadRequest.js';
import type { WorkloadEvent } from '../src/gen/seconet/agent/v1/WorkloadEvent.js';
import type { PairResult } from '../src/gen/seconet/agent/v1/PairResult.js';
import { nginxArgv, nginxConfig, parseSockperf, parseWrk, resolvePlan, runWorkload, sockperfClientArgv, sockperfServerArgv, wrkArgv, type WorkloadDeps } from '../src/workloads/index.js';
import { curlArgv, wrkEngine } from '../src/workloads/wrk.js';
import { createTwoNetns, type TwoNetns } from './fixtures/two-netns.js';
import { requireRoot, requireTool } from '../../../test/helpers/requirements.js';

const fix = (p: string): string => readFileSync(fileURLToPath(new URL(`./fixtures/${p}`, import.meta.url)), 'utf8');
const spec = (w: Record<string, unknown>) => ({ kind: '', engine: '', protocol: '', payload: 0, durationMs: 0, params: {}, seed: 0, ...w }) as Parameters<typeof resolvePlan>[0];
const get = (ms: ReadonlyArray<{ name?: string | undefined; value?: number | string | undefined }>, name: string): number | undefined => {
  const v = ms.find((m) => m.name === name)?.value;
  return v === undefined ? undefined : Number(v);
};

t.test('sockperf: argv and the real ping-pong report', async (t) => {
  const plan = resolvePlan(spec({ kind: 'rr', durationMs: 3000 }));
  t.equal(plan.engine, 'sockperf');
  t.equal(plan.payload, 64, 'rr default message size');
  t.same(sockperfServerArgv(plan, '198.19.2.2', 5301), ['sockperf', 'server', '-i', '198.19.2.2', '-p', '5301', '--tcp']);
  t.same(sockperfClientArgv(plan, '198.19.2.2', 5301), ['sockperf', 'ping-pong', '-i', '198.19.2.2', '-p', '5301', '-t', '3', '-m', '64', '--full-rtt', '--tcp']);
  t.throws(() => sockperfClientArgv(plan, '198.19.2.2; reboot', 5301), { code: 'INVALID_ARGUMENT' });

  const p = parseSockperf(fix('sockperf/tcp-ping-pong.txt'));
  t.equal(p.version, '3.7-no.git');
  t.equal(get(p.metrics, 'transactions'), 37443);
  t.equal(get(p.metrics, 'duration'), 1.546);
  t.equal(Math.round(get(p.metrics, 'tps')!), Math.round(37443 / 1.546));
  t.equal(get(p.metrics, 'rtt_avg'), 41.259);
  t.equal(get(p.metrics, 'rtt_p50'), 13.87);
  t.equal(get(p.metrics, 'rtt_p99'), 138.465);
  t.equal(get(p.metrics, 'rtt_p999'), 3528.244);
  t.ok(get(p.metrics, 'rtt_min')! <= get(p.metrics, 'rtt_p50')! && get(p.metrics, 'rtt_p50')! <= get(p.metrics, 'rtt_max')!);
  t.equal(get(p.metrics, 'dropped'), 0);
  t.ok(p.metrics.filter((m) => (m.name ?? '').startsWith('rtt')).every((m) => m.unit === 'us'));

  t.throws(() => parseSockperf(fix('sockperf/refused.txt')), { name: 'ToolFailure', message: /sockperf: Can`t connect socket \(errno=111 Connection refused\)/ }, 'exit 0 without a report is a failure');
  t.throws(() => parseSockperf(''), { message: /no report/ });
  t.throws(() => resolvePlan(spec({ kind: 'rr', protocol: 'udp' })), { code: 'INVALID_ARGUMENT', message: /workload.protocol: rr runs over tcp/ });
});

t.test('wrk and nginx: argv, config and the real reports', async (t) => {
  const plan = resolvePlan(spec({ kind: 'http', durationMs: 5000 }));
  t.equal(plan.engine, 'wrk');
  t.same(plan.http, { concurrency: 100, threads: 1, keepalive: true, bodyBytes: 612, probe: false });
  t.same(wrkEngine.tools('source', plan), ['wrk']);
  const probe = resolvePlan(spec({ kind: 'http', durationMs: 1000, params: { probe: 'l7' } }));
  t.equal(probe.http.probe, true, 'the l7-http pre-flight probe');
  t.same(wrkEngine.tools('source', probe), ['curl'], 'the probe runs curl, not wrk');
  t.same(curlArgv('198.19.2.2', 5301), [
    'curl', '-sS', '-o', '/dev/null', '-w', '%{http_code}\\n', '--max-time', '5', '-X', 'GET', 'http://198.19.2.2:5301/',
    '--next', '-sS', '-o', '/dev/null', '-w', '%{http_code}\\n', '--max-time', '5', '-X', 'POST', 'http://198.19.2.2:5301/',
    '--next', '-sS', '-o', '/dev/null', '-w', '%{http_code}\\n', '--max-time', '5', '-X', 'GET', 'http://198.19.2.2:5301/l7-denied',
  ], 'one curl process, three requests');
  t.throws(() => resolvePlan(spec({ kind: 'http', params: { probe: 'l4' } })), { code: 'INVALID_ARGUMENT', field: 'workload.params.probe', message: /the only one is "l7"/ });
  t.same(wrkArgv(plan, '198.19.2.2', 5301), ['wrk', '-t', '1', '-c', '100', '-d', '5s', '--latency', '--timeout', '5s', 'http://198.19.2.2:5301/']);
  const close = resolvePlan(spec({ kind: 'http', durationMs: 5000, params: { concurrency: '10', keepalive: 'false' } }));
  t.same(wrkArgv(close, '198.19.2.2', 5301).slice(-3), ['-H', 'Connection: close', 'http://198.19.2.2:5301/']);
  t.equal(resolvePlan(spec({ kind: 'http' })).durationMs, 20_000, 'http default: 20 s');
  t.throws(() => resolvePlan(spec({ kind: 'http', params: { concurrency: '0' } })), { code: 'INVALID_ARGUMENT', field: 'workload.params.concurrency' });
  t.throws(() => resolvePlan(spec({ kind: 'http', params: { rate: '1' } })), { code: 'INVALID_ARGUMENT', field: 'workload.params.rate' });

  const conf = nginxConfig('/run/x', 'p0', '198.19.2.2', 5301, 612);
  t.match(conf, /^daemon off;$/m);
  t.match(conf, /^ {4}listen 198\.19\.2\.2:5301;$/m);
  t.match(conf, /pid \/run\/x\/nginx-p0\.pid;/);
  t.ok(conf.includes(`return 200 "${'x'.repeat(612)}"`));
  t.same(nginxArgv('/run/x', 'p0'), ['nginx', '-e', '/run/x/nginx-p0.error.log', '-p', '/run/x', '-c', '/run/x/nginx-p0.conf']);
  t.throws(() => nginxConfig('/run/x', 'p0', '198.19.2.2', 5301 + 70000, 612), { code: 'INVALID_ARGUMENT' });

  const k = parseWrk(fix('wrk/keepalive-c100.txt'));
  t.equal(get(k.metrics, 'rps'), 31820.1);
  t.equal(get(k.metrics, 'requests'), 95663);
  t.equal(get(k.metrics, 'duration'), 3.01);
  t.equal(get(k.metrics, 'latency_avg'), 4.36);
  t.equal(get(k.metrics, 'latency_p50'), 1.26);
  t.equal(get(k.metrics, 'latency_p99'), 45.06);
  t.equal(get(k.metrics, 'errors_connect'), 0);
  t.equal(get(k.metrics, 'non_2xx'), 0);
  const c = parseWrk(fix('wrk/connection-close-c10.txt'));
  t.equal(get(c.metrics, 'rps'), 8201.48);
  t.equal(get(c.metrics, 'latency_p50'), 0.476, 'us converted to ms');
  t.throws(() => parseWrk(fix('wrk/all-404.txt')), { message: /every one of the 23695 responses was an error status/ });
  t.throws(() => parseWrk(fix('wrk/refused.txt')), { message: /wrk: unable to connect to 127\.0\.0\.1:18081 Connection refused/ });
});

t.test('both workloads between two namespaces', async (t) => {
  if (!requireRoot(t, 'network namespaces')) return;
  for (const tool of ['sockperf', 'wrk', 'nginx']) if (!requireTool(t, tool, `${tool} (scripts/setup.sh installs it)`)) return;
  const lab: TwoNetns = await createTwoNetns();
  const runDir = mkdtempSync(join(tmpdir(), 'sn-rrhttp-'));
  t.teardown(async () => {
    await lab.destroy();
    rmSync(runDir, { recursive: true, force: true });
  });
  const env: HostEnv = { name: 'h1', prefix: 'snrh', hostNetns: undefined, stateDir: runDir, runDir, bpffs: runDir, underlayDev: 'eth0', underlayAddress: '198.18.0.1', underlayMtu: 1500 };
  const deps: WorkloadDeps = {
    env,
    runner: lab.runner,
    log: pino({ level: 'silent' }),
    resolveContainer: (scope, name) => (scope !== 'sc1' ? undefined : name === 'ca' ? lab.a : name === 'cb' ? lab.b : undefined),
  };
  const pairs = [{ pair: 'p0', sourceContainer: 'ca', sourceAddress: lab.a.spec.address, sinkContainer: 'cb', sinkAddress: lab.b.spec.address, port: 5401 }];
  const request = (role: 'ROLE_SINK' | 'ROLE_SOURCE', workload: Record<string, unknown>): RunWorkloadRequest__Output => ({
    requestId: 'r', scope: 'sc1', runId: 'live', role, workload: spec(workload), pairs, timeoutMs: 0,
  }) as unknown as RunWorkloadRequest__Output;
  const run = async (workload: Record<string, unknown>): Promise<{ sink: WorkloadEvent[]; result: PairResult | undefined; errors: WorkloadEvent[] }> => {
    const ac = new AbortController();
    const sink: WorkloadEvent[] = [];
    let onReady!: () => void;
    const ready = new Promise<void>((r) => (onReady = r));
    const sinkDone = runWorkload(deps, request('ROLE_SINK', workload), (e) => {
      sink.push(e);
      if (e.ready || e.error) onReady();
    }, ac.signal);
    await Promise.race([ready, sinkDone]);
    const source: WorkloadEvent[] = [];
    await runWorkload(deps, request('ROLE_SOURCE', workload), (e) => source.push(e), new AbortController().signal);
    ac.abort();
    await sinkDone;
    return { sink, result: source.find((e) => e.result)?.result ?? undefined, errors: [...sink, ...source].filter((e) => e.error) };
  };
  const val = (r: PairResult | undefined, name: string): number => Number(r?.metrics?.find((m) => m.name === name)?.value ?? Number.NaN);
  const noneLeft = async (): Promise<void> => {
    await sleep(200);
    t.same(await lab.pids(), [], 'no daemon left in the container namespaces');
  };

  const rr = await run({ kind: 'rr', engine: 'sockperf', durationMs: 2000 });
  t.same(rr.errors, [], 'no error event');
  t.ok(rr.sink.some((e) => e.ready), 'sockperf server listened before ready');
  t.equal(rr.result?.tool, 'sockperf');
  t.match(rr.result?.toolVersion, /^3\./);
  t.ok(val(rr.result, 'tps') > 500, `tps ${val(rr.result, 'tps').toFixed(0)}`);
  t.ok(val(rr.result, 'rtt_p50') > 0 && val(rr.result, 'rtt_p50') <= val(rr.result, 'rtt_p99'), 'percentiles ordered');
  await noneLeft();

  const http = await run({ kind: 'http', engine: 'wrk', durationMs: 2000, params: { concurrency: '20' } });
  t.same(http.errors, [], 'no error event');
  t.ok(http.sink.some((e) => e.ready), 'nginx listened before ready');
  t.equal(http.result?.tool, 'wrk');
  t.ok(val(http.result, 'rps') > 500, `rps ${val(http.result, 'rps').toFixed(0)}`);
  t.equal(val(http.result, 'non_2xx'), 0);
  t.ok(val(http.result, 'latency_p50') > 0 && val(http.result, 'latency_p50') <= val(http.result, 'latency_p99'));
  await noneLeft();

  const crr = await run({ kind: 'http', engine: 'wrk', durationMs: 1000, params: { concurrency: '4', keepalive: 'false' } });
  t.same(crr.errors, [], 'no error event');
  t.ok(val(crr.result, 'rps') > 100 && val(crr.result, 'rps') < val(http.result, 'rps'), `a connection per request is slower: ${val(crr.result, 'rps').toFixed(0)} vs ${val(http.result, 'rps').toFixed(0)} req/s`);
  await noneLeft();
});
