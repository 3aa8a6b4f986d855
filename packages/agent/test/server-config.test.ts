import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hostEnvFromConfig, loadAgentConfig, parseAgentConfig } from '../src/config.js';
import { makePki, tmpDir } from './server-helpers.js';

t.test('agent config file', async (t) => {
  const pki = await makePki(t, ['h1']);
  const dir = tmpDir(t);
  const h1 = pki.agents['h1']!;
  const base = {
    name: 'h1',
    prefix: 'sn01',
    tls: { ca: pki.ca.cert, cert: h1.cert, key: h1.key },
    underlay: { dev: 'eth0', address: '198.18.0.1' },
  };

  t.test('YAML with relative paths and defaults', async (t) => {
    const file = join(dir, 'agent.yaml');
    writeFileSync(
      file,
      [
        'name: h1',
        'prefix: sn01',
        'listen: 127.0.0.1:7001',
        'tls:',
        `  ca: ${pki.ca.cert}`,
        `  cert: ${h1.cert}`,
        `  key: ${h1.key}`,
        'stateDir: state/h1',
        'runDir: run/h1',
        'hostNetns: snlbabch1',
        'underlay: {dev: eth0, address: 198.18.0.1, mtu: 1500}',
        'logLevel: debug',
        'logFile: logs/h1.log',
      ].join('\n'),
    );
    const c = loadAgentConfig(file);
    t.match(c, { name: 'h1', prefix: 'sn01', listen: '127.0.0.1:7001', stateDir: join(dir, 'state/h1'), runDir: join(dir, 'run/h1'), hostNetns: 'snlbabch1', logFile: join(dir, 'logs/h1.log'), logLevel: 'debug' });
    const env = hostEnvFromConfig(c);
    t.match(env, { name: 'h1', prefix: 'sn01', hostNetns: 'snlbabch1', bpffs: join(dir, 'run/h1/bpffs'), underlayDev: 'eth0', underlayAddress: '198.18.0.1', underlayMtu: 1500 });
    const d = parseAgentConfig(base, dir);
    t.match(d, { listen: '0.0.0.0:7443', stateDir: '/var/lib/seconet/agent', runDir: '/run/seconet/agent', hostNetns: undefined, logLevel: 'info', underlay: { mtu: 1500 } });
  });

  t.test('trust: controllers, allowed ranges and revoked serials', async (t) => {
    const d = parseAgentConfig(base, dir);
    t.same(d.controllers, ['controller'], 'the lab controller certificate name by default');
    t.same(d.allowedRanges, ['198.18.0.0/15'], 'the lab range by default');
    t.same(hostEnvFromConfig(d).allowedRanges, ['198.18.0.0/15']);
    t.same(d.tls.revokedSerials, []);
    const list = join(dir, 'deny.txt');
    writeFileSync(list, '');
    const e = parseAgentConfig({ ...base, controllers: ['controller-2'], allowedRanges: ['10.20.0.0/16'], tls: { ...base.tls, revokedSerials: ['0x0aB1', '3C:4D'], denyList: list } }, dir);
    t.same(e.controllers, ['controller-2']);
    t.same(e.allowedRanges, ['198.18.0.0/15', '10.20.0.0/16'], 'operator ranges come on top of the lab range');
    t.same(e.tls.revokedSerials, ['AB1', '3C4D'], 'serials are normalised as Node prints them');
    t.equal(e.tls.denyList, list);
  });

  t.test('JSON works too', async (t) => {
    const file = join(dir, 'agent.json');
    writeFileSync(file, JSON.stringify({ ...base, stateDir: '/tmp/x/state', runDir: '/tmp/x/run' }));
    t.equal(loadAgentConfig(file).stateDir, '/tmp/x/state');
  });

  t.test('every bad field is named', async (t) => {
    const cases: Array<[string, Record<string, unknown>]> = [
      ['name', { name: 'H 1' }],
      ['prefix', { prefix: 'ab01' }],
      ['prefix', { prefix: 'snlb' }],
      ['listen', { listen: '127.0.0.1' }],
      ['listen', { listen: '127.0.0.1:99999' }],
      ['tls.cert', { tls: { ...base.tls, cert: join(dir, 'missing.crt') } }],
      ['tls.key', { tls: { ca: base.tls.ca, cert: base.tls.cert } }],
      ['tls.extra', { tls: { ...base.tls, extra: 1 } }],
      ['underlay.address', { underlay: { dev: 'eth0', address: '198.18.0' } }],
      ['underlay.dev', { underlay: { dev: 'eth0;reboot', address: '198.18.0.1' } }],
      ['underlay.mtu', { underlay: { dev: 'eth0', address: '198.18.0.1', mtu: 100 } }],
      ['hostNetns', { hostNetns: '../etc' }],
      ['logLevel', { logLevel: 'loud' }],
      ['runDir', { stateDir: '/tmp/same', runDir: '/tmp/same' }],
      ['stateDirr', { stateDirr: '/tmp/typo' }],
      ['runDir', { runDir: '/run/seconet/agent.h1' }],
      ['controllers', { controllers: [] }],
      ['controllers', { controllers: 'controller' }],
      ['controllers[1]', { controllers: ['controller', 'ctl; id'] }],
      ['allowedRanges[0]', { allowedRanges: ['10.0.0.0'] }],
      ['allowedRanges[0]', { allowedRanges: ['10.20.0.1/16'] }],
      ['allowedRanges[0]', { allowedRanges: ['0.0.0.0/0'] }],
      ['tls.revokedSerials[0]', { tls: { ...base.tls, revokedSerials: ['zz'] } }],
      ['tls.denyList', { tls: { ...base.tls, denyList: join(dir, 'missing.txt') } }],
    ];
    for (const [field, patch] of cases) {
      t.throws(() => parseAgentConfig({ ...base, ...patch }, dir), { name: 'SeconetError', code: 'INVALID_ARGUMENT', field }, `${field}: ${JSON.stringify(patch)}`);
    }
    t.throws(() => loadAgentConfig(join(dir, 'nope.yaml')), { code: 'INVALID_ARGUMENT', field: 'config' });
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'name: [unclosed');
    t.throws(() => loadAgentConfig(bad), { code: 'INVALID_ARGUMENT', field: 'config', message: /not valid YAML/ });
  });
});
