import t from 'tap';
import { ExecRunner } from '../src/runner/runner.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLab, destroyLab, labPrefix, listLabNamespaces, randomLabId } from '../src/lab/topology.js';
import { acquirePrefixLock, prefixesInUse } from '../src/server/state-lock.js';
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

t.test('a new lab id avoids the prefixes live agents hold and repeats none of its own', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sn-prefixes-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  // This process holds a free prefix in the machine's lock directory, as a running agent would.
  const held = ['snzz', 'snzy', 'snzx', 'snzw'].find((p) => !prefixesInUse().has(p))!;
  const lock = acquirePrefixLock(held, 'topology-test');
  t.teardown(() => lock.release());
  t.ok(prefixesInUse().has(held), 'a live holder counts as in use');
  const ids = Array.from({ length: 2000 }, () => randomLabId(4));
  const prefixes = ids.flatMap((id) => [1, 2, 3, 4].map((i) => labPrefix(id, i)));
  t.notOk(prefixes.includes(held), `none of ${ids.length} new labs' ${prefixes.length} prefixes is the held one`);
  t.ok(ids.every((id) => new Set([1, 2, 3, 4].map((i) => labPrefix(id, i))).size === 4), 'each lab\'s four hosts have four prefixes');
  lock.release();
  t.notOk(prefixesInUse().has(held), 'released: free again');
  // A lock file left by a process that is gone does not count.
  writeFileSync(join(dir, 'snyy.lock'), JSON.stringify({ name: 'gone', pid: 999_999_999, startTime: 'x' }));
  t.notOk(prefixesInUse(dir).has('snyy'), 'a dead holder does not count');
});
