import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Journal } from '../src/journal/file-journal.js';
import { MemoryJournal } from '../src/journal/memory-journal.js';
import { processStartTime, removeObject, teardownObjects } from '../src/journal/undo.js';
import type { HostEnv } from '../src/host-env.js';
import { FakeRunner } from '../src/testing.js';

function tmp(t: { teardown(fn: () => void): void }): string {
  const d = mkdtempSync(join(tmpdir(), 'seconet-journal-'));
  t.teardown(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

function envIn(dir: string, hostNetns?: string): HostEnv {
  for (const s of ['state', 'run', 'bpf']) mkdirSync(join(dir, s), { recursive: true });
  return { name: 'h1', prefix: 'snab', hostNetns, stateDir: join(dir, 'state'), runDir: join(dir, 'run'), bpffs: join(dir, 'bpf'), underlayDev: 'eth0', underlayAddress: '198.18.0.1', underlayMtu: 1500 };
}

t.test('FileJournal persists every change and a fresh Journal loads it back', async (t) => {
  const dir = tmp(t);
  const a = new Journal(dir);
  a.load();
  const j = await a.open('cell-1');
  await j.record({ type: 'netns', name: 'snabcaaaa' });
  await j.recordAll([{ type: 'link', name: 'snabvaaaa' }, { type: 'netns', name: 'snabcaaaa' }, { type: 'link', name: 'snabvbbbb', netns: undefined }]);
  await j.setStatus('applied');
  await j.setDesired('d1', { network: 'bridge' });
  await j.setNote('variant', 'kernel');
  t.equal(j.objects().length, 3, 'duplicates are kept once');
  t.same(readdirSync(join(dir, 'journal')), ['cell-1.json'], 'no temporary files left behind');

  const b = new Journal(dir);
  const { loaded, broken } = b.load();
  t.same(loaded, ['cell-1']);
  t.same(broken, []);
  const k = b.get('cell-1')!;
  t.equal(k.status(), 'applied');
  t.same(k.desired(), { digest: 'd1', state: { network: 'bridge' } });
  t.equal(k.note('variant'), 'kernel');
  t.same(k.objects().map((o) => o.type), ['netns', 'link', 'link']);

  await k.forgetAll([{ type: 'link', name: 'snabvaaaa' }]);
  const c = new Journal(dir);
  c.load();
  t.equal(c.get('cell-1')!.objects().length, 2, 'forget is persisted');

  await c.remove('cell-1');
  t.same(c.scopes(), []);
  t.notOk(existsSync(join(dir, 'journal', 'cell-1.json')));
  await c.remove('cell-1');
});

t.test('a corrupt journal file is reported, others still load', async (t) => {
  const dir = tmp(t);
  const a = new Journal(dir);
  a.load();
  await a.open('good');
  writeFileSync(join(dir, 'journal', 'bad.json'), '{ truncated');
  writeFileSync(join(dir, 'journal', 'good.json.tmp-4242'), '{ half written');
  const b = new Journal(dir);
  const r = b.load();
  t.same(r.loaded, ['good']);
  t.equal(r.broken.length, 1);
  t.match(r.broken[0]!.file, /bad\.json$/);
  t.notOk(existsSync(join(dir, 'journal', 'good.json.tmp-4242')), 'a temporary file left by a crash is removed');
  await t.rejects(a.open('../etc'), /bad scope name/);
});

t.test('removeObject: argv per object type, already-gone is success', async (t) => {
  const env = envIn(tmp(t), 'snlbxh1');
  const r = new FakeRunner().on('link del', { fail: 'NotFound', stderr: 'Cannot find device "snabv1"' }).on('addr del', { fail: 'Failed', stderr: 'Error: ipv4: Address not found.' });
  await removeObject({ runner: r, env }, { type: 'link', name: 'snabv1' });
  await removeObject({ runner: r, env }, { type: 'addr', cidr: '198.19.1.1/24', dev: 'snabb1' });
  await removeObject({ runner: r, env }, { type: 'route', dst: '198.19.2.0/24', netns: 'snabc1', table: 7 });
  await removeObject({ runner: r, env }, { type: 'nft-table', family: 'inet', name: 'snabf1' });
  await removeObject({ runner: r, env }, { type: 'iptables-chain', table: 'filter', chain: 'SNABF1', jumps: [{ from: 'FORWARD', rule: ['-j', 'SNABF1'] }], binary: 'iptables-legacy' });
  await removeObject({ runner: r, env }, { type: 'tc-clsact', dev: 'snabv1' });
  await removeObject({ runner: r, env }, { type: 'sysctl', key: 'net.ipv4.ip_forward', previous: '0', restore: false });
  await removeObject({ runner: r, env }, { type: 'sysctl', key: 'net.ipv4.conf.all.rp_filter', previous: '2', restore: true });
  await removeObject({ runner: r, env }, { type: 'ovs-port', bridge: 'snabs1', name: 'snabv1', db: '/run/x/db.sock' });
  t.same(r.lines(), [
    'ip -n snlbxh1 link del dev snabv1',
    'ip -n snlbxh1 addr del 198.19.1.1/24 dev snabb1',
    'ip -n snabc1 route del 198.19.2.0/24 table 7',
    '[snlbxh1] nft delete table inet snabf1',
    '[snlbxh1] iptables-legacy -w 5 -t filter -D FORWARD -j SNABF1',
    '[snlbxh1] iptables-legacy -w 5 -t filter -D FORWARD -j SNABF1',
    '[snlbxh1] iptables-legacy -w 5 -t filter -D FORWARD -j SNABF1',
    '[snlbxh1] iptables-legacy -w 5 -t filter -D FORWARD -j SNABF1',
    '[snlbxh1] iptables-legacy -w 5 -t filter -D FORWARD -j SNABF1',
    '[snlbxh1] iptables-legacy -w 5 -t filter -D FORWARD -j SNABF1',
    '[snlbxh1] iptables-legacy -w 5 -t filter -D FORWARD -j SNABF1',
    '[snlbxh1] iptables-legacy -w 5 -t filter -D FORWARD -j SNABF1',
    '[snlbxh1] iptables-legacy -w 5 -t filter -D FORWARD -j SNABF1',
    '[snlbxh1] iptables-legacy -w 5 -t filter -D FORWARD -j SNABF1',
    '[snlbxh1] iptables-legacy -w 5 -t filter -D FORWARD -j SNABF1',
    '[snlbxh1] iptables-legacy -w 5 -t filter -D FORWARD -j SNABF1',
    '[snlbxh1] iptables-legacy -w 5 -t filter -D FORWARD -j SNABF1',
    '[snlbxh1] iptables-legacy -w 5 -t filter -D FORWARD -j SNABF1',
    '[snlbxh1] iptables-legacy -w 5 -t filter -D FORWARD -j SNABF1',
    '[snlbxh1] iptables-legacy -w 5 -t filter -D FORWARD -j SNABF1',
    '[snlbxh1] iptables-legacy -w 5 -t filter -F SNABF1',
    '[snlbxh1] iptables-legacy -w 5 -t filter -X SNABF1',
    'tc -n snlbxh1 qdisc del dev snabv1 clsact',
    '[snlbxh1] sysctl -q -w net.ipv4.conf.all.rp_filter=2',
    'ovs-vsctl --db=unix:/run/x/db.sock --timeout=5 --if-exists del-port snabs1 snabv1',
  ]);
  const bad = new FakeRunner().on('link del', { fail: 'Busy', stderr: 'Device or resource busy' });
  await t.rejects(removeObject({ runner: bad, env }, { type: 'link', name: 'snabv1' }), /Busy/, 'a real failure is not swallowed');
});

t.test('paths and pins are removed only inside the agent directories', async (t) => {
  const env = envIn(tmp(t));
  const r = new FakeRunner();
  const inside = join(env.runDir, 'scope', 'key');
  mkdirSync(join(env.runDir, 'scope'), { recursive: true });
  writeFileSync(inside, 'secret');
  await removeObject({ runner: r, env }, { type: 'path', path: join(env.runDir, 'scope') });
  t.notOk(existsSync(inside));
  await removeObject({ runner: r, env }, { type: 'path', path: join(env.runDir, 'scope') });
  await t.rejects(removeObject({ runner: r, env }, { type: 'path', path: '/etc/passwd' }), /refusing/);
  await t.rejects(removeObject({ runner: r, env }, { type: 'path', path: join(env.runDir, '..', '..', 'x') }), /refusing/);
  await t.rejects(removeObject({ runner: r, env }, { type: 'path', path: env.stateDir }), /refusing/, 'not the directory itself');
  await t.rejects(removeObject({ runner: r, env }, { type: 'bpf-pin', path: join(env.runDir, 'p') }), /refusing/);
});

t.test('processes are killed only while their start time matches', async (t) => {
  const env = envIn(tmp(t));
  const r = new FakeRunner();
  const child = spawn('/bin/sleep', ['30'], { stdio: 'ignore' });
  t.teardown(() => void child.kill('SIGKILL'));
  const pid = child.pid!;
  const start = processStartTime(pid);
  t.match(start, /^\d+$/);
  t.equal(processStartTime(999999999), undefined);
  await removeObject({ runner: r, env }, { type: 'process', pid, startTime: String(Number(start) + 1), what: 'sleep' });
  t.equal(processStartTime(pid), start, 'a recycled pid (other start time) is left alone');
  const exited = new Promise((res) => child.once('exit', res));
  await removeObject({ runner: r, env, graceMs: 500 }, { type: 'process', pid, startTime: start!, what: 'sleep' });
  await exited;
  t.equal(processStartTime(pid), undefined, 'the recorded process is gone');
});

t.test('teardownObjects replays in reverse, batches links and namespaces, forgets what it removed', async (t) => {
  const env = envIn(tmp(t), 'snlbxh1');
  const j = new MemoryJournal('s');
  await j.recordAll([
    { type: 'netns', name: 'snabc1' },
    { type: 'netns', name: 'snabc2' },
    { type: 'link', name: 'snabv1' },
    { type: 'link', name: 'snabv2' },
    { type: 'link', name: 'snabb1' },
    { type: 'sysctl', key: 'net.ipv4.ip_forward', previous: '0', restore: false },
  ]);
  const r = new FakeRunner();
  const res = await teardownObjects({ runner: r, env }, j);
  t.same(r.calls.map((c) => [c.argv.join(' '), c.stdin ?? '']), [
    ['ip -n snlbxh1 -force -batch -', 'link del dev snabb1\nlink del dev snabv2\nlink del dev snabv1\n'],
    ['ip -force -batch -', 'netns del snabc2\nnetns del snabc1\n'],
  ]);
  t.equal(res.removed.length, 6);
  t.same(j.objects(), []);

  await j.recordAll([{ type: 'link', name: 'snabv1' }, { type: 'link', name: 'snabv2' }]);
  const half = new FakeRunner().on('-batch', { fail: 'NotFound', stderr: 'Cannot find device' }).on('snabv2', { fail: 'Busy', stderr: 'Device or resource busy' });
  const res2 = await teardownObjects({ runner: half, env }, j);
  t.same(res2.failed.map((f) => f.object), ['link snabv2'], 'the object that could not go is reported');
  t.same(j.objects(), [{ type: 'link', name: 'snabv2' }], 'and stays journaled for a retry');
});
