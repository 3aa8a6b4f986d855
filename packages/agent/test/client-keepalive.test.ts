// A hung agent (SIGSTOPped: the socket stays open, nothing answers) must fail the calls on it
// within the keepalive window, not leave the controller waiting forever during a night sweep.

import t from 'tap';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connectAgent } from '../src/client/client.js';
import { createLab, destroyLab, randomLabId } from '../src/lab/topology.js';
import { ExecRunner } from '../src/runner/runner.js';
import { makePki, tmpDir, writeConfig, freePort } from './server-helpers.js';
import { requireRoot } from '../../../test/helpers/requirements.js';

const MAIN = fileURLToPath(new URL('../src/server/main.ts', import.meta.url));
const runner = new ExecRunner();


t.test('calls on a hung agent fail with UNAVAILABLE within the keepalive window', { timeout: 180_000 }, async (t) => {
  if (!requireRoot(t, 'namespaces')) return;
  const keepAlive = setInterval(() => undefined, 1000);
  t.teardown(() => clearInterval(keepAlive));
  const lab = await createLab(runner, randomLabId(), 1);
  const host = lab.hosts[0]!;
  t.teardown(() => destroyLab(runner, lab));
  const pki = await makePki(t, ['h1']);
  const dir = tmpDir(t, 'sn-ka-');
  const port = await freePort();
  const logFile = join(dir, 'agent.log');
  const file = writeConfig(dir, 'h1', {
    name: 'h1',
    prefix: host.prefix,
    listen: `127.0.0.1:${port}`,
    tls: { ca: pki.ca.cert, cert: pki.agents['h1']!.cert, key: pki.agents['h1']!.key },
    stateDir: join(dir, 'state'),
    runDir: join(dir, 'run'),
    hostNetns: host.netns,
    underlay: { dev: host.underlayDev, address: host.underlayAddress },
    logLevel: 'info',
    logFile,
  });
  const child = runner.spawn([process.execPath, '--import=tsx', '--conditions=seconet-source', MAIN, '--config', file], { detached: true, logFile: join(dir, 'stdout.log') });
  t.teardown(async () => {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
    await child.exited;
  });

  const c = connectAgent({ name: 'h1', address: `127.0.0.1:${port}`, tls: { ca: pki.ca.cert, cert: pki.controller.cert, key: pki.controller.key } }, { attempts: 1 });
  t.teardown(() => c.close());
  const until = Date.now() + 60_000;
  for (;;) {
    try {
      await c.getInfo({ deadlineMs: 30_000 });
      break;
    } catch (e) {
      if (Date.now() > until) {
        if (existsSync(logFile)) t.comment(readFileSync(logFile, 'utf8'));
        throw e;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  process.kill(child.pid, 'SIGSTOP');
  const t0 = Date.now();
  const e = await c.check({ scope: 'anything' }).catch((x: unknown) => x);
  const waited = Date.now() - t0;
  process.kill(child.pid, 'SIGCONT');
  t.match(e, { name: 'SeconetError', code: 'UNAVAILABLE' }, 'the call failed as UNAVAILABLE');
  t.ok(waited < 30_000, `noticed within ${waited} ms, without a deadline`);

  process.kill(child.pid, 'SIGTERM');
  const exit = await child.exited;
  t.equal(exit.exitCode, 0, 'the agent still stops cleanly afterwards');
});
