// The seconet_agent role applied with ansible-playbook over real SSH to an sshd in a lab host
// namespace: a first run installs, a second run changes nothing, check mode works, a certificate
// from another CA is refused by the preflight. Service management is off (no systemd here).

import t from 'tap';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { createServer } from 'node:net';
import { spawn } from 'node:child_process';
import { connectAgent } from '@seconet/agent';
import { sshLab } from './helpers/sshd.js';
import { issue, makeCa } from './helpers/pki.js';
import { requireRoot, requireTool } from './helpers/requirements.js';

const run = promisify(execFile);
const repo = fileURLToPath(new URL('..', import.meta.url));

interface Recap {
  ok: number;
  changed: number;
  failed: number;
  unreachable: number;
}

function recap(out: string, host: string): Recap {
  const line = out.split('\n').find((l) => l.startsWith(host) && l.includes('ok='));
  if (!line) throw new Error(`no PLAY RECAP for ${host}:\n${out.slice(-3000)}`);
  const n = (k: string): number => Number(new RegExp(`${k}=(\\d+)`).exec(line)?.[1] ?? NaN);
  return { ok: n('ok'), changed: n('changed'), failed: n('failed'), unreachable: n('unreachable') };
}

t.test('seconet_agent role over SSH', { timeout: 300_000 }, async (t) => {
  if (!requireRoot(t, 'network namespaces') || !requireTool(t, '/usr/bin/ansible-playbook', 'running the role over SSH')) return;
  const { h1, h2, sshd } = await sshLab(t);

  const work = mkdtempSync(join(tmpdir(), 'seconet-ansible-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const ca = makeCa(work);
  const agentCert = issue(work, ca, 'h1', 'server', ['127.0.0.1', 'localhost']);
  const otherCa = makeCa(work, 'other-ca');
  const strangerCert = issue(work, otherCa, 'stranger', 'server');
  const controllerCert = issue(work, ca, 'controller', 'client');
  const port = await new Promise<number>((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const p = (srv.address() as { port: number }).port;
      srv.close(() => resolve(p));
    });
  });
  const prefix = h1.prefix;
  const inventory = (cert: { cert: string; key: string }) => ({
    all: {
      hosts: {
        h1: {
          ansible_host: h1.underlayAddress,
          ansible_user: 'root',
          ansible_ssh_private_key_file: sshd.clientKey,
          ansible_ssh_common_args: `-o UserKnownHostsFile=${sshd.knownHosts} -o StrictHostKeyChecking=yes`,
          ansible_python_interpreter: '/usr/bin/python3',
          seconet_agent_name: 'h1',
          seconet_agent_prefix: prefix,
          seconet_agent_listen: `127.0.0.1:${port}`,
          seconet_agent_install_method: 'path',
          seconet_agent_source_path: repo.replace(/\/$/, ''),
          seconet_agent_root: join(work, 'opt'),
          seconet_agent_config_dir: join(work, 'etc'),
          seconet_agent_state_dir: join(work, 'state'),
          seconet_agent_run_dir: join(work, 'run'),
          seconet_agent_log_dir: join(work, 'log'),
          seconet_agent_node_binary: process.execPath,
          seconet_agent_tls_ca: ca.cert,
          seconet_agent_tls_cert: cert.cert,
          seconet_agent_tls_key: cert.key,
          seconet_agent_underlay_dev: 'eth0',
          seconet_agent_underlay_address: h1.underlayAddress,
          seconet_agent_host_netns: h1.netns,
          seconet_agent_manage_service: false,
        },
      },
    },
  });
  const invFile = join(work, 'inventory.json');
  const badInvFile = join(work, 'bad-inventory.json');
  writeFileSync(invFile, JSON.stringify(inventory(agentCert)));
  writeFileSync(badInvFile, JSON.stringify(inventory(strangerCert)));
  const play = join(work, 'play.yml');
  writeFileSync(play, '- hosts: all\n  gather_facts: false\n  roles:\n    - role: seconet_agent\n');
  const env = {
    ...process.env,
    ANSIBLE_ROLES_PATH: join(repo, 'ansible/roles'),
    ANSIBLE_HOST_KEY_CHECKING: 'True',
    ANSIBLE_NOCOLOR: '1',
    ANSIBLE_LOCAL_TEMP: join(work, 'ansible-local'),
    ANSIBLE_REMOTE_TEMP: join(work, 'ansible-remote'),
    ANSIBLE_PYTHON_INTERPRETER: '/usr/bin/python3',
    // No persistent control master: it would outlive the playbook (and hold its output pipe).
    ANSIBLE_SSH_ARGS: '-o ControlMaster=no',
    ANSIBLE_PIPELINING: 'True',
  };
  const playbook = async (inv: string, ...extra: string[]): Promise<{ out: string; code: number }> => {
    try {
      const r = await run('/usr/sbin/ip', ['netns', 'exec', h2.netns, '/usr/bin/ansible-playbook', '-i', inv, play, ...extra], { env, maxBuffer: 32 << 20, timeout: 240_000 });
      return { out: r.stdout, code: 0 };
    } catch (e) {
      const err = e as { stdout?: string; stderr?: string; code?: number };
      return { out: `${err.stdout ?? ''}\n${err.stderr ?? ''}`, code: err.code ?? 1 };
    }
  };

  const first = await playbook(invFile);
  if (first.code !== 0) t.comment(first.out.slice(-4000));
  t.equal(first.code, 0, 'first run succeeds');
  const r1 = recap(first.out, 'h1');
  t.equal(r1.failed, 0);
  t.ok(r1.changed > 0, 'first run changes things');

  const config = parse(readFileSync(join(work, 'etc/agent.yaml'), 'utf8')) as Record<string, unknown>;
  t.equal(config.name, 'h1');
  t.equal(config.prefix, prefix);
  t.equal(config.hostNetns, h1.netns);
  t.equal((statSync(join(work, 'etc/tls/agent-key.pem')).mode & 0o777).toString(8), '600', 'key is private');
  t.equal(readFileSync(join(work, 'etc/tls/agent.pem'), 'utf8'), readFileSync(agentCert.cert, 'utf8'));
  t.ok(existsSync(join(work, 'opt/current/packages/agent/package.json')), 'current points at the tree');

  const second = await playbook(invFile);
  t.equal(second.code, 0, 'second run succeeds');
  t.same({ ...recap(second.out, 'h1'), ok: 0 }, { ok: 0, changed: 0, failed: 0, unreachable: 0 }, 'second run changes nothing');

  const check = await playbook(invFile, '--check');
  t.equal(check.code, 0, 'check mode succeeds');
  t.equal(recap(check.out, 'h1').changed, 0, 'check mode reports no change on an installed host');

  // The installed agent (service management is off here: start it as the unit would) answers
  // GetInfo over mutual TLS with the controller's certificate.
  const bin = join(work, 'opt/current/packages/cli/bin/seconet.js');
  if (!existsSync(join(repo, 'packages/cli/dist/main.js'))) {
    t.fail('the installed agent cannot start: the CLI is not built (run npm run build first)');
  } else {
    const agent = spawn(process.execPath, [bin, 'agent', '--config', join(work, 'etc/agent.yaml')], { stdio: 'ignore' });
    const exited = new Promise((r) => agent.on('exit', r));
    t.teardown(async () => {
      if (agent.exitCode === null) {
        agent.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
        if (agent.exitCode === null) agent.kill('SIGKILL');
      }
    });
    const client = connectAgent({ name: 'h1', address: `127.0.0.1:${port}`, tls: { ca: ca.cert, cert: controllerCert.cert, key: controllerCert.key } });
    t.teardown(() => client.close());
    await client.waitReady(60_000);
    const info = await client.getInfo({ deadlineMs: 60_000 });
    t.equal(info.name, 'h1', 'the installed agent answers GetInfo over mTLS');
    t.equal(info.namePrefix, prefix);
    t.ok(info.capabilities.length > 0, 'with its capabilities');
  }

  const bad = await playbook(badInvFile);
  t.not(bad.code, 0, 'a certificate from another CA fails');
  t.match(bad.out, /is not signed by/, 'the preflight says why');
});
