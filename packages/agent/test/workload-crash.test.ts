// An agent that dies mid-run must not leave its tools behind: iperf3 servers would hold their
// ports and metrics anchors would keep deleted namespaces alive for the rest of the night.
import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { createTwoNetns } from './fixtures/two-netns.js';
import { requireRoot, requireTool } from '../../../test/helpers/requirements.js';

t.test('tools and anchors die with the agent (SIGKILL)', async (t) => {
  if (!requireRoot(t, 'network namespaces') || !requireTool(t, 'setpriv', 'dropping the child agent\'s privileges (util-linux)')) return;
  const lab = await createTwoNetns();
  const runDir = mkdtempSync(join(tmpdir(), 'sn-crash-'));
  t.teardown(async () => {
    await lab.destroy();
    rmSync(runDir, { recursive: true, force: true });
  });
  const script = fileURLToPath(new URL('./fixtures/agent-child.ts', import.meta.url));
  const cfg = { sinkNetns: lab.b.netns, sinkAddress: lab.b.spec.address, otherNetns: lab.a.netns, runDir };
  const child = spawn(process.execPath, ['--import=tsx', '--conditions=seconet-source', script, JSON.stringify(cfg)], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('child never got ready')), 20_000);
    child.stdout!.on('data', (b: Buffer) => {
      if (b.toString().includes('READY')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (c) => reject(new Error(`child exited early (${c})`)));
  });
  await sleep(300);
  const before = await lab.pids();
  t.ok(before.length >= 3, `iperf3 server and two anchors run in the namespaces (${before.length} processes)`);
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  let left = before;
  for (let i = 0; i < 40 && left.length > 0; i++) {
    await sleep(50);
    left = await lab.pids();
  }
  t.same(left, [], 'nothing left in the namespaces after the agent died');
});
