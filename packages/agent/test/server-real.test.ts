// The server in front of the real reconciler and drivers on a lab host: GetInfo reports what
// this kernel offers (and what it lacks, with a reason), and a bad Apply comes back through
// the real client as INVALID_ARGUMENT naming the field, with nothing created.

import t from 'tap';
import { connectAgent } from '../src/client/client.js';
import { createLab, destroyLab, randomLabId } from '../src/lab/topology.js';
import { ExecRunner } from '../src/runner/runner.js';
import { startAgent } from '../src/server/server.js';
import { agentConfig, makePki, tmpDir } from './server-helpers.js';
import { requireRoot } from '../../../test/helpers/requirements.js';

const runner = new ExecRunner();

t.test('GetInfo and a bad Apply against the real reconciler', { timeout: 240_000 }, async (t) => {
  if (!requireRoot(t, 'namespaces')) return;
  const lab = await createLab(runner, randomLabId(), 1);
  const host = lab.hosts[0]!;
  t.teardown(() => destroyLab(runner, lab));
  const pki = await makePki(t, ['h1']);
  const dir = tmpDir(t);
  const agent = await startAgent(
    agentConfig(pki, dir, 'h1', host.prefix, { hostNetns: host.netns, underlay: { dev: host.underlayDev, address: host.underlayAddress } }),
  );
  t.teardown(() => agent.stop());
  const c = connectAgent({ name: 'h1', address: agent.address, tls: { ca: pki.ca.cert, cert: pki.controller.cert, key: pki.controller.key } });
  t.teardown(() => c.close());

  const info = await c.getInfo({ deadlineMs: 180_000 });
  const cap = (category: string, kind: string, variant: string) => info.capabilities.find((x) => x.category === category && x.kind === kind && x.variant === variant);
  t.comment(info.capabilities.map((x) => `${x.category}/${x.kind}/${x.variant}: ${x.available ? 'yes' : `no (${x.reason})`}`).join('\n'));
  t.match(cap('network', 'bridge', 'VARIANT_KERNEL'), { available: true }, 'bridge available');
  t.match(cap('tunnel', 'vxlan', 'VARIANT_KERNEL'), { available: true }, 'vxlan available');
  const ipip = cap('tunnel', 'ipip', 'VARIANT_KERNEL');
  t.ok(ipip, 'ipip kernel is listed');
  t.equal(ipip?.available, false, 'ipip kernel is missing on this kernel');
  t.ok((ipip?.reason ?? '').length > 0, `with a reason: ${ipip?.reason}`);
  t.match(info.nics, [{ name: 'eth0', addresses: [`${host.underlayAddress}/24`] }], 'NICs of the lab host namespace');

  const owned = async (): Promise<string[]> =>
    (await runner.run(['ip', 'netns', 'list'])).stdout.split('\n').map((l) => l.split(' ')[0] ?? '').filter((n) => n.startsWith(host.prefix));
  await t.rejects(
    c.apply({ requestId: 'bad-1', scope: 'bad-scope', state: { network: 'bridge', containerCidr: '198.19.1.0/24', containers: [{ name: 'c0', address: '198.19.2.5' }] } }),
    { name: 'SeconetError', code: 'INVALID_ARGUMENT', field: 'state.containers[0].address', message: /outside state\.containerCidr/ },
  );
  await t.rejects(c.apply({ requestId: 'bad-2', scope: 'bad-scope', state: { network: 'token-ring', containerCidr: '198.19.1.0/24', containers: [{ name: 'c0', address: '198.19.1.5' }] } }), {
    code: 'INVALID_ARGUMENT',
    field: 'state.network',
  });
  t.same(await owned(), [], 'nothing was created');
});
