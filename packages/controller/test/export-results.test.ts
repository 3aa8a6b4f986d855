import t from 'tap';
import { spawnSync } from 'node:child_process';
import { requireTool } from '../../../test/helpers/requirements.js';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ResultRow } from '@seconet/core';
import { RESULT_COLUMNS, fromCsv, toCsv, toJson } from '../src/export/index.js';
import { reportFixture } from '../src/testing/index.js';

const rows = reportFixture({ spec: { name: 'small', hosts: ['a', 'b'], matrix: { tunnel: ['none', 'vxlan'], containers: [2, 4] }, workloads: ['latency-basic', { 'throughput-basic': { engine: 'iperf3' } }] } }).rows;

const awkward: ResultRow = { ...rows[0]!, pair: 'p0,"quoted"', flow: 'line1\nline2', unit: 'a\r\nb', value: -1.5e-7 };

t.test('CSV: header, RFC 4180 quoting, round trip', async (t) => {
  t.ok(rows.length > 50);
  const csv = toCsv([...rows, awkward]);
  const lines = csv.split('\r\n');
  t.equal(lines[0], RESULT_COLUMNS.join(','));
  t.ok(csv.endsWith('\r\n'));
  t.match(csv, /,"p0,""quoted""",/);
  t.match(csv, /"line1\nline2"/);
  t.same(fromCsv(csv), [...rows, awkward].map((r) => Object.fromEntries(RESULT_COLUMNS.map((c) => [c, r[c]]))));
  for (const c of ['experiment', 'cell', 'run', 'repetition', 'workload', 'network', 'tunnel', 'tunnel_variant', 'filter', 'filter_variant', 'rules', 'containers', 'pair', 'metric', 'value', 'unit']) {
    t.ok((RESULT_COLUMNS as readonly string[]).includes(c), `DESIGN.md column ${c}`);
  }
  t.same(fromCsv(toCsv([])), []);
});

t.test('CSV loads in an independent reader (Python csv module)', async (t) => {
  if (!requireTool(t, 'python3', 'reading the CSV with an independent parser')) return;
  const dir = await mkdtemp(join(tmpdir(), 'seconet-csv-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'results.csv');
  await writeFile(file, toCsv([...rows, awkward]));
  const script = [
    'import csv, json, sys',
    'with open(sys.argv[1], newline="") as f:',
    '    r = list(csv.DictReader(f))',
    'print(json.dumps({"n": len(r), "cols": list(r[0].keys()), "last": r[-1], "sum": sum(float(x["value"]) for x in r)}))',
  ].join('\n');
  const out = spawnSync('python3', ['-c', script, file], { encoding: 'utf8' });
  t.equal(out.status, 0, out.stderr);
  const res = JSON.parse(out.stdout) as { n: number; cols: string[]; last: Record<string, string>; sum: number };
  t.equal(res.n, rows.length + 1);
  t.same(res.cols, [...RESULT_COLUMNS]);
  t.equal(res.last['pair'], 'p0,"quoted"');
  t.equal(res.last['flow'], 'line1\nline2');
  t.equal(res.last['unit'], 'a\r\nb');
  const sum = [...rows, awkward].reduce((a, r) => a + r.value, 0);
  t.ok(Math.abs(res.sum - sum) <= Math.abs(sum) * 1e-12);
});

t.test('JSON: long format, columns in order, round trip', async (t) => {
  const parsed = JSON.parse(toJson([...rows, awkward])) as Array<Record<string, unknown>>;
  t.equal(parsed.length, rows.length + 1);
  t.same(Object.keys(parsed[0]!), [...RESULT_COLUMNS]);
  t.same(parsed.at(-1), Object.fromEntries(RESULT_COLUMNS.map((c) => [c, awkward[c]])));
  t.equal(typeof parsed[0]!['value'], 'number');
});
