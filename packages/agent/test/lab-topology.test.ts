import t from 'tap';
import { ExecRunner } from '../src/runner/runner.js';
import { createLab, destroyLab, listLabNamespaces, randomLabId } from '../src/lab/topology.js';
import { requireRoot } from '../../../test/helpers/requirements.js';

t.test('two lab hosts reach each other over the underlay and leave nothing', async (t) => {
  if (!requireRoot(t, 'network namespaces')) return;
  const runner = new ExecRunner();
  const id = randomLabId();
  const topo = await createLab(runner, id, 2);
  t.teardown(() => destroyLab(runner, topo));
  const [h1, h2] = topo.hosts;
  const r = await runner.run(['ping', '-c', '1', '-W', '2', h2!.underlayAddress], { netns: h1!.netns });
  t.match(r.stdout, /1 received/);
  t.not(h1!.prefix, h2!.prefix);
  await destroyLab(runner, topo);
  t.same(await listLabNamespaces(runner, id), []);
});
