// An agent that refuses the controller's certificate: the controller sees FORBIDDEN (not a
// retryable outage), the REST API answers 403 and the CLI exits with FORBIDDEN's own code.
// `seconet certs` issues a rotated controller certificate and revokes the old one.
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCodes, SeconetError } from '@seconet/core';
import { createCa, startAgent } from '@seconet/agent';
import { AgentRegistry, buildApi, defaultConnect } from '@seconet/controller';
import { isDeterministic } from '../packages/controller/src/engine/retry-policy.js';
import { FakeService, TOKEN } from '../packages/controller/test/api-fake-service.js';
import { FakeReconciler, agentConfig, makePki, tmpDir } from '../packages/agent/test/server-helpers.js';
import { runCli } from './cli-helpers.js';

t.test('a refusing agent is FORBIDDEN: not retried, 403 on the API, its own CLI exit code', async (t) => {
  const pki = await makePki(t, ['h1']);
  const dir = tmpDir(t);
  const agent = await startAgent(agentConfig(pki, dir, 'h1', 'snt5', { controllers: ['controller-2'] }), { createReconciler: () => new FakeReconciler(), skipBpffs: true });
  t.teardown(() => agent.stop());
  const reg = new AgentRegistry([{ name: 'h1', address: agent.address, tls: { ca: pki.ca.cert, cert: pki.controller.cert, key: pki.controller.key } }], defaultConnect, { deadlineMs: 10_000, firstDeadlineMs: 10_000 });
  t.teardown(() => reg.close());
  await t.rejects(reg.refresh('h1'), { code: 'FORBIDDEN' });
  t.match(reg.status()[0], { healthy: false, error: /client certificate "controller" .* is not a controller this agent obeys; accepted: controller-2/ });
  t.ok(isDeterministic('FORBIDDEN'), 'a refusal fails the run at once instead of burning retries');

  const service = new FakeService();
  service.fail.list = new SeconetError('FORBIDDEN', 'agent h1 refused the controller certificate', { field: 'controllers' });
  const app = await buildApi({ service, tokens: [TOKEN], rateLimit: false });
  await app.listen({ host: '127.0.0.1', port: 0 });
  t.teardown(() => app.close());
  const r = await app.inject({ method: 'GET', url: '/v1/experiments', headers: { authorization: `Bearer ${TOKEN}` } });
  t.equal(r.statusCode, 403);
  t.same(r.json(), { code: 'FORBIDDEN', message: 'agent h1 refused the controller certificate', field: 'controllers' });
  const addr = app.server.address();
  const tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
  const cli = await runCli(['--api', `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`, '--token-file', tokenFile, 'status'], { env: { SECONET_LAB_DIR: join(dir, 'no-lab') } });
  t.equal(cli.code, ErrorCodes.FORBIDDEN.exit, cli.stderr);
  t.equal(ErrorCodes.FORBIDDEN.exit, 14);
  t.match(cli.stderr, /FORBIDDEN: agent h1 refused the controller certificate/);
});

t.test('seconet certs: rotate the controller certificate, revoke the old one', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'seconet-certs-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const ca = join(dir, 'ca');
  await createCa(ca);
  const issued = await runCli(['certs', 'issue', '--ca', ca, '--name', 'controller-2', '--kind', 'client', '--out', join(dir, 'ctl'), '--json']);
  t.equal(issued.code, 0, issued.stderr);
  const cert = JSON.parse(issued.stdout) as { cert: string; serial: string };
  t.match(cert.serial, /^[0-9A-F]+$/);
  const list = join(dir, 'revoked.txt');
  const rev = await runCli(['certs', 'revoke', cert.cert, '--deny-list', list]);
  t.equal(rev.code, 0, rev.stderr);
  t.match(rev.stdout, new RegExp(`revoked serial ${cert.serial}`));
  t.match(readFileSync(list, 'utf8'), new RegExp(`^${cert.serial}$`, 'm'));
});
