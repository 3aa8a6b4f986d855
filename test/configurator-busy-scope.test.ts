// A scope the agent is still applying (an attempt the controller gave up on, still running on
// the host) answers a second Apply or a Teardown with CONFLICT "busy". The controller waits for
// it instead of failing the retry at once: a 200-client cell whose run was cut used to fail its
// retry with "scope ... is busy with another Apply or Teardown". Real agent, real namespaces,
// mutual TLS; only the ordering is arranged here.

import t from 'tap';
import { SeconetError, nthHost } from '@seconet/core';
import { connectAgent, startAgent } from '@seconet/agent';
import { createLab, destroyLab, randomLabId } from '../packages/agent/src/lab/topology.js';
import { ExecRunner } from '../packages/agent/src/runner/runner.js';
import { Configurator, isScopeBusy, whileScopeBusy } from '../packages/controller/src/configurator/configurator.js';
import { NO_SECRETS } from '../packages/controller/src/configurator/host-state.js';
import { agentConfig, makePki, tmpDir } from '../packages/agent/test/server-helpers.js';
import { requireRoot } from './helpers/requirements.js';

const runner = new ExecRunner();
const CIDR = '198.19.8.0/23';
const containers = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `c${i}`, address: nthHost(CIDR, i + 2) }));

t.test('whileScopeBusy: waits out a busy scope, not other conflicts, not past its deadline', async (t) => {
  const busy = new SeconetError('CONFLICT', 'scope s is busy with another Apply or Teardown; retry when it ends', { field: 'scope' });
  const overlap = new SeconetError('CONFLICT', 'state.containerCidr overlaps', { field: 'state.containerCidr' });
  let calls = 0;
  t.equal(await whileScopeBusy(async () => (++calls < 3 ? Promise.reject(busy) : 'ok'), 10_000), 'ok', 'answers once the scope is free');
  t.equal(calls, 3);
  calls = 0;
  await t.rejects(whileScopeBusy(async () => { calls++; throw overlap; }, 10_000), { message: /overlaps/ }, 'an overlapping network is not waited for');
  t.equal(calls, 1);
  const t0 = Date.now();
  await t.rejects(whileScopeBusy(async () => { throw busy; }, 1200), { code: 'CONFLICT', message: /still busy after waiting \d+ s/ }, 'a scope busy past the deadline is CONFLICT with the wait');
  t.ok(Date.now() - t0 < 3000, 'gives up at the deadline');
  t.ok(isScopeBusy(busy) && !isScopeBusy(overlap) && !isScopeBusy(new Error('x')));
});

t.test('Apply and Teardown through the controller wait for a scope another Apply holds', { timeout: 240_000 }, async (t) => {
  if (!requireRoot(t, 'namespaces')) return;
  const lab = await createLab(runner, randomLabId(), 1);
  const host = lab.hosts[0]!;
  const pki = await makePki(t, ['h1']);
  const agent = await startAgent(agentConfig(pki, tmpDir(t), 'h1', host.prefix, { hostNetns: host.netns, underlay: { dev: host.underlayDev, address: host.underlayAddress } }));
  const c = connectAgent({ name: 'h1', address: agent.address, tls: { ca: pki.ca.cert, cert: pki.controller.cert, key: pki.controller.key } });
  t.teardown(async () => {
    await c.teardown({ requestId: 'busy-td-final', scope: 'busy' }).catch(() => undefined);
    c.close();
    await agent.stop();
    await destroyLab(runner, lab);
  });

  const state = (n: number) => ({ network: 'bridge', containerCidr: CIDR, containers: containers(n) });
  // A first Apply big enough to hold the scope for a while (hundreds of ms at least).
  const first = c.apply({ requestId: 'busy-1', scope: 'busy', state: state(250) }, { deadlineMs: 120_000 });
  await new Promise((r) => setTimeout(r, 50));
  const direct = await c.apply({ requestId: 'busy-2', scope: 'busy', state: state(250) }, { deadlineMs: 120_000 }).then(() => undefined, (e: unknown) => e);
  t.ok(isScopeBusy(direct), `without waiting, the second Apply is refused as busy: ${String((direct as Error | undefined)?.message)}`);
  const waited = await whileScopeBusy((rem) => c.apply({ requestId: 'busy-3', scope: 'busy', state: state(250) }, { deadlineMs: rem }), 120_000);
  t.ok(waited.containers.length === 250, 'the waiting Apply succeeds once the first one ends');
  await first;

  // Teardown through the Configurator while a changed Apply (another container count) holds the scope.
  const cfg = new Configurator({ agent: () => c, secrets: NO_SECRETS });
  const second = c.apply({ requestId: 'busy-4', scope: 'busy', state: state(60) }, { deadlineMs: 120_000 });
  await new Promise((r) => setTimeout(r, 50));
  const errors = await cfg.teardown('busy', ['h1']);
  t.same(errors, [], 'teardown waited for the Apply and removed the scope');
  await second;
  t.same((await c.check({ scope: 'busy' })).known, false, 'the scope is gone on the agent');
  const left = (await runner.run(['ip', 'netns', 'list'])).stdout.split('\n').filter((l) => l.startsWith(host.prefix) && !l.startsWith(host.netns));
  t.same(left, [], 'no container namespace is left');
});
