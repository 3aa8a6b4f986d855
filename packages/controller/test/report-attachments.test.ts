// A soak report saved next to an experiment's raw results is listed by the store and linked,
// with its figures, from the HTML report; an experiment without one has no such section.
import t from 'tap';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderReport } from '../src/report/index.js';
import { openStore } from '../src/store/store.js';
import { reportFixture } from '../src/testing/index.js';
import { plan } from './fixtures.js';

t.test('the store lists a soak report next to the raw results; the report links it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sn-attach-'));
  const store = openStore(dir);
  t.teardown(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const p = plan('e-attach');
  store.createExperiment(p, {});
  t.equal(store.reportData('e-attach').attachments, undefined, 'nothing attached yet');
  mkdirSync(join(dir, 'raw', 'e-attach'), { recursive: true });
  const file = join(dir, 'raw', 'e-attach', 'soak-report.json');
  writeFileSync(file, JSON.stringify({ seed: 7, ok: true, faultsInjected: 21, faultsSurvived: 21, runsRetried: 3, runsFailed: 1, lost: 0, duplicated: 0, leaked: [] }));
  const data = store.reportData('e-attach');
  t.same(data.attachments?.map((a) => [a.name, a.path]), [['soak-report.json', file]]);
  t.match(data.attachments?.[0]?.summary, /seed 7: passed; faults injected 21, survived 21; runs retried 3, failed 1; lost 0, duplicated 0, leaked 0/);
  const html = await renderReport({ ...reportFixture({ done: 1 }), attachments: data.attachments });
  t.match(html, /<section id="attachments">/);
  t.match(html, new RegExp(`<a href="file://${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}">soak-report.json</a>`));
  t.notMatch(await renderReport(reportFixture({ done: 1 })), /id="attachments"/, 'no section without attachments');
});
