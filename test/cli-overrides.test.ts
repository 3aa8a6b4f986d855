// `seconet run FILE --duration S --repetitions N` (and `submit`): the CLI shortens a spec for a
// smoke run, the controller's real parseSpec accepts the result, and bad values are refused
// at the CLI with exit 2, naming the option and the fix, before anything is submitted (or a
// lab brought up).
import t from 'tap';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { parseSpec, type ExperimentSpec } from '@seconet/core';
import { buildApi } from '../packages/controller/src/api/build-api.js';
import { FakeService, TOKEN, row } from '../packages/controller/test/api-fake-service.js';
import { REPO } from './helpers/e2e-lab.js';
import { runCli } from './cli-helpers.js';

/** Validates with the real parser; every experiment succeeds at once, so `run` can follow it. */
class Finishing extends FakeService {
  override async submit(spec: unknown): Promise<{ id: string }> {
    const { id } = await super.submit(spec);
    this.experiments.set(id, { ...this.experiments.get(id)!, state: 'succeeded', progress: { runsDone: 1, runsFailed: 0, runsTotal: 1 } });
    this.pushEvent(id, 'state', { state: 'succeeded' });
    this.rows.set(id, [row(id, 1)]);
    return { id };
  }
}

t.test('--duration and --repetitions through the CLI', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'seconet-cli-overrides-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const service = new Finishing();
  service.validate = (spec) => ({ name: parseSpec(spec).name });
  const app = await buildApi({ service, tokens: [TOKEN], rateLimit: false });
  await app.listen({ host: '127.0.0.1', port: 0 });
  t.teardown(() => app.close());
  const addr = app.server.address();
  const api = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  const tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
  const cli = (...args: string[]) => runCli(['--api', api, '--token-file', tokenFile, ...args], { env: { SECONET_LAB_DIR: join(dir, 'no-lab') } });
  const example = join(REPO, 'examples/cni-policy-complexity.yaml');
  const last = (): ExperimentSpec => parseSpec(service.submitted.at(-1));

  const run = await cli('run', example, '--duration', '1', '--repetitions', '1', '-o', join(dir, 'r.html'), '--json');
  t.equal(run.code, 0, run.stderr);
  t.match(JSON.parse(run.stdout), { state: 'succeeded', report: join(dir, 'r.html') });
  t.ok(existsSync(join(dir, 'r.csv')), 'run wrote the results next to the report');
  const spec = last();
  t.same(spec.workloads.map((w) => [w.kind, w.duration]), [['rr', 1], ['http', 1]], 'both workloads of the example run 1 s');
  t.equal(spec.workloads[1]!.concurrency, 100, 'the example\'s other parameters stay');
  t.match(spec.repetitions, { min: 1, max: 1 });
  t.same(spec.matrix.recipe, ['calico-vxlan', 'cilium-vxlan', 'antrea-geneve', 'weave-fastdp', 'kube-router'], 'the matrix is the example\'s');

  const sub = await cli('submit', example, '--duration', '0.5');
  t.equal(sub.code, 0, sub.stderr);
  t.same(last().workloads.map((w) => w.duration), [0.5, 0.5]);
  t.match(last().repetitions, { min: 3, max: 10 }, 'repetitions stay without --repetitions');
  const dry = await cli('submit', example, '--repetitions', '2', '--dry-run');
  t.equal(dry.code, 0, dry.stderr);

  // Without overrides the file goes as written (YAML).
  const plain = await cli('submit', example);
  t.equal(plain.code, 0, plain.stderr);
  t.same(last().workloads.map((w) => w.duration), [10, 20]);
  t.same(service.submitted.at(-1), parseYaml(readFileSync(example, 'utf8')), 'the document as written');

  const count = service.submitted.length;
  for (const [args, field, message] of [
    [['run', example, '--duration', 'ten'], 'duration', /--duration "ten": give seconds of traffic per run, 0\.5 to 3600 \(for example --duration 2\)/],
    [['run', example, '--duration', '0.1'], 'duration', /--duration "0\.1": .*0\.5 to 3600/],
    [['run', example, '--repetitions', '0'], 'repetitions', /--repetitions "0": give a whole number of repetitions per cell and workload, 1 to 100 \(for example --repetitions 1\)/],
    [['submit', example, '--repetitions', 'two', '--dry-run'], 'repetitions', /--repetitions "two"/],
    [['run', example, '-o', join(dir, 'missing', 'r.html')], 'output', /--output .*r\.html: the directory .*missing does not exist; create it \(mkdir -p .*missing\) or choose another path/],
  ] as const) {
    const r = await cli(...args, '--json');
    t.equal(r.code, 2, `${args.join(' ')}: exit 2`);
    t.match(JSON.parse(r.stdout).error, { code: 'INVALID_ARGUMENT', field, message }, args.join(' '));
    t.match(r.stderr, message);
  }
  t.equal(service.submitted.length, count, 'nothing bad was submitted');
  t.notOk(existsSync(join(dir, 'no-lab')), 'no lab was started');

  // A broken file with overrides: the same INVALID_SPEC, line and column, as the controller gives.
  const broken = join(dir, 'broken.yaml');
  writeFileSync(broken, 'name: b\nworkloads: [rr\n');
  const b = await cli('run', broken, '--duration', '1');
  t.equal(b.code, 2);
  t.match(b.stderr, /INVALID_SPEC: the spec is not valid YAML at line \d+, column \d+/);
});
