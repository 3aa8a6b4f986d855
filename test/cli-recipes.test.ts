// The CLI refuses a bad recipe the way the controller does: exit code 2, the field and the
// recipe's definition on stderr (the REST API over a service that validates with the real
// parseSpec).
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSpec } from '@seconet/core';
import { buildApi } from '../packages/controller/src/api/build-api.js';
import { FakeService, TOKEN } from '../packages/controller/test/api-fake-service.js';
import { runCli } from './cli-helpers.js';

t.test('seconet submit with a contradicted or unknown recipe', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'seconet-cli-recipes-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const service = new FakeService();
  service.validate = (spec) => ({ name: parseSpec(spec).name });
  const app = await buildApi({ service, tokens: [TOKEN], rateLimit: false });
  await app.listen({ host: '127.0.0.1', port: 0 });
  t.teardown(() => app.close());
  const addr = app.server.address();
  const api = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  const tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
  const cli = (...args: string[]) => runCli(['--api', api, '--token-file', tokenFile, ...args], { env: { SECONET_LAB_DIR: join(dir, 'no-lab') } });

  const contradicted = join(dir, 'contradicted.yaml');
  writeFileSync(contradicted, 'name: r\nmatrix:\n  recipe: [flannel-vxlan]\n  filter: [iptables]\nworkloads: [rr]\n');
  const r1 = await cli('submit', contradicted);
  t.equal(r1.code, 2, 'invalid input exits 2');
  t.match(r1.stderr, /INVALID_SPEC: matrix\.filter\[0\]: filter iptables contradicts the recipe: recipe flannel-vxlan is network bridge, tunnel vxlan, filter none, tunnel port 8472, vni 1/);

  const unknown = join(dir, 'unknown.yaml');
  writeFileSync(unknown, 'name: r\nmatrix:\n  recipe: [flannel]\nworkloads: [rr]\n');
  const r2 = await cli('submit', unknown, '--json');
  t.equal(r2.code, 2);
  t.match(JSON.parse(r2.stdout).error, { code: 'INVALID_SPEC', field: 'matrix.recipe[0]', message: /unknown recipe 'flannel'/ });

  const good = join(dir, 'good.yaml');
  writeFileSync(good, 'name: r\nmatrix:\n  recipe: [flannel-vxlan, kube-router]\nworkloads: [rr, {http: {concurrency: 50}}]\n');
  const r3 = await cli('submit', good);
  t.equal(r3.code, 0, r3.stderr);
  t.equal(service.submitted.length, 1, 'only the valid spec was queued');
});
