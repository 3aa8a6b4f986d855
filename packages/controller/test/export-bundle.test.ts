import t from 'tap';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { BUNDLE_SUFFIX, readBundle, writeBundle } from '../src/export/index.js';
import { renderReport } from '../src/report/index.js';
import { reportFixture } from '../src/testing/index.js';

t.test('bundle -> readBundle -> the same report', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'seconet-bundle-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const data = reportFixture({ done: 0.5 });
  const withInf = { ...data, decisions: [...data.decisions, { cell: data.cells[0]!.cell.id, workload: 'x/tcp/1', metric: 'throughput', repetitions: 1, converged: false, ciLow: -Infinity, ciHigh: Infinity, center: 5, relHalfWidth: Infinity }] };
  const raw = [{ run: data.runs[0]!.id, pair: 'p0', tool: 'ping', argv: ['ping', '-c', '40'], text: 'PING 198.19.1.2 56(84) bytes of data.\n' }];
  const file = join(dir, `exp${BUNDLE_SUFFIX}`);
  await writeBundle({ ...withInf, rawOutputs: raw }, file);
  const bytes = await readFile(file);
  t.same([bytes[0], bytes[1]], [0x1f, 0x8b], 'gzip');
  t.same(await readdir(dir), [`exp${BUNDLE_SUFFIX}`], 'no temporary file left');
  const back = await readBundle(file);
  t.same(back.rawOutputs, raw);
  t.equal(back.decisions.at(-1)!.relHalfWidth, Infinity, 'non-finite numbers survive');
  t.equal(back.decisions.at(-1)!.ciLow, -Infinity);
  t.equal(back.rows.length, data.rows.length);
  t.equal(back.series.length, data.series.length);
  t.equal(back.hostSamples.length, data.hostSamples.length);
  t.same(back.hosts, data.hosts);
  t.same(back.experiment.spec, data.experiment.spec);
  t.equal(await renderReport(back), await renderReport(withInf), 'identical HTML');
});

t.test('bad bundles are refused with a reason', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'seconet-bundle-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await t.rejects(readBundle(join(dir, 'missing.seconet.json.gz')), { code: 'NOT_FOUND', field: 'bundle' });
  const plain = join(dir, 'plain.json');
  await writeFile(plain, '{}');
  await t.rejects(readBundle(plain), { code: 'INVALID_ARGUMENT', message: /not a gzip'd seconet results bundle/ });
  const other = join(dir, 'other.gz');
  await writeFile(other, gzipSync(JSON.stringify({ format: 'something-else' })));
  await t.rejects(readBundle(other), { code: 'INVALID_ARGUMENT', message: /not a seconet results bundle/ });
  const future = join(dir, 'future.gz');
  await writeFile(future, gzipSync(JSON.stringify({ format: 'seconet-results-bundle', version: 99 })));
  await t.rejects(readBundle(future), { message: /bundle version 99/ });
  const partial = join(dir, 'partial.gz');
  await writeFile(partial, gzipSync(JSON.stringify({ format: 'seconet-results-bundle', version: 1, experiment: { id: 'e', name: 'n' }, cells: [] })));
  await t.rejects(readBundle(partial), { code: 'INVALID_ARGUMENT', field: 'bundle.skipped' });
});
