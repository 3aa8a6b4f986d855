import t from 'tap';
import { applySpecOverrides, checkSpecOverrides, parseSpec, parseSpecDocument, SeconetError } from '@seconet/core';

const SPEC = `
name: smoke
options: {referenceCell: {network: bridge, tunnel: none, filter: none, repetitions: 4}}
workloads:
  - latency-basic
  - latency-basic: {count: 50, interval: 0.1, payload: 64}
  - {kind: rr, duration: 10}
  - http: {concurrency: 100, duration: 20}
  - clients-scale: {engine: iperf3, clients: [50, 100]}
  - video:
repetitions: {min: 3, max: 10, ciRelWidth: 0.05}
`;

t.test('--duration replaces every workload\'s duration, --repetitions fixes the count', async (t) => {
  const doc = parseSpecDocument(SPEC);
  const before = JSON.stringify(doc);
  const spec = parseSpec(applySpecOverrides(doc, { duration: 1.5, repetitions: 1 }));
  t.equal(JSON.stringify(doc), before, 'the input document is not changed');
  t.same(spec.workloads.map((w) => [w.kind, w.duration]), [['latency-basic', 1.6], ['latency-basic', 1.5], ['rr', 1.5], ['http', 1.5], ['clients-scale', 1.5], ['video', 1.5]],
    'every entry runs 1.5 s (the default 0.2 s ping interval rounds the first to 8 echoes)');
  t.equal(spec.workloads[1]!.count, 15, 'a latency-basic count goes with the duration: 1.5 s at 0.1 s');
  t.same(spec.workloads[1]!.payload, [64], 'other parameters stay');
  t.same(spec.workloads[4]!.clients, [50, 100]);
  t.equal(spec.workloads[3]!.concurrency, 100);
  t.match(spec.repetitions, { min: 1, max: 1, ciRelWidth: 0.05 });
  t.equal(spec.options.referenceCell?.repetitions, 1, 'the reference cell follows');
  const durationOnly = parseSpec(applySpecOverrides(doc, { duration: 2 }));
  t.match(durationOnly.repetitions, { min: 3, max: 10 }, 'repetitions stay unless asked');
  t.same(parseSpec(applySpecOverrides(doc, {})), parseSpec(SPEC), 'no overrides: the same spec');
});

t.test('a document the overrides cannot read is left for the validator', async (t) => {
  t.equal(applySpecOverrides('x', { duration: 1 }), 'x');
  t.same(applySpecOverrides({ name: 'a', workloads: 'rr' }, { duration: 1 }), { name: 'a', workloads: 'rr' });
  t.throws(() => parseSpec(applySpecOverrides({ name: 'a', workloads: [{ rr: { payload: 64 }, http: {} }] }, { duration: 1 })), { code: 'INVALID_SPEC', field: 'workloads[0]' });
});

t.test('bad override values name the option and a value that works', async (t) => {
  const refused = (o: Parameters<typeof checkSpecOverrides>[0], field: string, message: RegExp): void => {
    try {
      checkSpecOverrides(o);
      t.fail(`expected ${field} to be refused`);
    } catch (e) {
      t.ok(e instanceof SeconetError);
      t.match(e, { code: 'INVALID_ARGUMENT', field, message });
    }
  };
  refused({ duration: 'abc' }, 'duration', /^--duration "abc": give seconds of traffic per run, 0.5 to 3600 \(for example --duration 2\)$/);
  refused({ duration: '0.1' }, 'duration', /0\.5 to 3600/);
  refused({ duration: '' }, 'duration', /--duration ""/);
  refused({ duration: '4000' }, 'duration', /0\.5 to 3600/);
  refused({ repetitions: '0' }, 'repetitions', /^--repetitions "0": give a whole number of repetitions per cell and workload, 1 to 100 \(for example --repetitions 1\)$/);
  refused({ repetitions: '1.5' }, 'repetitions', /whole number/);
  refused({ repetitions: '101' }, 'repetitions', /1 to 100/);
  t.same(checkSpecOverrides({ duration: '0.5', repetitions: '2' }), { duration: 0.5, repetitions: 2 });
  t.same(checkSpecOverrides({}), {});
});
