import t from 'tap';
import { listLinks, listNetns } from '../src/netns/ip-batch.js';
import { teardownObjects } from '../src/journal/undo.js';
import { NETWORK_DRIVERS } from '../src/solutions/index.js';
import { ping, setupLab } from './helpers/two-hosts.js';
import { requireRoot } from '../../../test/helpers/requirements.js';


for (const network of ['bridge', 'routing']) {
  t.test(`${network}: containers reach their gateway, each other and the other host's containers`, async (t) => {
    if (!requireRoot(t, 'network namespaces')) return;
    const lab = await setupLab({ hosts: 2, containers: [2, 1], network, underlayRoutes: true });
    t.teardown(lab.cleanup);
    const [h1, h2] = lab.hosts;
    const [a, b] = h1!.containers;
    const [c] = h2!.containers;
    t.ok(await ping(lab.runner, a!.netns, h1!.view!.gateway === '169.254.1.1' ? h1!.env.underlayAddress : h1!.view!.gateway), 'container -> its host');
    t.ok(await ping(lab.runner, a!.netns, b!.spec.address), 'same host');
    t.ok(await ping(lab.runner, b!.netns, c!.spec.address), 'across hosts over the underlay');
    t.notOk(await ping(lab.runner, a!.netns, '198.19.9.9', { timeoutS: 1 }), 'an address nobody has does not answer');

    const v6 = await lab.runner.run(['ip', '-n', a!.netns, '-6', 'addr', 'show', 'dev', 'eth0']);
    t.equal(v6.stdout.trim(), '', 'no IPv6 link-local address (no DAD/RS/MLD noise on measured links)');
    const driver = NETWORK_DRIVERS.get(network)!;
    t.same(await driver.check(h1!.ctx, h1!.view!), [], 'no drift after ensure');
    const again = await driver.ensure(h1!.ctx, h1!.cidr, h1!.containers, 1500);
    t.equal(again.result.changed, false, 'ensure twice is a no-op');
    await lab.runner.run(['ip', '-n', h1!.host.netns, 'link', 'set', 'dev', b!.hostIface, 'down']);
    const drift = await driver.check(h1!.ctx, h1!.view!);
    t.ok(drift.length > 0, 'a downed veth is drift');

    await teardownObjects({ runner: lab.runner, env: h1!.env }, h1!.journal);
    t.same(h1!.journal.objects(), [], 'journal empty after teardown');
    const ns = await listNetns(lab.runner);
    t.notOk([...ns].some((n) => n.startsWith(h1!.env.prefix)), 'no namespace with the prefix remains');
    const links = await listLinks(lab.runner, h1!.host.netns);
    t.notOk([...links.keys()].some((n) => n.startsWith(h1!.env.prefix)), 'no link with the prefix remains');
    await teardownObjects({ runner: lab.runner, env: h1!.env }, h1!.journal);
  });
}
