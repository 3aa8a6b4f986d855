// Recovery of an agent that stops answering: the registry restarts it over real SSH (sshd in a
// lab host) and reads its last log lines; the engine puts what it found into the failed run's
// error and goes on with the sweep.

import t from 'tap';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SeconetError } from '@seconet/core';
import { AgentRegistry } from '../src/agents/registry.js';
import type { AgentLink } from '../src/agents/contract.js';
import { parseControllerConfig } from '../src/config.js';
import { Engine } from '../src/engine/engine.js';
import { NO_SECRETS } from '../src/configurator/host-state.js';
import { openStore } from '../src/store/store.js';
import { FakePool } from './fake-agent.js';
import { cell, latency, plan } from './fixtures.js';
import { netnsProxyCommand, sshLab } from '../../../test/helpers/sshd.js';
import { requireRoot } from '../../../test/helpers/requirements.js';

const fast = { metricsIntervalMs: 20, retryDelayMs: 10, cancelPollMs: 20, runMarginMs: 2000, retries: 0 };

t.test('the engine restarts a failed agent and keeps what it found with the run', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sn-recovery-'));
  const store = openStore(dir);
  t.teardown(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const recovered: string[] = [];
  const pool = Object.assign(new FakePool(['h1', 'h2']), {
    async recover(name: string, opts?: { now?: boolean }) {
      recovered.push(`${name}:${opts?.now === true}`);
      pool.get(name).behaviour.down = false;
      return { restarted: true, exitCode: 0, output: '', logTail: 'panic: the last words of h2\n' };
    },
  });
  const p = plan('r1', { cells: [cell(0)], workloads: [latency], repetitions: { min: 3, max: 3, ciRelWidth: 1 } });
  store.createExperiment(p, {});
  const victim = p.runs[1]!.id;
  const h2 = pool.get('h2');
  const original = h2.runWorkload.bind(h2);
  h2.runWorkload = (req, opts) => {
    if (req.runId === victim && req.role === 'ROLE_SINK') {
      h2.behaviour.down = true; // the agent dies during this run
      return (async function* () {
        throw Object.assign(new SeconetError('UNAVAILABLE', 'agent h2: Connection dropped'), {});
      })();
    }
    return original(req, opts);
  };
  const engine = new Engine({ store, agents: pool, secrets: NO_SECRETS, options: fast });
  t.equal(await engine.run('r1'), 'succeeded', 'the sweep goes on');
  const failed = store.getRun(victim);
  t.equal(failed?.state, 'failed');
  t.match(failed?.error, /Connection dropped/);
  t.match(failed?.error, /restarted over SSH \(ok\)/);
  t.match(failed?.error, /the last words of h2/, 'the run keeps the agent\'s last log lines');
  t.same(recovered, ['h2:true'], 'restarted once, at once after the failed run');
  t.equal(store.runs('r1').filter((r) => r.state === 'succeeded').length, 2, 'the other runs measured');
});

t.test('agents[].recovery in the controller config', async (t) => {
  const cfg = parseControllerConfig({
    agents: [{ name: 'h1', address: '198.18.0.1:7443', tls: { ca: 'ca', cert: 'c', key: 'k' }, recovery: { ssh: { host: '198.18.0.1', identityFile: 'id', knownHostsFile: 'kh' }, restartCommand: ['systemctl', 'restart', 'seconet-agent'], logFile: '/var/log/seconet/agent.log' } }],
  }, '/etc/seconet');
  const r = cfg.agents[0]?.recovery;
  t.equal(r?.ssh.username, 'root');
  t.equal(r?.ssh.port, 22);
  t.equal(r?.ssh.identityFile, '/etc/seconet/id');
  t.same(r?.restartCommand, ['systemctl', 'restart', 'seconet-agent']);
  t.throws(() => parseControllerConfig({ agents: [{ name: 'h1', address: '198.18.0.1:7443', tls: { ca: 'ca', cert: 'c', key: 'k' }, recovery: { ssh: { host: 'x', identityFile: 'i', knownHostsFile: 'k' }, restartCommand: 'systemctl restart seconet-agent' } }] }), /agents\[0\]\.recovery\.restartCommand: expected a non-empty list/);
});

t.test('the registry restarts an agent over real SSH and reads its log', async (t) => {
  if (!requireRoot(t, 'network namespaces')) return;
  const { h1, h2, sshd } = await sshLab(t);
  const log = join(sshd.dir, 'agent.log');
  writeFileSync(log, 'starting\nGetInfo ok\nfatal: out of memory\n');
  const marker = join(sshd.dir, 'restarted');
  const dead: AgentLink = new Proxy({} as AgentLink, {
    get: (_t, prop) => (prop === 'close' ? () => undefined : async () => { throw new SeconetError('UNAVAILABLE', 'agent h1: connection refused'); }),
  });
  const registry = new AgentRegistry(
    [{ name: 'h1', address: '127.0.0.1:1', tls: { ca: '', cert: '', key: '' }, recovery: { ssh: { host: h1.underlayAddress, port: 22, username: 'root', identityFile: sshd.clientKey, knownHostsFile: sshd.knownHosts, proxyCommand: netnsProxyCommand(h2.netns, h1.underlayAddress, 22) }, restartCommand: ['touch', marker], logFile: log, logLines: 1, afterMs: 60_000 } }],
    () => dead,
  );
  t.teardown(() => registry.close());
  t.equal(await registry.recover('h1'), undefined, 'nothing to do while the agent was never seen down');
  await t.rejects(registry.refresh('h1'));
  t.equal(await registry.recover('h1'), undefined, 'not yet: down for less than afterMs');
  const r = await registry.recover('h1', { now: true });
  t.equal(r?.restarted, true);
  t.equal(r?.logTail, 'fatal: out of memory\n');
  t.ok(existsSync(marker), 'the restart command ran on the host');
  t.equal(await registry.recover('h1', { now: true }), undefined, 'at most one restart per interval');
});

t.test('after a restart that succeeded, the agent gets its start-up grace before another', async (t) => {
  if (!requireRoot(t, 'network namespaces')) return;
  const { h1, h2, sshd } = await sshLab(t);
  const count = join(sshd.dir, 'restarts');
  const dead: AgentLink = new Proxy({} as AgentLink, {
    get: (_t, prop) => (prop === 'close' ? () => undefined : async () => { throw new SeconetError('UNAVAILABLE', 'agent h1: connection refused'); }),
  });
  const ssh = { host: h1.underlayAddress, port: 22, username: 'root', identityFile: sshd.clientKey, knownHostsFile: sshd.knownHosts, proxyCommand: netnsProxyCommand(h2.netns, h1.underlayAddress, 22) };
  // The restart command appends a line per run: how many restarts really reached the host.
  const restartCommand = ['/bin/sh', '-c', `echo x >> ${count}`];
  const registry = (startGraceMs: number) => new AgentRegistry([{ name: 'h1', address: '127.0.0.1:1', tls: { ca: '', cert: '', key: '' }, recovery: { ssh, restartCommand, afterMs: 0, startGraceMs } }], () => dead);
  const lines = (): number => (existsSync(count) ? readFileSync(count, 'utf8').split('\n').filter(Boolean).length : 0);

  const graced = registry(60_000);
  t.teardown(() => graced.close());
  await t.rejects(graced.refresh('h1'));
  t.equal((await graced.recover('h1', { now: true }))?.restarted, true, 'first restart');
  await t.rejects(graced.refresh('h1'), 'still not answering (starting)');
  t.equal(await graced.recover('h1', { now: true }), undefined, 'no second restart within the start-up grace');
  t.equal(lines(), 1, 'one restart reached the host');

  const eager = registry(0);
  t.teardown(() => eager.close());
  await t.rejects(eager.refresh('h1'));
  t.equal((await eager.recover('h1', { now: true }))?.restarted, true);
  await t.rejects(eager.refresh('h1'));
  t.equal((await eager.recover('h1', { now: true }))?.restarted, true, 'without a grace (and afterMs 0) the next restart is due at once');
  t.equal(lines(), 3, 'two more restarts reached the host');
});
