import t from 'tap';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ExperimentSpecSchema, LIMITS, expandMatrix, parseSpec, specJsonSchema, SeconetError } from '@seconet/core';

const EXAMPLE = `name: multihost-vpn
hosts: [node-a, node-b]        # agent names
placement: multi-host
matrix:
  network: [bridge]
  tunnel: [none, vxlan, wireguard, ipsec, openvpn, tinc]
  filter: [none, iptables]
  rules: [0, 1000]
  containers: [2, 8, 32]
workloads:
  - latency-basic
  - throughput-basic: {payload: [64, 653, 1370]}
repetitions: {min: 3, max: 10, ciRelWidth: 0.05}
`;

type Test = Pick<typeof t, 'fail' | 'ok' | 'equal' | 'match'>;

function specError(t: Test, input: unknown, field: string | undefined, message: RegExp): void {
  try {
    parseSpec(input as string);
    t.fail(`expected INVALID_SPEC at ${field}`);
  } catch (e) {
    t.ok(e instanceof SeconetError, 'SeconetError');
    const err = e as SeconetError;
    t.equal(err.code, 'INVALID_SPEC');
    t.equal(err.field, field, `field of: ${err.message}`);
    t.match(err.message, message);
  }
}

t.test('the DESIGN.md example parses and normalizes', async (t) => {
  const s = parseSpec(EXAMPLE);
  t.equal(s.name, 'multihost-vpn');
  t.same(s.hosts, ['node-a', 'node-b']);
  t.same(s.matrix.tunnel, ['none', 'vxlan', 'wireguard', 'ipsec', 'openvpn', 'tinc']);
  t.same(s.workloads[0], { kind: 'latency-basic', duration: 10, protocol: ['icmp'], payload: [653], engine: 'ping', count: 50, interval: 0.2 });
  t.same(s.workloads[1], { kind: 'throughput-basic', duration: 10, protocol: ['tcp'], payload: [64, 653, 1370] });
  t.notOk('engine' in s.workloads[1]!, 'throughput engine left to the controller');
  t.same(s.repetitions, { min: 3, max: 10, ciRelWidth: 0.05, statistic: 'mean', confidence: 0.95 });
  t.same(s.options, { randomizeOrder: false, retries: 2, cooldown: 0 });
  t.equal(s.seed, 1);
});

t.test('normalized output is a fixed point, and JSON input works', async (t) => {
  const s = parseSpec(EXAMPLE);
  t.same(parseSpec(JSON.parse(JSON.stringify(s))), s);
  t.same(parseSpec(JSON.stringify(s), { format: 'json' }), s);
  t.same(parseSpec(JSON.stringify(s)), s, 'JSON text read as YAML');
});

t.test('shorthands, long forms and defaults', async (t) => {
  const s = parseSpec({
    name: 'x',
    workloads: [
      { 'latency-basic': null },
      { kind: 'throughput-basic', protocol: 'udp', payload: 1370, engine: 'iperf3' },
      { 'clients-scale': { clients: [50, 100] } },
      { 'latency-basic': { count: 20, interval: 0.05, payload: 64 } },
      'video',
      'quake3',
    ],
    options: { referenceCell: { network: 'bridge', tunnel: 'none', filter: 'none' } },
    repetitions: { max: 2 },
  });
  t.same(s.placement, 'multi-host');
  t.same(s.matrix, { network: ['bridge'], tunnel: ['none'], filter: ['none'], rules: [0], containers: [2], ruleMatch: ['address'] });
  t.same(s.workloads[1], { kind: 'throughput-basic', duration: 10, protocol: ['udp'], payload: [1370], engine: 'iperf3' });
  t.same(s.workloads[2]!.clients, [50, 100]);
  t.equal(s.workloads[3]!.duration, 1, 'count x interval');
  t.same(s.workloads[4], { kind: 'video', duration: 30, protocol: ['tcp'], engine: 'ditg', seed: 1 });
  t.notOk('payload' in s.workloads[5]!, 'quake3 payload comes from its model');
  t.same(s.repetitions.min, 2, 'min follows a lower max');
  t.same(s.options.referenceCell, { network: 'bridge', tunnel: 'none', filter: 'none', containers: 2, rules: 0, every: 1, repetitions: 2 });
});

t.test('errors name the field and the fix', async (t) => {
  specError(t, EXAMPLE.replace('wireguard', 'wiregaurd'), 'matrix.tunnel[2]', /unknown tunnel 'wiregaurd' \(did you mean 'wireguard'\?\); one of: none, ipip, gre/);
  specError(t, EXAMPLE.replace('[2, 8, 32]', '[2, 7]'), 'matrix.containers[1]', /is 7; it must be a multiple of 2: each pair is a source and a sink \(try 8\)/);
  specError(t, EXAMPLE.replace('[2, 8, 32]', '[2, 2048]'), 'matrix.containers[1]', /at most 1024/);
  specError(t, EXAMPLE.replace('rules: [0, 1000]', 'rules: [0, 1000000]'), 'matrix.rules[1]', /at most 100000/);
  const fleet = Array.from({ length: 65 }, (_, i) => `a${i}`).join(', ');
  specError(t, EXAMPLE.replace('[node-a, node-b]', `[${fleet}]`), 'hosts', /has 65 entries; at most 64 are allowed: split the fleet into experiments of at most 64 hosts each \(they run at once on disjoint hosts/);
  specError(t, EXAMPLE.replace('rules: [0, 1000]', 'rules: [0, 0]'), 'matrix.rules[1]', /repeats 0 \(already at \[0\]\); remove the duplicate/);
  specError(t, EXAMPLE.replace('filter: [none, iptables]', 'filter: []'), 'matrix.filter', /is empty; list at least 1 filter/);
  specError(t, EXAMPLE.replace('rules: [0, 1000]', 'rules: zero'), 'matrix.rules', /must be a list, not 'zero'/);
  specError(t, EXAMPLE.replace('payload: [64', 'paylod: [64'), 'workloads[1].throughput-basic.paylod', /unknown field 'paylod'.*did you mean 'payload'/);
  specError(t, EXAMPLE.replace('throughput-basic:', 'throughput-basci:'), 'workloads[1]', /unknown workload 'throughput-basci' \(did you mean 'throughput-basic'\?\)/);
  specError(t, EXAMPLE.replace('  - latency-basic\n', '  - latency-basic: {clients: 5}\n'), 'workloads[0].clients', /'clients' does not apply to latency-basic; it takes: duration, count, interval, payload/);
  specError(t, EXAMPLE.replace('{payload: [64, 653, 1370]}', '{protocol: icmp}'), 'workloads[1].protocol', /throughput-basic runs over tcp or udp, not icmp/);
  specError(t, EXAMPLE.replace('{payload: [64, 653, 1370]}', '{engine: ping}'), 'workloads[1].engine', /throughput-basic runs on uperf or iperf3, not ping/);
  specError(t, EXAMPLE.replace('  - latency-basic\n', '  - latency-basic: {count: 10, duration: 5}\n'), 'workloads[0].count', /count or duration, not both/);
  specError(t, EXAMPLE.replace('repetitions:', '  - throughput-basic: {payload: 653}\nrepetitions:'), 'workloads[2]', /'throughput-basic\/tcp\/653' is already produced by workloads\[1\]/);
  specError(t, EXAMPLE.replace('ciRelWidth: 0.05}', 'ciRelWidth: 0.05, statistic: mode}'), 'repetitions.statistic', /unknown statistic 'mode'; one of: median, mean/);
  specError(t, EXAMPLE.replace('min: 3, max: 10', 'min: 12, max: 10'), 'repetitions.min', /min \(12\) is more than max \(10\)/);
  specError(t, EXAMPLE.replace('max: 10', 'max: 1000'), 'repetitions.max', /at most 100/);
  specError(t, EXAMPLE.replace('ciRelWidth: 0.05', 'ciRelWidth: 0'), 'repetitions.ciRelWidth', /more than 0/);
  specError(t, EXAMPLE.replace('name: multihost-vpn', 'name: Multi Host'), 'name', /not a valid name/);
  specError(t, EXAMPLE + 'bogus: 1\n', 'bogus', /unknown field 'bogus' in the spec; allowed: name, description, hosts/);
  specError(t, EXAMPLE.replace('workloads:\n  - latency-basic\n  - throughput-basic: {payload: [64, 653, 1370]}\n', 'workloads: []\n'), 'workloads', /is empty/);
  specError(t, { name: 'x' }, 'workloads', /needs the field 'workloads'/);
  specError(t, EXAMPLE.replace('  - latency-basic\n', '  - {latency-basic: {}, video: {}}\n'), 'workloads[0]', /has 2 fields.*list each as its own entry/);
  specError(t, EXAMPLE.replace('placement: multi-host', 'placement: many'), 'placement', /unknown placement 'many'; one of: single-host, multi-host/);
});

t.test('total runs are bounded', async (t) => {
  const big = EXAMPLE.replace('rules: [0, 1000]', `rules: [${Array.from({ length: 60 }, (_, i) => i * 10).join(', ')}]`).replace('containers: [2, 8, 32]', `containers: [${Array.from({ length: 30 }, (_, i) => 2 + 2 * i).join(', ')}]`);
  specError(t, big, 'matrix', new RegExp(`expands to \\d+ runs at max repetitions.*limit is ${LIMITS.totalRunsMax}`));
});

t.test('reference-cell runs count against the run limit', async (t) => {
  // 180 setups x 1 size x 10 instances x 1 repetition = 1800 matrix runs, but a reference cell
  // after every setup with 100 repetitions adds 181 x 10 x 100 = 181,000 runs.
  const spec = {
    name: 'ref-bomb',
    matrix: { network: ['bridge', 'ovs', 'routing', 'bpf'], tunnel: ['none', 'ipip', 'gre', 'vxlan', 'geneve', 'ipsec', 'wireguard', 'openvpn', 'tinc'], filter: ['none', 'iptables', 'nftables', 'ovs', 'bpf'], rules: [0], containers: [2] },
    workloads: [{ 'throughput-basic': { payload: [64, 128, 256, 512, 653, 1000, 1200, 1300, 1370, 1400] } }],
    repetitions: { min: 1, max: 1 },
    options: { referenceCell: { network: 'bridge', tunnel: 'none', filter: 'none', every: 1, repetitions: 100 } },
  };
  specError(t, spec, 'options.referenceCell', /expands to 182800 runs .* plus 181000 reference-cell runs \(181 reference cells x 10 x 100\); the limit is 100000/);
  const ok = parseSpec({ ...spec, options: { referenceCell: { ...spec.options.referenceCell, every: 10, repetitions: 10 } } } as unknown as string);
  t.equal(ok.options.referenceCell?.every, 10, 'a reference cell measured less often fits');
});

t.test('syntax errors name the line', async (t) => {
  specError(t, EXAMPLE.replace('tunnel: [', 'tunnel: ]'), undefined, /not valid YAML at line 6, column \d+/);
  specError(t, EXAMPLE.replace('ciRelWidth: 0.05}', 'ciRelWidth: 0.05, min: 4}'), undefined, /line 13.*unique/);
  t.throws(() => parseSpec('{"name": "x",\n "workloads": [}', { format: 'json' }), { code: 'INVALID_SPEC', message: /not valid JSON \(line 2\)/ });
  specError(t, '', undefined, /empty/);
  specError(t, '- a\n- b\n', undefined, /must be a mapping/);
});

t.test('specJsonSchema is plain JSON Schema and docs/spec.md names every field', async (t) => {
  const js = specJsonSchema();
  t.equal(js['type'], 'object');
  t.equal(js['additionalProperties'], false);
  t.same(JSON.parse(JSON.stringify(ExperimentSpecSchema)), js);
  const doc = readFileSync(fileURLToPath(new URL('../../../docs/spec.md', import.meta.url)), 'utf8');
  const names = new Set<string>();
  const walk = (s: unknown): void => {
    if (Array.isArray(s)) return s.forEach(walk);
    if (s === null || typeof s !== 'object') return;
    const o = s as Record<string, unknown>;
    if (o['properties'] && typeof o['properties'] === 'object') for (const k of Object.keys(o['properties'])) names.add(k);
    for (const v of Object.values(o)) walk(v);
  };
  walk(js);
  t.ok(names.size > 30);
  for (const n of names) t.ok(doc.includes(`\`${n}\``), `docs/spec.md mentions \`${n}\``);
});

t.test('the JSON Schema compiles in the Ajv 8 fastify uses, in strict mode', async (t) => {
  const req = createRequire(import.meta.url);
  const ajvPath = req.resolve('ajv', { paths: [dirname(req.resolve('@fastify/ajv-compiler'))] });
  const mod = (await import(ajvPath)) as { default: new (o: object) => { compile(s: object): (v: unknown) => boolean } };
  const ajv = new mod.default({ strict: true });
  const validate = ajv.compile(specJsonSchema());
  t.equal(validate(parseSpec(EXAMPLE)), true, 'the normalized example');
  t.equal(validate(JSON.parse(JSON.stringify({ name: 'x', workloads: ['latency-basic', { 'throughput-basic': { payload: [64, 653] } }] }))), true, 'shorthands');
  t.equal(validate({ name: 'x', workloads: ['bogus'] }), false);
  t.equal(validate({ name: 'x', workloads: ['video'], matrix: { containers: [3] } }), false);
});

t.test('size in bytes, duplicate JSON keys, prototype keys, alias bombs', async (t) => {
  const wide = `name: a\ndescription: "${'é'.repeat(600_000)}"\nworkloads: [latency-basic]\n`;
  t.ok(wide.length < 1024 * 1024, 'fewer characters than the limit...');
  specError(t, wide, undefined, /the spec is 1200\d+ bytes; at most 1048576/);
  t.throws(() => parseSpec('{"name":"a","workloads":["latency-basic"],"name":"b"}', { format: 'json' }), { code: 'INVALID_SPEC', field: 'name', message: /appears twice/ });
  t.throws(() => parseSpec('{"name":"a","workloads":[{"latency-basic":{"count":1,"count":2}}]}', { format: 'json' }), { code: 'INVALID_SPEC', field: 'workloads[0].latency-basic.count' });
  t.equal(parseSpec('{"name":"a","workloads":["latency-basic"],"description":"\\"name\\": 1, \\"name\\""}', { format: 'json' }).name, 'a', 'keys inside strings are not keys');
  specError(t, 'name: a\nworkloads: [latency-basic]\n__proto__: {polluted: 1}\n', '__proto__', /keys named __proto__, constructor or prototype are refused/);
  specError(t, 'a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n', undefined, /aliases expand too far/);
});

t.test('bitrate: a target rate per stream, on iperf3, named in the instance id', async (t) => {
  const spec = (w: string): string => EXAMPLE.replace('  - throughput-basic: {payload: [64, 653, 1370]}\n', `  - ${w}\n`);
  const s = parseSpec(spec('pairs-scale: {bitrate: 2M}'));
  t.same(s.workloads[1], { kind: 'pairs-scale', duration: 10, protocol: ['tcp'], payload: [653], engine: 'iperf3', bitrate: '2M' }, 'without an engine, a bitrate runs on iperf3');
  const plan = expandMatrix(s, { experimentId: 'exp1', hosts: ['node-a', 'node-b'] });
  const inst = plan.runs.find((r) => r.workload.kind === 'pairs-scale')!.workload;
  t.equal(inst.id, 'pairs-scale/tcp/653@2M', 'the instance id names the rate');
  t.equal(inst.params['bitrate'], '2M', 'the rate goes to the agent as a workload parameter');
  // Two entries that differ only in their rate are two instances, not a duplicate.
  const two = parseSpec(EXAMPLE.replace('  - throughput-basic: {payload: [64, 653, 1370]}\n', '  - clients-scale: {clients: 8, bitrate: 10M}\n  - clients-scale: {clients: 8, bitrate: 50M}\n'));
  t.equal(two.workloads.length, 3);
  specError(t, spec('throughput-basic: {engine: uperf, bitrate: 10M}'), 'workloads[1].bitrate', /bitrate paces iperf3 \(-b\); uperf has no target rate here: use engine: iperf3/);
  specError(t, spec('throughput-basic: {bitrate: fast}'), 'workloads[1].throughput-basic.bitrate', /bitrate/);
  specError(t, EXAMPLE.replace('  - latency-basic\n', '  - latency-basic: {bitrate: 1M}\n'), 'workloads[0].bitrate', /'bitrate' does not apply to latency-basic/);
});
