// The test-requirement helper (skip with a reason, or fail under CI=true) and the summary that
// scripts/test.sh prints (every skip with its reason, then the one last line).
import t from 'tap';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { requireRoot, requireTool, requireTools, requirement, strictRequirements, type Gate } from './helpers/requirements.js';

function gate(): Gate & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    plan: (n, comment) => void calls.push(`plan ${n} ${comment ?? ''}`.trim()),
    fail: (message) => calls.push(`fail ${message}`),
  };
}

t.test('CI=true makes requirements strict', async (t) => {
  t.equal(strictRequirements({ CI: 'true' }), true);
  t.equal(strictRequirements({ CI: '1' }), true);
  t.equal(strictRequirements({ CI: 'TRUE' }), true);
  t.equal(strictRequirements({ CI: 'false' }), false);
  t.equal(strictRequirements({}), false);
});

t.test('a met requirement lets the test run and touches nothing', async (t) => {
  const g = gate();
  t.equal(requirement(g, undefined, { env: { CI: 'true' } }), true);
  t.equal(requireTool(g, 'ip', 'links', { CI: 'true' }), true, 'ip is found in the system directories');
  t.equal(requireTools(g, ['ip', 'node'], 'links', { CI: 'true' }), true);
  t.equal(requireRoot(g, 'namespaces', { CI: 'true' }, true), true);
  t.same(g.calls, []);
});

t.test('a missing tool skips with its reason, or fails under CI', async (t) => {
  const g = gate();
  t.equal(requireTool(g, 'sn-no-such-tool', 'the demo', {}), false);
  t.same(g.calls, ['plan 0 sn-no-such-tool is not installed; needed for the demo']);
  const c = gate();
  t.equal(requireTool(c, 'sn-no-such-tool', 'the demo', { CI: 'true' }), false);
  t.equal(c.calls.length, 1);
  t.match(c.calls[0], /^fail sn-no-such-tool is not installed; needed for the demo \(CI=true: .*failure, not a skip\)$/);
  const abs = gate();
  t.equal(requireTool(abs, '/usr/bin/sn-no-such-tool', 'the demo', { CI: 'true' }), false, 'absolute paths are checked as given');
  t.match(abs.calls[0], /^fail \/usr\/bin\/sn-no-such-tool is not installed/);
  const many = gate();
  t.equal(requireTools(many, ['ip', 'sn-no-such-tool'], 'the demo', {}), false);
  t.same(many.calls, ['plan 0 sn-no-such-tool is not installed; needed for the demo'], 'the first missing tool is named');
});

t.test('not root skips, or fails under CI', async (t) => {
  const g = gate();
  t.equal(requireRoot(g, 'network namespaces', {}, false), false);
  t.same(g.calls, ['plan 0 needs root for network namespaces']);
  const c = gate();
  t.equal(requireRoot(c, 'network namespaces', { CI: 'true' }, false), false);
  t.match(c.calls, [/^fail needs root for network namespaces \(CI=true/]);
});

t.test('a tool scripts/setup.sh was told to leave out stays a skip under CI', async (t) => {
  const g = gate();
  t.equal(requireTool(g, '/usr/bin/sn-no-such-chromium/chromium', 'the browser test', { CI: 'true', SECONET_SETUP_BROWSER: '0' }), false);
  t.same(g.calls, ['plan 0 /usr/bin/sn-no-such-chromium/chromium is not installed; needed for the browser test']);
  const c = gate();
  requireTool(c, '/usr/bin/sn-no-such-chromium/chromium', 'the browser test', { CI: 'true' });
  t.match(c.calls, [/^fail /], 'without the switch it fails');
});

t.test('inside a real tap subtest: plan(0, reason) marks the subtest skipped with the reason', async (t) => {
  const sub = t.test('needs a missing tool', async (tt) => {
    if (!requireTool(tt, 'sn-no-such-tool', 'demonstrating a skip', {})) return;
    tt.fail('must not run');
  });
  await sub;
  t.equal(t.counts.fail, 0);
  t.equal(t.counts.skip, 1);
});

const SUMMARY = fileURLToPath(new URL('../scripts/tap-summary.mjs', import.meta.url));

function summarize(tap: string): Promise<{ out: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [SUMMARY], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (b: Buffer) => (out += b.toString()));
    p.on('error', reject);
    p.on('close', (code) => resolve({ out, code }));
    p.stdin.end(tap);
  });
}

const STREAM = `TAP version 14
1..2
# Subtest: test/a.test.ts
    # Subtest: needs a tool
        1..0 # ITGSend is not installed; needed for D-ITG
    ok 1 - needs a tool # SKIP ITGSend is not installed; needed for D-ITG

    ok 2 - kernel ipip # SKIP kernel lacks CONFIG_NET_IPIP
    # Subtest: runs
        ok 1 - fine
        ok 2 - gre scenario # SKIP kernel lacks CONFIG_NET_IPGRE
        ok 3 - later # TODO not written yet
        1..3
    ok 3 - runs # time=1ms

    1..3
ok 1 - test/a.test.ts # time=10ms

# Subtest: test/b.test.ts
    ok 1 - one
    not ok 2 - two
    1..2
not ok 2 - test/b.test.ts # time=5ms

`;

t.test('the summary lists each skip with its place and reason, then ends with the count line', async (t) => {
  const { out, code } = await summarize(STREAM);
  const lines = out.trimEnd().split('\n');
  t.equal(lines.at(-1), '2 passed, 1 failed, 4 skipped', 'the last line keeps its form');
  t.equal(code, 1);
  const tail = lines.slice(-6, -1);
  t.same(tail, [
    '4 skipped:',
    '  test/a.test.ts > needs a tool: ITGSend is not installed; needed for D-ITG',
    '  test/a.test.ts > kernel ipip: kernel lacks CONFIG_NET_IPIP',
    '  test/a.test.ts > runs > gre scenario: kernel lacks CONFIG_NET_IPGRE',
    '  test/a.test.ts > runs > later: todo: not written yet',
  ]);
  t.ok(out.startsWith(STREAM.split('\n')[0]!), 'the TAP stream is passed through');
});

t.test('without skips the summary is the one line', async (t) => {
  const { out, code } = await summarize('TAP version 14\n1..1\nok 1 - x\n');
  t.equal(out.trimEnd().split('\n').at(-1), '1 passed, 0 failed');
  t.notMatch(out, /skipped/);
  t.equal(code, 0);
});
