// Crash safety of the real daemon: the agent runs as a child process (server/main.ts) on a lab
// host, is SIGKILLed in the middle of a 200-container Apply, and is started again on the same
// stateDir. Its startup GC must leave no namespace and no host-side link with its prefix.
// Then SIGTERM stops it gracefully: exit 0, lock released, port free.

import t from 'tap';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connectAgent } from '../src/client/client.js';
import { createLab, destroyLab, randomLabId, type LabHost } from '../src/lab/topology.js';
import { ExecRunner, type Spawned } from '../src/runner/runner.js';
import { LOCK_FILE } from '../src/server/state-lock.js';
import type { AgentClient } from '../src/client/types.js';
import { makePki, tmpDir, writeConfig, freePort } from './server-helpers.js';
import { requireRoot } from '../../../test/helpers/requirements.js';

const MAIN = fileURLToPath(new URL('../src/server/main.ts', import.meta.url));
const runner = new ExecRunner();


function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

async function ownedNetns(prefix: string): Promise<string[]> {
  const r = await runner.run(['ip', 'netns', 'list']);
  return r.stdout.split('\n').map((l) => l.split(' ')[0] ?? '').filter((n) => n.startsWith(prefix));
}

async function ownedLinks(netns: string, prefix: string): Promise<string[]> {
  const r = await runner.run(['ip', '-n', netns, '-j', 'link', 'show']);
  return (JSON.parse(r.stdout || '[]') as Array<{ ifname: string }>).map((l) => l.ifname).filter((n) => n.startsWith(prefix));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

t.test('SIGKILL mid-Apply, restart on the same stateDir: startup GC leaves nothing behind', { timeout: 300_000 }, async (t) => {
  if (!requireRoot(t, 'namespaces')) return;
  // The agent runs detached and unref'd (as daemons do); keep this process alive while awaiting it.
  const keepAlive = setInterval(() => undefined, 1000);
  t.teardown(() => clearInterval(keepAlive));
  const lab = await createLab(runner, randomLabId(), 1);
  const host: LabHost = lab.hosts[0]!;
  const prefix = host.prefix;
  t.teardown(async () => {
    for (const ns of await ownedNetns(prefix)) await runner.run(['ip', 'netns', 'del', ns]).catch(() => undefined);
    await destroyLab(runner, lab);
  });
  const pki = await makePki(t, ['h1']);
  const dir = tmpDir(t, 'sn-crash-');
  const port = await freePort();
  const stateDir = join(dir, 'state');
  const logFile = join(dir, 'agent.log');
  const file = writeConfig(dir, 'h1', {
    name: 'h1',
    prefix,
    listen: `127.0.0.1:${port}`,
    tls: { ca: pki.ca.cert, cert: pki.agents['h1']!.cert, key: pki.agents['h1']!.key },
    stateDir,
    runDir: join(dir, 'run'),
    hostNetns: host.netns,
    underlay: { dev: host.underlayDev, address: host.underlayAddress, mtu: 1500 },
    logLevel: 'info',
    logFile,
  });

  const children: Spawned[] = [];
  const start = (): Spawned => {
    const child = runner.spawn([process.execPath, '--import=tsx', '--conditions=seconet-source', MAIN, '--config', file], { detached: true, logFile: join(dir, 'stdout.log') });
    children.push(child);
    return child;
  };
  t.teardown(async () => {
    for (const c of children) {
      if (alive(c.pid)) {
        try {
          process.kill(-c.pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    }
  });
  const showLog = (): void => {
    for (const f of [logFile, join(dir, 'stdout.log')]) if (existsSync(f)) t.comment(readFileSync(f, 'utf8').split('\n').slice(-30).join('\n'));
  };

  const connect = (attempts: number): AgentClient => {
    const c = connectAgent({ name: 'h1', address: `127.0.0.1:${port}`, tls: { ca: pki.ca.cert, cert: pki.controller.cert, key: pki.controller.key } }, { attempts, backoffMs: 250 });
    t.teardown(() => c.close());
    return c;
  };
  const waitServing = async (c: AgentClient): Promise<void> => {
    const until = Date.now() + 60_000;
    for (;;) {
      try {
        await c.getInfo({ deadlineMs: 30_000 });
        return;
      } catch (e) {
        if (Date.now() > until) {
          showLog();
          throw e;
        }
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  };

  const first = start();
  const c1 = connect(1);
  await waitServing(c1);

  const containers = Array.from({ length: 200 }, (_, i) => ({ name: `c${i}`, address: `198.19.1.${i + 2}` }));
  const applying = c1
    .apply({ requestId: 'crash-apply-1', scope: 'crash-1', state: { network: 'bridge', containerCidr: '198.19.1.0/24', containers } }, { deadlineMs: 240_000 })
    .then(
      () => 'finished',
      (e: unknown) => e,
    );
  // Kill once host-side veths appear: namespaces and links are both half made then.
  let seen = 0;
  let links = 0;
  let settled = false;
  void applying.then(() => (settled = true));
  const until = Date.now() + 120_000;
  while (links === 0 && !settled && Date.now() < until) {
    seen = (await ownedNetns(prefix)).length;
    if (seen > 0) links = (await ownedLinks(host.netns, prefix)).length;
    if (links === 0) await new Promise((r) => setTimeout(r, 10));
  }
  // The whole group, as a service manager would: the agent and the ip commands it runs.
  process.kill(-first.pid, 'SIGKILL');
  await first.exited;
  t.ok(seen > 0 && links > 0, `namespaces (${seen}) and host links (${links}) appeared before the kill`);
  const result = await applying;
  t.match(result, { code: 'UNAVAILABLE' }, 'the Apply failed with UNAVAILABLE');
  const left = await ownedNetns(prefix);
  const leftLinks = await ownedLinks(host.netns, prefix);
  t.ok(left.length > 0 && leftLinks.length > 0, `the crash left ${left.length} namespaces and ${leftLinks.length} host links behind`);
  t.ok(existsSync(join(stateDir, LOCK_FILE)), 'the dead agent\'s lock is still there');

  const second = start();
  const c2 = connect(4);
  await waitServing(c2);
  t.same(await ownedNetns(prefix), [], 'no namespace with the agent prefix after startup GC');
  t.same(await ownedLinks(host.netns, prefix), [], 'no link with the agent prefix in the host namespace');
  const info = await c2.getInfo();
  t.notOk(info.scopes.includes('crash-1'), 'the half-applied scope is not listed');

  process.kill(second.pid, 'SIGTERM');
  const exit = await Promise.race([second.exited, new Promise<undefined>((r) => setTimeout(() => r(undefined), 60_000).unref())]);
  if (exit === undefined) showLog();
  t.equal(exit?.exitCode, 0, 'graceful stop exits 0');
  t.notOk(existsSync(join(stateDir, LOCK_FILE)), 'lock released');
  t.ok(await portFree(port), 'port freed');
  if (t.passing() === false) showLog();
});
