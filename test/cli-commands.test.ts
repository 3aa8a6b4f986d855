// The CLI against a real HTTP server (the REST API over a fake controller): arguments, output,
// --json, exit codes.
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApi } from '../packages/controller/src/api/build-api.js';
import { writeBundle } from '../packages/controller/src/export/index.js';
import { reportFixture } from '@seconet/controller/testing';
import type { ExperimentSummary, ProgressEvent } from '../packages/controller/src/service.js';
import { FakeService, TOKEN, row } from '../packages/controller/test/api-fake-service.js';
import { runCli } from './cli-helpers.js';

/** A fake whose experiments run to `outcome` while someone follows their events. */
class RunningFake extends FakeService {
  outcome: ExperimentSummary['state'] = 'succeeded';
  override async submit(spec: unknown): Promise<{ id: string }> {
    const { id } = await super.submit(spec);
    this.experiments.set(id, { ...this.experiments.get(id)!, state: 'running', progress: { runsDone: 0, runsFailed: 0, runsTotal: 2 } });
    this.rows.set(id, [row(id, 1)]);
    return { id };
  }
  override async *events(id: string, afterId: number, signal: AbortSignal): AsyncIterable<ProgressEvent> {
    const e = this.experiments.get(id)!;
    if ((this.eventLog.get(id) ?? []).length === 0) {
      this.pushEvent(id, 'run', { run: 'r1', runsDone: 1, runsFailed: 0, runsTotal: 2 });
      this.pushEvent(id, 'run', { run: 'r2', runsDone: this.outcome === 'succeeded' ? 2 : 1, runsFailed: this.outcome === 'succeeded' ? 0 : 1, runsTotal: 2 });
      this.pushEvent(id, 'state', { state: this.outcome });
      this.experiments.set(id, { ...e, state: this.outcome, progress: { runsDone: 2, runsFailed: 0, runsTotal: 2 } });
    }
    yield* super.events(id, afterId, signal);
  }
}

t.test('seconet CLI against the API', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'seconet-cli-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const service = new RunningFake();
  const app = await buildApi({ service, tokens: [TOKEN], rateLimit: false });
  await app.listen({ host: '127.0.0.1', port: 0 });
  t.teardown(() => app.close());
  const addr = app.server.address();
  const api = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  const tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, `# comment\n${TOKEN}\n`, { mode: 0o600 });
  const good = join(dir, 'good.yaml');
  writeFileSync(good, 'name: cli-test\nmatrix:\n  network: [bridge]\n');
  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, 'name: 5\n');
  // A lab state dir that does not exist: the CLI must not fall back to a real lab here.
  const env = { SECONET_LAB_DIR: join(dir, 'no-lab') };
  const cli = (...args: string[]) => runCli(['--api', api, '--token-file', tokenFile, ...args], { env });

  const sub = await cli('submit', good);
  t.equal(sub.code, 0, sub.stderr);
  const id = sub.stdout.trim();
  t.match(id, /^exp\d+$/);
  t.same(service.submitted.at(-1), { name: 'cli-test', matrix: { network: ['bridge'] } }, 'the YAML file reaches the controller');

  const subJson = await cli('submit', good, '--json');
  t.equal(subJson.code, 0);
  t.match(JSON.parse(subJson.stdout), { id: /^exp\d+$/ });

  const invalid = await cli('submit', bad, '--json');
  t.equal(invalid.code, 2, 'invalid input exits 2');
  t.same(JSON.parse(invalid.stdout).error, { code: 'INVALID_SPEC', message: 'name: must be a string', field: 'name' });
  t.match(invalid.stderr, /INVALID_SPEC: name: must be a string/);

  const missingFile = await cli('submit', join(dir, 'nope.yaml'));
  t.equal(missingFile.code, 2);
  t.match(missingFile.stderr, /cannot read the spec/);

  const dry = await cli('submit', good, '--dry-run', '--json');
  t.equal(dry.code, 0);
  t.match(JSON.parse(dry.stdout), { runsTotal: 2, estimatedSeconds: 42, skipped: [{ reason: 'no agent offers tunnel wireguard' }] });
  const dryText = await cli('submit', good, '--dry-run');
  t.match(dryText.stdout, /1 cells, 2 runs/);
  t.match(dryText.stdout, /skipped .*wireguard.*: no agent offers tunnel wireguard/);

  const list = await cli('status');
  t.equal(list.code, 0);
  t.match(list.stdout, new RegExp(`${id}\\s+cli-test\\s+running`));
  const one = await cli('status', id, '--json');
  t.equal(one.code, 0);
  t.equal(JSON.parse(one.stdout).id, id);
  const nf = await cli('status', 'nope');
  t.equal(nf.code, 5, 'not found exits 5');

  const followed = await cli('submit', good, '--follow', '--json');
  t.equal(followed.code, 0, `follow to success: ${followed.stderr}`);
  t.equal(JSON.parse(followed.stdout.slice(followed.stdout.indexOf('{'))).state, 'succeeded');

  service.outcome = 'failed';
  const failed = await cli('submit', good, '--follow');
  t.equal(failed.code, 12, 'a failed experiment exits 12');
  t.match(failed.stdout, /failed/);
  service.outcome = 'succeeded';

  const csv = await cli('results', id, '--format', 'csv');
  t.equal(csv.code, 0);
  const lines = csv.stdout.trim().split(/\r?\n/);
  t.equal(lines.length, 2);
  t.equal(lines[0]!.split(',').length, lines[1]!.split(',').length, 'CSV rows have the header\'s width');
  const jsonOut = join(dir, 'r.json');
  const js = await cli('results', id, '--format', 'json', '-o', jsonOut);
  t.equal(js.code, 0);
  t.equal(JSON.parse(readFileSync(jsonOut, 'utf8'))[0].metric, 'rtt_avg');
  const badFmt = await cli('results', id, '--format', 'xml');
  t.equal(badFmt.code, 2);

  const html = join(dir, 'report.html');
  const rep = await cli('report', id, '-o', html);
  t.equal(rep.code, 0);
  t.match(readFileSync(html, 'utf8'), /<h1>cli-test<\/h1>/);
  t.equal(rep.stdout.trim(), html);

  const bundle = join(dir, 'fixture.seconet.json.gz');
  const fixture = reportFixture();
  await writeBundle(fixture, bundle);
  const offline = join(dir, 'offline.html');
  const off = await runCli(['report', '--bundle', bundle, '-o', offline, '--json'], { env });
  t.equal(off.code, 0, `report --bundle: ${off.stderr}`);
  t.equal(JSON.parse(off.stdout).id, fixture.experiment.id);
  t.match(readFileSync(offline, 'utf8'), /<svg/, 'the offline report has its figures');
  const noBundle = await runCli(['report', '--bundle', join(dir, 'missing.gz'), '-o', offline], { env });
  t.equal(noBundle.code, 5, 'a missing bundle exits 5');
  const noId = await runCli(['report', '-o', offline], { env });
  t.equal(noId.code, 2, 'report without id or bundle exits 2');

  const cancel = await cli('cancel', id, '--json');
  t.equal(cancel.code, 0);
  t.equal(JSON.parse(cancel.stdout).state, 'cancelled');

  const wrongTok = join(dir, 'wrong');
  writeFileSync(wrongTok, 'wrong-token-0123456789\n');
  const unauth = await runCli(['--api', api, '--token-file', wrongTok, 'status'], { env });
  t.equal(unauth.code, 4, 'a wrong token exits 4');
  t.match(unauth.stderr, /UNAUTHORIZED/);

  const down = await runCli(['--api', 'http://127.0.0.1:1', '--token-file', tokenFile, 'status', '--json'], { env });
  t.equal(down.code, 8, 'an unreachable controller exits 8');
  t.equal(JSON.parse(down.stdout).error.code, 'UNAVAILABLE');

  const noLab = await runCli(['status'], { env });
  t.equal(noLab.code, 8);
  t.match(noLab.stderr, /seconet lab up/);

  const help = await runCli(['--help']);
  t.equal(help.code, 0);
  t.match(help.stdout, /Examples:/);
  for (const c of ['lab', 'run', 'submit', 'status', 'results', 'report', 'agent', 'certs']) t.match(help.stdout, new RegExp(`\\n\\s+${c}\\b`), `help lists ${c}`);
  const subHelp = await runCli(['submit', '--help']);
  t.equal(subHelp.code, 0);
  t.match(subHelp.stdout, /seconet submit examples\/quickstart.yaml/);
  const noConfig = await runCli(['controller', '--config', join(dir, 'missing.yaml'), '--json'], { env });
  t.equal(noConfig.code, 2, 'controller with a missing config exits 2');
  t.equal(JSON.parse(noConfig.stdout).error.field, 'config');
  const badConfig = join(dir, 'controller.yaml');
  writeFileSync(badConfig, 'redis: {url: "http://nope"}\n');
  const bc = await runCli(['controller', '--config', badConfig, '--json'], { env });
  t.equal(bc.code, 2);
  t.equal(JSON.parse(bc.stdout).error.field, 'redis.url', 'the bad field is named');

  const unknown = await runCli(['frobnicate']);
  t.equal(unknown.code, 2, 'an unknown command exits 2');
});
