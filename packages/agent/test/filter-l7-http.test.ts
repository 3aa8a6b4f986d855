// The l7-http filter through the reconciler (what Apply runs), on one lab host with four
// containers and two allowed pairs: HAProxy runs in each sink container (journaled by PID, its
// configuration validated), GET / reaches the sink's server, POST / and other paths get 403
// from the proxy, a denied pair stays blocked at L3; Check is in sync and reports a dead proxy;
// GC without the scope stops every HAProxy by PID and leaves nothing.

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { containerCidr } from '@seconet/core';
import { processStartTime } from '../src/journal/undo.js';
import { createLab, destroyLab, randomLabId } from '../src/lab/topology.js';
import { createReconciler } from '../src/reconciler/reconciler.js';
import { ExecRunner } from '../src/runner/runner.js';
import { nginxConfig } from '../src/workloads/wrk.js';
import { hostEnvFor, silentLogger } from './helpers/two-hosts.js';
import { applyRequest } from './helpers/requests.js';
import { requireRoot, requireTool } from '../../../test/helpers/requirements.js';

t.test('l7-http: HAProxy in the sink containers passes only GET /', async (t) => {
  if (!requireRoot(t, 'network namespaces')) return;
  for (const tool of ['haproxy', 'curl', 'nginx']) if (!requireTool(t, tool, `the l7-http filter (${tool}; scripts/setup.sh installs it)`)) return;
  const runner = new ExecRunner();
  const dir = mkdtempSync(join(tmpdir(), 'seconet-l7-'));
  const topo = await createLab(runner, randomLabId(), 1);
  const env = hostEnvFor(topo.hosts[0]!, dir);
  const rec = await createReconciler({ env, runner, log: silentLogger() });
  const servers: number[] = [];
  t.teardown(async () => {
    for (const pid of servers) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        /* gone */
      }
    }
    await rec.gc({ requestId: 'cleanup', keepScopes: [] }).catch(() => undefined);
    await destroyLab(runner, topo);
    rmSync(dir, { recursive: true, force: true });
  });
  const cidr = containerCidr(1);
  const allow = [{ src: '198.19.1.2', dst: '198.19.1.3' }, { src: '198.19.1.4', dst: '198.19.1.5' }];
  const req = applyRequest('cell-l7', { network: 'bridge', containers: 4, filter: { kind: 'l7-http', guarded: [cidr], allow, extraRules: 0, ruleMatch: '' } });
  const applied = await rec.apply(req);
  t.equal(applied.filterVariant, 'VARIANT_USERSPACE');
  t.match(applied.filterVersion, /HAProxy version/);
  const [c1, c2, c3, c4] = applied.containers!;

  const journal = JSON.parse(readFileSync(join(env.stateDir, 'journal', 'cell-l7.json'), 'utf8')) as { objects: Array<{ type: string; pid?: number; startTime?: string; what?: string }> };
  const proxies = journal.objects.filter((o) => o.type === 'process' && /^haproxy /.test(o.what ?? ''));
  t.same(proxies.map((p) => p.what).sort(), ['haproxy c2', 'haproxy c4'], 'one HAProxy per sink container, journaled');
  t.ok(proxies.every((p) => processStartTime(p.pid!) === p.startTime), 'both run');

  // The sink's server, as the http workload starts it.
  for (const c of [c2!, c4!]) {
    const conf = join(dir, `nginx-${c.name}.conf`);
    writeFileSync(conf, nginxConfig(dir, c.name!, c.address!, 5201, 16));
    const p = spawn('ip', ['netns', 'exec', c.netns!, 'nginx', '-e', join(dir, `nginx-${c.name}.error.log`), '-p', dir, '-c', conf], { stdio: 'ignore' });
    servers.push(p.pid!);
  }
  await new Promise((r) => setTimeout(r, 500));
  const curl = async (netns: string, method: string, url: string): Promise<string> => {
    const r = await runner.run(['curl', '-sS', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '3', '-X', method, url], { netns }).catch((e: { stdout?: string }) => ({ stdout: e.stdout ?? 'failed' }));
    return r.stdout.trim();
  };
  const url = (c: typeof c2, path: string): string => `http://${c!.address}:5201${path}`;
  t.equal(await curl(c1!.netns!, 'GET', url(c2, '/')), '200', 'GET / passes the proxy to the server');
  t.equal(await curl(c1!.netns!, 'POST', url(c2, '/')), '403', 'POST / is refused by the proxy');
  t.equal(await curl(c1!.netns!, 'GET', url(c2, '/admin')), '403', 'another path is refused by the proxy (nginx alone says 404)');
  t.equal(await curl(c3!.netns!, 'GET', url(c4, '/')), '200', 'the second pair too');
  t.equal(await curl(c1!.netns!, 'GET', url(c4, '/')), '000', 'a denied pair is blocked below HTTP');

  t.same(await rec.check({ scope: 'cell-l7' }), { inSync: true, drifts: [], known: true });
  t.equal((await rec.apply({ ...req, requestId: 'again' })).changed, false, 'the same state again: no-op');
  process.kill(proxies[0]!.pid!, 'SIGKILL');
  await new Promise((r) => setTimeout(r, 200));
  t.match((await rec.check({ scope: 'cell-l7' })).drifts, [{ object: `haproxy c2 (pid ${proxies[0]!.pid})`, observed: 'not running' }], 'Check reports a dead proxy');

  const gc = await rec.gc({ requestId: 'gc', keepScopes: [] });
  t.ok(gc.removedScopes!.includes('cell-l7'));
  t.ok(proxies.every((p) => processStartTime(p.pid!) !== p.startTime), 'GC stopped every HAProxy by PID');
});
