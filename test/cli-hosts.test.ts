// `seconet hosts check` end to end: the CLI runs in one lab host namespace and inspects another
// over real SSH, from the same inventory format the Ansible roles use.

import t from 'tap';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { selfArgv } from '../packages/cli/src/self-invoke.js';
import { sshLab } from './helpers/sshd.js';
import { requireRoot } from './helpers/requirements.js';

const run = promisify(execFile);

t.test('hosts check over SSH from an inventory', async (t) => {
  if (!requireRoot(t, 'network namespaces')) return;
  const { h1, h2, sshd } = await sshLab(t);
  const dir = mkdtempSync(join(tmpdir(), 'seconet-hosts-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const inv = join(dir, 'inventory.yml');
  writeFileSync(
    inv,
    `all:\n  children:\n    seconet_agents:\n      hosts:\n        node-a:\n          ansible_host: ${h1.underlayAddress}\n      vars:\n        ansible_user: root\n        ansible_ssh_private_key_file: ${sshd.clientKey}\n    other:\n      hosts:\n        not-an-agent: {}\n`,
  );
  const cli = async (...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> => {
    const argv = selfArgv(['hosts', 'check', '-i', inv, ...args]);
    try {
      const r = await run('/usr/sbin/ip', ['netns', 'exec', h2.netns, ...argv], { timeout: 120_000 });
      return { code: 0, stdout: r.stdout, stderr: r.stderr };
    } catch (e) {
      const err = e as { code?: number; stdout?: string; stderr?: string };
      return { code: err.code ?? 1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
    }
  };

  const ok = await cli('--known-hosts', sshd.knownHosts, '--json');
  t.equal(ok.code, 0, ok.stderr);
  const doc = JSON.parse(ok.stdout) as { hosts: Array<{ host: string; report?: { kernel: string; blocks: Array<{ kind: string; variant: string; available: boolean }> } }> };
  t.same(doc.hosts.map((h) => h.host), ['node-a'], 'only the seconet_agents group');
  t.ok(doc.hosts[0]?.report?.kernel, 'kernel reported');
  t.ok(doc.hosts[0]?.report?.blocks.some((b) => b.kind === 'vxlan' && b.variant === 'kernel' && b.available), 'vxlan offered');

  const human = await cli('--known-hosts', sshd.knownHosts);
  t.equal(human.code, 0);
  t.match(human.stdout, /node-a: .*kernel /);
  t.match(human.stdout, /tunnel\/wireguard\s+userspace\s+yes/);

  const wrong = await cli('--known-hosts', sshd.wrongKnownHosts, '--json');
  t.equal(wrong.code, 13, 'SSH_FAILED exit code');
  t.match(wrong.stdout, /host key .* is not in/);

  const missing = await cli('--known-hosts', sshd.knownHosts, '--group', 'nope');
  t.equal(missing.code, 2, 'an empty group is invalid input');
  t.match(missing.stderr, /no hosts in group nope/);
});
