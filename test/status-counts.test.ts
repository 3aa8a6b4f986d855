// Run counts agree everywhere: the store, the REST API (experiment body and /metrics) and
// `seconet status` (table and --json) count an experiment of 36 runs with 9 failed and 3
// skipped as 36 done of 36, 9 failed; never "45/36". Real store, real ControllerServiceImpl,
// the real API over HTTP, the built CLI.
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApi } from '../packages/controller/src/api/build-api.js';
import { ControllerServiceImpl } from '../packages/controller/src/controller.js';
import { openStore } from '../packages/controller/src/store/store.js';
import type { AgentRegistry } from '../packages/controller/src/agents/registry.js';
import type { Engine } from '../packages/controller/src/engine/engine.js';
import type { ExperimentQueue } from '../packages/controller/src/queue/experiment-queue.js';
import { cell, latency, plan, throughput } from '../packages/controller/test/fixtures.js';
import { runCli } from './cli-helpers.js';

const TOKEN = 'status-counts-token-0123456789';

t.test('status and the API count done, failed and total runs the same way', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sn-status-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const store = openStore(join(dir, 'store'));
  t.teardown(() => store.close());
  const cells = Array.from({ length: 6 }, (_, i) => cell(i));
  const p = plan('e36', { cells, workloads: [latency, throughput], repetitions: { min: 3, max: 3, ciRelWidth: 0.05 } });
  store.createExperiment(p, {});
  const runs = store.runs('e36');
  t.equal(runs.length, 36);
  for (const [i, r] of runs.entries()) {
    if (i < 9) {
      store.startRun(r.id);
      store.failRun(r.id, 'INVALID_ARGUMENT workload.payload: does not fit');
    } else if (i < 12) store.skipRun(r.id, 'isolation does not hold');
    else if (i < 30) {
      store.startRun(r.id);
      await store.recordRunResult(r.id, { metrics: [{ pair: 'p0', flow: '', metric: 'rtt_avg', value: 1, unit: 'ms' }], series: [], raw: [], hostSamples: [], provenance: {} });
    }
  }
  t.same(store.progress('e36'), { runsTotal: 36, runsDone: 30, runsFailed: 9 }, 'six runs still pending');
  for (const r of store.runs('e36').filter((x) => x.state === 'pending')) {
    store.startRun(r.id);
    await store.recordRunResult(r.id, { metrics: [{ pair: 'p0', flow: '', metric: 'rtt_avg', value: 1, unit: 'ms' }], series: [], raw: [], hostSamples: [], provenance: {} });
  }
  store.setExperimentState('e36', 'succeeded');

  const service = new ControllerServiceImpl(store, { status: () => [] } as unknown as AgentRegistry, { current: () => undefined } as unknown as Engine, { depth: async () => 0 } as unknown as ExperimentQueue);
  const app = await buildApi({ service, tokens: [TOKEN], rateLimit: false });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  t.teardown(() => app.close());
  const get = async (path: string): Promise<Response> => fetch(`${url}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });

  const body = (await (await get('/v1/experiments/e36')).json()) as { progress: Record<string, number> };
  t.same(body.progress, { runsDone: 36, runsFailed: 9, runsTotal: 36 }, 'the API: 36 done (9 of them failed) of 36');
  const metrics = await (await get('/metrics')).text();
  t.match(metrics, /^seconet_runs_done_total 36$/m, '/metrics counts done runs the same way');
  t.match(metrics, /^seconet_runs_failed_total 9$/m);

  const tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
  const env = { SECONET_LAB_DIR: join(dir, 'no-lab') };
  const one = await runCli(['--api', url, '--token-file', tokenFile, 'status', 'e36'], { env });
  t.equal(one.code, 0, one.stderr);
  const cols = one.stdout.split('\n')[1]!.trim().split(/\s+/);
  t.equal(cols[3], '36/36', `status shows 36/36: ${one.stdout}`);
  t.equal(cols[4], '9', 'and 9 failed');
  t.notMatch(one.stdout, /45\/36/);
  const list = await runCli(['--api', url, '--token-file', tokenFile, 'status'], { env });
  t.match(list.stdout, /e36\s+exp-e36\s+succeeded\s+36\/36\s+9\s/, 'the list agrees');
  const json = await runCli(['--api', url, '--token-file', tokenFile, 'status', 'e36', '--json'], { env });
  t.same(JSON.parse(json.stdout).progress, body.progress, '--json carries the API\'s counts');
});
