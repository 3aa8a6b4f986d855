// The files ops install by hand or through Ansible stay valid: example configurations parse
// with the real parsers, systemd units verify, the roles pass ansible-lint's production profile,
// and the role's agent.yaml template renders into a configuration the agent accepts.

import t from 'tap';
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { parseAgentConfig } from '@seconet/agent';
import { parseControllerConfig } from '@seconet/controller';
import { requireTool } from './helpers/requirements.js';

const run = promisify(execFile);
const repo = fileURLToPath(new URL('..', import.meta.url));

t.test('example configurations parse', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'seconet-deploy-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'tls'));
  for (const f of ['ca.pem', 'agent.pem', 'agent-key.pem', 'revoked.txt']) writeFileSync(join(dir, 'tls', f), f === 'revoked.txt' ? '' : 'x');
  const agent = parseAgentConfig(parse(readFileSync(join(repo, 'deploy/config/agent.example.yaml'), 'utf8')), dir);
  t.equal(agent.name, 'node-a');
  t.equal(agent.prefix, 'sn01');
  const ctl = parseControllerConfig(parse(readFileSync(join(repo, 'deploy/config/controller.example.yaml'), 'utf8')), dir);
  t.same(ctl.agents.map((a) => a.name), ['node-a', 'node-b']);
  t.equal(ctl.redis.url, 'redis://127.0.0.1:6379/0');
});

t.test('systemd units verify', async (t) => {
  if (!requireTool(t, '/usr/bin/systemd-analyze', 'verifying the systemd units')) return;
  for (const unit of ['seconet-agent.service', 'seconet-controller.service']) {
    const r = await run('/usr/bin/systemd-analyze', ['verify', join(repo, 'deploy/systemd', unit)]).then(
      (x) => ({ code: 0, err: x.stderr }),
      (e: { code?: number; stderr?: string }) => ({ code: e.code ?? 1, err: e.stderr ?? '' }),
    );
    t.equal(r.code, 0, `${unit}: ${r.err}`);
    t.notMatch(r.err, /Unknown key|Invalid|Failed to parse/, `${unit} has no bad settings`);
  }
  const agentUnit = readFileSync(join(repo, 'deploy/systemd/seconet-agent.service'), 'utf8');
  t.notMatch(agentUnit, /^(PrivateTmp|ProtectSystem|ProtectHome|PrivateMounts)=/m, 'the agent keeps the host mount namespace (its netns bind mounts must outlive restarts)');
  t.match(agentUnit, /^NoNewPrivileges=yes$/m);
  t.match(agentUnit, /^SystemCallFilter=@system-service /m, 'an allow-list of system calls');
  t.match(agentUnit, /^SystemCallFilter=~@reboot /m, 'and a deny-list');
  t.match(agentUnit, /^KillMode=process$/m, 'a restart stops the agent only, not the tunnel and OVS daemons it owns');
  const caps = /^CapabilityBoundingSet=(.*)$/m.exec(agentUnit)?.[1]?.split(/\s+/) ?? [];
  t.ok(caps.length > 0, 'a bounding set');
  const ops = readFileSync(join(repo, 'docs/operations.md'), 'utf8');
  for (const c of caps) t.match(ops, new RegExp(`\\| \`${c}\` \\|`), `${c} is explained in docs/operations.md`);
  const service = (text: string): string[] => text.split('[Service]')[1]!.split('\n').filter((l) => /^[A-Z]/.test(l) && !l.startsWith('ExecStart='));
  const template = readFileSync(join(repo, 'ansible/roles/seconet_agent/templates/seconet-agent.service.j2'), 'utf8');
  t.same(service(template), service(agentUnit), 'the Ansible role renders the same hardening');
});

t.test('roles pass ansible-lint at the production profile', { timeout: 180_000 }, async (t) => {
  if (!requireTool(t, '/usr/bin/ansible-lint', 'linting the Ansible roles')) return;
  const r = await run('/usr/bin/ansible-lint', ['--profile', 'production', '--nocolor', 'roles/', 'site.yml'], { cwd: join(repo, 'ansible'), env: { ...process.env, ANSIBLE_NOCOLOR: '1' }, timeout: 170_000 }).then(
    (x) => ({ code: 0, out: x.stdout + x.stderr }),
    (e: { code?: number; stdout?: string; stderr?: string }) => ({ code: e.code ?? 1, out: (e.stdout ?? '') + (e.stderr ?? '') }),
  );
  t.equal(r.code, 0, r.out.slice(-2000));
});

t.test('tasks that copy keys, tokens or passwords never print them', async (t) => {
  const secret = /key|token|password|secret/i;
  let checked = 0;
  for (const role of ['seconet_agent', 'seconet_controller']) {
    const dir = join(repo, 'ansible/roles', role, 'tasks');
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.yml'))) {
      const tasks = (parse(readFileSync(join(dir, f), 'utf8')) ?? []) as Array<Record<string, unknown>>;
      for (const task of tasks) {
        const mod = ['ansible.builtin.copy', 'ansible.builtin.template', 'ansible.builtin.lineinfile', 'ansible.builtin.slurp'].find((m) => m in task);
        if (mod === undefined) continue;
        // Loop items named `key` (redis.conf settings) are not keys; what is copied is in the values.
        const args = (JSON.stringify(task[mod]) + JSON.stringify(task['loop'] ?? '')).replace(/"key":|item\.key/g, '');
        if (!secret.test(args) || /agent\.yaml|controller\.yaml/.test(args)) continue;
        checked++;
        t.equal(task['no_log'], true, `${role}/${f}: "${String(task['name'])}" has no_log`);
        if (mod !== 'ansible.builtin.slurp') t.equal(task['diff'], false, `${role}/${f}: "${String(task['name'])}" shows no diff`);
      }
    }
  }
  t.ok(checked >= 5, `${checked} secret-handling tasks checked`);
});

t.test('the role renders an agent.yaml the agent accepts', { timeout: 120_000 }, async (t) => {
  if (!requireTool(t, '/usr/bin/ansible', 'rendering the role\'s templates')) return;
  const dir = mkdtempSync(join(tmpdir(), 'seconet-render-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'tls'));
  for (const f of ['ca.pem', 'agent.pem', 'agent-key.pem', 'revoked.txt']) writeFileSync(join(dir, 'tls', f), f === 'revoked.txt' ? '' : 'x');
  const out = join(dir, 'agent.yaml');
  execFileSync('/usr/bin/ansible', ['localhost', '-c', 'local', '-m', 'ansible.builtin.template', '-a', `src=${join(repo, 'ansible/roles/seconet_agent/templates/agent.yaml.j2')} dest=${out}`, '-e', `@${join(repo, 'ansible/roles/seconet_agent/defaults/main.yml')}`, '-e', `seconet_agent_config_dir=${dir} seconet_agent_underlay_dev=eth0 seconet_agent_underlay_address=198.18.0.1 seconet_agent_host_netns=snlbx1h1`], { env: { ...process.env, ANSIBLE_NOCOLOR: '1', ANSIBLE_PYTHON_INTERPRETER: '/usr/bin/python3' } });
  const cfg = parseAgentConfig(parse(readFileSync(out, 'utf8')), dir);
  t.equal(cfg.prefix, 'sn01');
  t.equal(cfg.hostNetns, 'snlbx1h1');
  t.equal(cfg.underlay.address, '198.18.0.1');
  t.same(cfg.controllers, ['controller'], 'the agent obeys only the controller certificate');
  t.same(cfg.allowedRanges, ['198.18.0.0/15']);
  t.equal(cfg.tls.denyList, join(dir, 'tls', 'revoked.txt'));
});

t.test('the controller role renders Redis auth and API TLS into a config the controller accepts', { timeout: 120_000 }, async (t) => {
  if (!requireTool(t, '/usr/bin/ansible', 'rendering the role\'s templates')) return;
  const dir = mkdtempSync(join(tmpdir(), 'seconet-render-ctl-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, 'controller.yaml');
  execFileSync('/usr/bin/ansible', ['localhost', '-c', 'local', '-m', 'ansible.builtin.template', '-a', `src=${join(repo, 'ansible/roles/seconet_controller/templates/controller.yaml.j2')} dest=${out}`, '-e', `@${join(repo, 'ansible/roles/seconet_controller/defaults/main.yml')}`, '-e', `seconet_controller_config_dir=${dir} seconet_controller_api_tls_cert=/pki/api.crt seconet_controller_api_tls_key=/pki/api.key`], { env: { ...process.env, ANSIBLE_NOCOLOR: '1', ANSIBLE_PYTHON_INTERPRETER: '/usr/bin/python3' } });
  const cfg = parseControllerConfig(parse(readFileSync(out, 'utf8')), dir);
  t.equal(cfg.redis.passwordFile, join(dir, 'controller/redis-password'), 'the managed Redis is reached with the generated password');
  t.same(cfg.api.tls, { cert: join(dir, 'controller/api.pem'), key: join(dir, 'controller/api-key.pem') });
});

t.test('the controller role renders the PostgreSQL store when chosen, SQLite otherwise', { timeout: 120_000 }, async (t) => {
  if (!requireTool(t, '/usr/bin/ansible', 'rendering the role\'s templates')) return;
  const dir = mkdtempSync(join(tmpdir(), 'seconet-render-ctl-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const render = (name: string, vars: string): ReturnType<typeof parseControllerConfig> => {
    const out = join(dir, name);
    execFileSync('/usr/bin/ansible', ['localhost', '-c', 'local', '-m', 'ansible.builtin.template', '-a', `src=${join(repo, 'ansible/roles/seconet_controller/templates/controller.yaml.j2')} dest=${out}`, '-e', `@${join(repo, 'ansible/roles/seconet_controller/defaults/main.yml')}`, '-e', `seconet_controller_config_dir=${dir} ${vars}`], { env: { ...process.env, ANSIBLE_NOCOLOR: '1', ANSIBLE_PYTHON_INTERPRETER: '/usr/bin/python3' } });
    return parseControllerConfig(parse(readFileSync(out, 'utf8')), dir);
  };
  t.same(render('default.yaml', '').store, { dir: '/var/lib/seconet/controller', kind: 'sqlite', url: undefined, passwordFile: undefined }, 'SQLite by default');
  t.same(render('managed.yaml', 'seconet_controller_store=postgres').store, {
    dir: '/var/lib/seconet/controller', kind: 'postgres', url: 'postgresql://seconet@127.0.0.1:5432/seconet', passwordFile: join(dir, 'controller/postgres-password'),
  }, 'a managed PostgreSQL is reached with the generated password');
  t.same(render('external.yaml', 'seconet_controller_store=postgres seconet_controller_manage_postgres=false seconet_controller_postgres_url=postgresql://seconet@db.example:5432/results seconet_controller_postgres_password_file=/etc/seconet/pg').store, {
    dir: '/var/lib/seconet/controller', kind: 'postgres', url: 'postgresql://seconet@db.example:5432/results', passwordFile: '/etc/seconet/pg',
  }, 'a PostgreSQL managed elsewhere');
});
