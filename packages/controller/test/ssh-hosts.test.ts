import t from 'tap';
import { execFileSync } from 'node:child_process';
import { SeconetError } from '@seconet/core';
import { checkHost, openSsh, restartAgentOverSsh, type SshTarget } from '../src/ssh/index.js';
import { netnsProxyCommand, sshLab } from '../../../test/helpers/sshd.js';
import { requireRoot } from '../../../test/helpers/requirements.js';


t.test('ssh2 against a real sshd in a lab host', async (t) => {
  if (!requireRoot(t, 'network namespaces')) return;
  const { h1, h2, sshd } = await sshLab(t);
  const target: SshTarget = {
    name: 'h1',
    host: h1.underlayAddress,
    port: 22,
    username: 'root',
    identityFile: sshd.clientKey,
    knownHostsFile: sshd.knownHosts,
    proxyCommand: netnsProxyCommand(h2.netns, h1.underlayAddress, 22),
  };

  t.test('hosts check reports the kernel and the building blocks', async (t) => {
    const s = await openSsh(target);
    t.teardown(() => s.close());
    const report = await checkHost(s);
    t.equal(report.kernel, execFileSync('uname', ['-r']).toString().trim(), 'same kernel as this machine');
    t.ok(report.root, 'logged in as root');
    const block = (category: string, kind: string, variant: string) => report.blocks.find((b) => b.category === category && b.kind === kind && b.variant === variant);
    t.equal(block('network', 'bridge', 'kernel')?.available, true, 'bridge');
    t.equal(block('tunnel', 'vxlan', 'kernel')?.available, true, 'kernel vxlan');
    t.equal(block('filter', 'nftables', 'kernel')?.available, true, 'nftables');
    t.equal(block('tunnel', 'wireguard', 'userspace')?.available, true, 'wireguard-go');
    const ipip = block('tunnel', 'ipip', 'kernel');
    t.ok(ipip, 'ipip probed');
    if (ipip && !ipip.available) t.match(ipip.reason, /CONFIG_NET_IPIP/, 'missing kernel ipip says which option');
    t.ok(report.tools.find((x) => x.tool === 'ip')?.path.startsWith('/'), 'ip found');
    // The probe namespace is gone again.
    const left = execFileSync('/usr/sbin/ip', ['netns', 'list']).toString();
    t.notMatch(left, /snchk/, 'no probe namespace left');
  });

  t.test('a host key not in known_hosts is refused', async (t) => {
    const err = await openSsh({ ...target, knownHostsFile: sshd.wrongKnownHosts }).then(
      () => undefined,
      (e: unknown) => e,
    );
    t.type(err, SeconetError);
    t.equal((err as SeconetError).code, 'SSH_FAILED');
    t.match((err as SeconetError).message, /host key .* is not in/);
  });

  t.test('a refused login fails clearly', async (t) => {
    const err = await openSsh({ ...target, identityFile: sshd.strangerKey }).then(
      () => undefined,
      (e: unknown) => e,
    );
    t.type(err, SeconetError);
    t.match((err as SeconetError).message, /login refused for root@198\.18\.0\.1:22/);
    t.equal((err as SeconetError).field, 'identityFile');
  });

  t.test('restart over SSH runs the configured command and reads the log tail', async (t) => {
    const s = await openSsh(target);
    t.teardown(() => s.close());
    const log = `${sshd.dir}/agent.log`;
    await s.exec(`printf 'line1\\nline2\\nlast words\\n' > '${log}'`);
    const marker = `${sshd.dir}/restarted`;
    const r = await restartAgentOverSsh(s, { restartCommand: ['touch', marker], logFile: log, logLines: 2 });
    t.ok(r.restarted);
    t.equal(r.logTail, 'line2\nlast words\n');
    t.equal((await s.exec(`test -e '${marker}' && echo yes`)).stdout.trim(), 'yes', 'command ran on the host');
  });
});
