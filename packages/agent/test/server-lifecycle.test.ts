import t from 'tap';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connectAgent } from '../src/client/client.js';
import { startAgent } from '../src/server/server.js';
import { isBpffsMounted } from '../src/solutions/bpffs.js';
import { LOCK_FILE } from '../src/server/state-lock.js';
import type { AgentClient } from '../src/client/types.js';
import { FakeReconciler, agentConfig, makePki, tmpDir, type TestPki, freePort } from './server-helpers.js';
import { requireRoot } from '../../../test/helpers/requirements.js';


function client(pki: TestPki, name: string, address: string, attempts = 4): AgentClient {
  return connectAgent({ name, address, tls: { ca: pki.ca.cert, cert: pki.controller.cert, key: pki.controller.key } }, { attempts, backoffMs: 100 });
}

t.test('agent life cycle', async (t) => {
  const pki = await makePki(t, ['h1', 'h2']);

  await t.test('two agents with their own prefix and stateDir serve side by side; a second on one stateDir is refused', async (t) => {
    const dir = tmpDir(t);
    const a1 = await startAgent(agentConfig(pki, dir, 'h1', 'snt3'), { createReconciler: () => new FakeReconciler(), skipBpffs: true });
    t.teardown(() => a1.stop());
    const a2 = await startAgent(agentConfig(pki, dir, 'h2', 'snt4', { underlay: { dev: 'eth0', address: '198.18.0.2' } }), { createReconciler: () => new FakeReconciler(), skipBpffs: true });
    t.teardown(() => a2.stop());
    const c1 = client(pki, 'h1', a1.address);
    const c2 = client(pki, 'h2', a2.address);
    t.teardown(() => (c1.close(), c2.close()));
    const [i1, i2] = await Promise.all([c1.getInfo(), c2.getInfo()]);
    t.same([i1.name, i1.namePrefix, i2.name, i2.namePrefix], ['h1', 'snt3', 'h2', 'snt4']);

    const lock = JSON.parse(readFileSync(join(dir, 'h1', 'state', LOCK_FILE), 'utf8')) as { pid: number };
    t.equal(lock.pid, process.pid, 'the lock names the holder');
    const cfg = agentConfig(pki, dir, 'h2', 'snt5', { stateDir: join(dir, 'h1', 'state'), runDir: join(dir, 'other-run') });
    let created = false;
    await t.rejects(
      startAgent(cfg, { createReconciler: () => ((created = true), new FakeReconciler()), skipBpffs: true }),
      { code: 'CONFLICT', field: 'stateDir', message: /in use by agent "h1"/ },
    );
    t.equal(created, false, 'the refused agent never opened the journal');
    t.ok(existsSync(join(dir, 'h1', 'state', LOCK_FILE)), 'the holder keeps its lock');

    const samePrefix = agentConfig(pki, dir, 'h2', 'snt3', { stateDir: join(dir, 'h3', 'state'), runDir: join(dir, 'h3', 'run') });
    await t.rejects(startAgent(samePrefix, { createReconciler: () => ((created = true), new FakeReconciler()), skipBpffs: true }), {
      code: 'CONFLICT',
      field: 'prefix',
      message: /snt3 is in use by agent "h1"/,
    });
    t.equal(created, false, 'an agent with a prefix in use never opened its journal');
    t.notOk(existsSync(join(dir, 'h3', 'state', LOCK_FILE)), 'and released its stateDir lock');
  });

  await t.test('a missing host namespace or a taken port fails the start naming the field, leaving no lock', async (t) => {
    const dir = tmpDir(t);
    await t.rejects(startAgent(agentConfig(pki, dir, 'h1', 'snu1', { hostNetns: 'snzzzz-no-such-ns' }), { createReconciler: () => new FakeReconciler(), skipBpffs: true }), {
      code: 'INVALID_ARGUMENT',
      field: 'hostNetns',
    });
    const a = await startAgent(agentConfig(pki, dir, 'h1', 'snu2'), { createReconciler: () => new FakeReconciler(), skipBpffs: true });
    t.teardown(() => a.stop());
    const cfg = agentConfig(pki, dir, 'h2', 'snu3', { listen: a.address });
    await t.rejects(startAgent(cfg, { createReconciler: () => new FakeReconciler(), skipBpffs: true }), { code: 'UNAVAILABLE', field: 'listen' });
    t.notOk(existsSync(join(cfg.stateDir, LOCK_FILE)), 'the failed agent released its lock');
    const retry = await startAgent({ ...cfg, listen: '127.0.0.1:0' }, { createReconciler: () => new FakeReconciler(), skipBpffs: true });
    await retry.stop();
  });

  await t.test('a lock left by a dead process is taken over', async (t) => {
    const dir = tmpDir(t);
    const cfg = agentConfig(pki, dir, 'h1', 'snt6');
    await import('node:fs').then((fs) => fs.mkdirSync(cfg.stateDir, { recursive: true }));
    writeFileSync(join(cfg.stateDir, LOCK_FILE), JSON.stringify({ pid: process.pid, startTime: '1', name: 'ghost' }));
    const a = await startAgent(cfg, { createReconciler: () => new FakeReconciler(), skipBpffs: true });
    await a.stop();
    t.notOk(existsSync(join(cfg.stateDir, LOCK_FILE)));
  });

  await t.test('UNAVAILABLE while starting, then served; the client retries through it', async (t) => {
    const dir = tmpDir(t);
    const port = await freePort();
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const starting = startAgent(agentConfig(pki, dir, 'h1', 'snt7', { listen: `127.0.0.1:${port}` }), {
      createReconciler: async () => {
        await gate;
        return new FakeReconciler();
      },
      skipBpffs: true,
    });
    const c1 = client(pki, 'h1', `127.0.0.1:${port}`, 1);
    t.teardown(() => c1.close());
    await c1.waitReady(5000);
    await t.rejects(c1.getInfo({ deadlineMs: 5000 }), { code: 'UNAVAILABLE', message: /agent h1 is starting/ });
    const c2 = client(pki, 'h1', `127.0.0.1:${port}`, 6);
    t.teardown(() => c2.close());
    const later = c2.getInfo({ deadlineMs: 20_000 });
    setTimeout(open, 300);
    t.equal((await later).name, 'h1', 'retried until serving');
    const a = await starting;
    await a.stop();
  });

  await t.test('graceful stop lets a running Apply finish, then frees the port, the lock and bpffs', async (t) => {
    if (!requireRoot(t, 'mounting bpffs')) return;
    const dir = tmpDir(t);
    const rec = new FakeReconciler();
    let release!: () => void;
    rec.hold = new Promise<void>((r) => (release = r));
    const cfg = agentConfig(pki, dir, 'h1', 'snt8');
    const a = await startAgent(cfg, { createReconciler: () => rec });
    const bpffs = join(cfg.runDir, 'bpffs');
    t.teardown(async () => {
      await a.stop();
      if (isBpffsMounted(bpffs)) await import('../src/runner/runner.js').then((m) => new m.ExecRunner().run(['umount', bpffs]));
    });
    t.ok(isBpffsMounted(bpffs), 'bpffs mounted at runDir/bpffs');
    const c = client(pki, 'h1', a.address, 1);
    t.teardown(() => c.close());
    const applying = c.apply({ requestId: 'r1', scope: 'cell-1', state: { network: 'bridge' } });
    await new Promise((r) => setTimeout(r, 200));
    const stopped = a.stop();
    let stopDone = false;
    void stopped.then(() => (stopDone = true));
    await new Promise((r) => setTimeout(r, 200));
    t.equal(stopDone, false, 'stop waits for the running Apply');
    release();
    t.match(await applying, { changed: true }, 'the running Apply finished');
    await stopped;
    t.equal(rec.closed, true, 'reconciler closed');
    t.notOk(existsSync(join(cfg.stateDir, LOCK_FILE)), 'lock released');
    t.notOk(isBpffsMounted(bpffs), 'bpffs unmounted');
    await t.rejects(c.getInfo({ deadlineMs: 3000 }), { code: 'UNAVAILABLE' });
    const again = await startAgent({ ...cfg, listen: a.address }, { createReconciler: () => new FakeReconciler(), skipBpffs: true });
    t.equal(again.port, a.port, 'the port is free again');
    await again.stop();
  });

  await t.test('stop cancels open streams with UNAVAILABLE', async (t) => {
    const dir = tmpDir(t);
    const a = await startAgent(agentConfig(pki, dir, 'h1', 'snt9'), {
      createReconciler: () => new FakeReconciler(),
      skipBpffs: true,
      streamMetrics: async function* (_d, _r, signal) {
        while (!signal.aborted) {
          yield { timestamp: Date.now() / 1000 };
          await new Promise((r) => setTimeout(r, 50));
        }
      },
    });
    const c = client(pki, 'h1', a.address, 1);
    t.teardown(() => c.close());
    let n = 0;
    const reading = (async () => {
      for await (const _ of c.streamMetrics({})) n++;
    })().then(
      () => null,
      (e: unknown) => e,
    );
    await new Promise((r) => setTimeout(r, 300));
    await a.stop();
    t.match(await reading, { name: 'SeconetError', code: 'UNAVAILABLE', message: /stopping/ });
    t.ok(n > 0, 'samples arrived before the stop');
  });
});

t.test('stale prefix locks of dead agents are removed, live ones kept', async (t) => {
  const { mkdtempSync, writeFileSync, existsSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { removeStalePrefixLocks, processStartTime } = await import('../src/server/state-lock.js');
  const dir = mkdtempSync(join(tmpdir(), 'sn-prefix-locks-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'snaa.lock'), JSON.stringify({ pid: process.pid, startTime: processStartTime(process.pid), name: 'alive' }));
  writeFileSync(join(dir, 'snbb.lock'), JSON.stringify({ pid: process.pid, startTime: '1', name: 'recycled pid' }));
  writeFileSync(join(dir, 'sncc.lock'), 'half-written');
  writeFileSync(join(dir, 'notes.txt'), 'not a lock');
  t.same(removeStalePrefixLocks(dir).map((p) => p.slice(dir.length + 1)).sort(), ['snbb.lock', 'sncc.lock']);
  t.ok(existsSync(join(dir, 'snaa.lock')), 'a live holder keeps its lock');
  t.ok(existsSync(join(dir, 'notes.txt')), 'other files are left alone');
});
