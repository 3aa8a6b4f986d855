// The kernel limits 1,000 containers run into (the global neighbour table, the backlog) are
// raised before the containers exist, never lowered, and a limit the agent cannot touch is left
// alone with a warning; on a directory standing in for /proc/sys (containers-scale.test.ts checks
// the real kernel after a cell of 300 containers).
import t from 'tap';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureHostLimits, wantedLimits, NEIGH_PER_NETNS } from '../src/netns/host-limits.js';

const logs: Array<{ level: string; obj: object }> = [];
const log = { info: (obj: object) => logs.push({ level: 'info', obj }), warn: (obj: object) => logs.push({ level: 'warn', obj }) };

function fakeProcSys(values: Record<string, number>): string {
  const dir = mkdtempSync(join(tmpdir(), 'sn-sysctl-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  for (const [k, v] of Object.entries(values)) {
    mkdirSync(join(dir, k, '..'), { recursive: true });
    writeFileSync(join(dir, k), `${v}\n`);
  }
  return dir;
}
const read = (dir: string, k: string): number => Number(readFileSync(join(dir, k), 'utf8'));

t.test('2,000 namespaces: the neighbour table and the backlog are raised to hold them', async (t) => {
  const dir = fakeProcSys({ 'net/ipv4/neigh/default/gc_thresh2': 512, 'net/ipv4/neigh/default/gc_thresh3': 1024, 'net/core/netdev_max_backlog': 1000 });
  const changes = ensureHostLimits(2000, log, dir);
  t.equal(read(dir, 'net/ipv4/neigh/default/gc_thresh3'), 1024 + NEIGH_PER_NETNS * 2000);
  t.equal(read(dir, 'net/ipv4/neigh/default/gc_thresh2'), (1024 + NEIGH_PER_NETNS * 2000) / 2);
  t.equal(read(dir, 'net/core/netdev_max_backlog'), 4000);
  t.same(changes.map((c) => [c.sysctl, c.from]), [['net.ipv4.neigh.default.gc_thresh2', 512], ['net.ipv4.neigh.default.gc_thresh3', 1024], ['net.core.netdev_max_backlog', 1000]]);
  t.ok(logs.some((l) => l.level === 'info'), 'what changed is logged');
});

t.test('a larger setting stays; a few namespaces change nothing', async (t) => {
  const dir = fakeProcSys({ 'net/ipv4/neigh/default/gc_thresh2': 90000, 'net/ipv4/neigh/default/gc_thresh3': 100000, 'net/core/netdev_max_backlog': 1000 });
  t.same(ensureHostLimits(2000, log, dir).map((c) => c.sysctl), ['net.core.netdev_max_backlog']);
  t.equal(read(dir, 'net/ipv4/neigh/default/gc_thresh3'), 100000, 'never lowered');
  t.same(ensureHostLimits(10, log, fakeProcSys({ 'net/ipv4/neigh/default/gc_thresh2': 512, 'net/ipv4/neigh/default/gc_thresh3': 1024, 'net/core/netdev_max_backlog': 1000 })).map((c) => c.sysctl), ['net.ipv4.neigh.default.gc_thresh2', 'net.ipv4.neigh.default.gc_thresh3'], 'the defaults are raised even for a few namespaces only where below the budget');
});

t.test('a limit that is not there is left alone with a warning', async (t) => {
  const dir = fakeProcSys({ 'net/core/netdev_max_backlog': 1000 });
  logs.length = 0;
  t.same(ensureHostLimits(2000, log, dir).map((c) => c.sysctl), ['net.core.netdev_max_backlog']);
  t.equal(logs.filter((l) => l.level === 'warn').length, 2, 'one warning per missing neighbour limit');
  t.same(wantedLimits(0)['net/core/netdev_max_backlog'], 1000, 'the backlog never goes below the kernel default');
});
