import t from 'tap';
import { SeconetError } from '@seconet/core';
import type { FilterDriver, NetworkDriver, TunnelDriver } from '../src/driver.js';
import { AllowedRanges, validateApply, isWireGuardKey, isPem, type Registries } from '../src/reconciler/validate.js';
import { applyRequest, containerSpecs, tunnelSpec } from './helpers/requests.js';

const stub = (kind: string) => ({ kind }) as unknown;
const reg: Registries = {
  network: new Map([['bridge', stub('bridge') as NetworkDriver], ['routing', stub('routing') as NetworkDriver]]),
  tunnel: new Map([['none', stub('none') as TunnelDriver], ['wireguard', stub('wireguard') as TunnelDriver], ['tinc', stub('tinc') as TunnelDriver], ['ipsec', stub('ipsec') as TunnelDriver]]),
  filter: new Map([['nftables', stub('nftables') as FilterDriver]]),
};

const WG = 'yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=';
const PUB_PEM = '-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAu1SU1LfVLPHCozMxH2Mo\n-----END PUBLIC KEY-----\n';

function fieldOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof SeconetError && e.code === 'INVALID_ARGUMENT') return e.field;
    throw e;
  }
  return undefined;
}

t.test('a good request passes and none tunnel/filter collapse to undefined', async (t) => {
  const v = validateApply(applyRequest('cell-1', { containers: 3, tunnel: tunnelSpec('none', '198.18.0.1', []), filter: { kind: 'none', allow: [], extraRules: 0, guarded: [], ruleMatch: '' } }), reg);
  t.equal(v.scope, 'cell-1');
  t.equal(v.tunnel, undefined);
  t.equal(v.filter, undefined);
  const w = validateApply(applyRequest('cell-1', { tunnel: tunnelSpec('', '198.18.0.1', [{ name: 'h2', underlayAddress: '198.18.0.2', routes: ['198.19.2.0/24'], index: 2 }]) }), reg);
  t.equal(w.tunnel?.kind, 'none', 'empty kind with peers means none');
});

t.test('every bad field is named, shell metacharacters never pass', async (t) => {
  const evil = ['c1; rm -rf /', '$(reboot)', '`id`', 'a|b', "x' && true", 'eth0\nlink del', '../../etc'];
  const cases: Array<[string, () => unknown]> = [
    ['scope', () => validateApply(applyRequest('Bad Scope;'), reg)],
    ['requestId', () => validateApply({ ...applyRequest('s'), requestId: 'id $(x)' }, reg)],
    ['state', () => validateApply({ ...applyRequest('s'), state: null }, reg)],
    ['state.network', () => validateApply(applyRequest('s', { network: 'bridge;reboot' }), reg)],
    ['state.network', () => validateApply(applyRequest('s', { network: 'ovs' }), reg)],
    ['state.containerCidr', () => validateApply(applyRequest('s', { cidr: '198.19.1.0/24 && x', containers: [] }), reg)],
    ['state.containerCidr', () => validateApply(applyRequest('s', { cidr: '198.19.1.5/24', containers: [{ name: 'c1', address: '198.19.1.2' }] }), reg)],
    ['state.containers', () => validateApply(applyRequest('s', { containers: 0 }), reg)],
    ['state.containers', () => validateApply(applyRequest('s', { cidr: '198.18.0.0/21', containers: containerSpecs(1025, '198.18.0.0/21') }), reg)],
    ['state.containers[1].name', () => validateApply(applyRequest('s', { containers: [{ name: 'c1', address: '198.19.1.2' }, { name: 'c1', address: '198.19.1.3' }] }), reg)],
    ['state.containers[0].address', () => validateApply(applyRequest('s', { containers: [{ name: 'c1', address: '198.19.2.2' }] }), reg)],
    ['state.containers[0].address', () => validateApply(applyRequest('s', { containers: [{ name: 'c1', address: '198.19.1.1' }] }), reg)],
    ['state.containers[0].address', () => validateApply(applyRequest('s', { containers: [{ name: 'c1', address: '198.19.1.255' }] }), reg)],
    ['state.containers[1].address', () => validateApply(applyRequest('s', { containers: [{ name: 'c1', address: '198.19.1.2' }, { name: 'c2', address: '198.19.1.2' }] }), reg)],
    ['state.mtu', () => validateApply(applyRequest('s', { mtu: 100 }), reg)],
    ['state.tunnel.kind', () => validateApply(applyRequest('s', { tunnel: tunnelSpec('ipip', '198.18.0.1', []) }), reg)],
    ['state.tunnel.localAddress', () => validateApply(applyRequest('s', { tunnel: tunnelSpec('none', '198.18.0.1; id', [{ name: 'h2', underlayAddress: '198.18.0.2', routes: [], index: 2 }]) }), reg)],
    ['state.tunnel.peers[1].underlayAddress', () => validateApply(applyRequest('s', { tunnel: tunnelSpec('none', '198.18.0.1', [{ name: 'h2', underlayAddress: '198.18.0.2', routes: [], index: 2 }, { name: 'h3', underlayAddress: '198.18.0.300', routes: [], index: 3 }]) }), reg)],
    ['state.tunnel.peers[1].underlayAddress', () => validateApply(applyRequest('s', { tunnel: tunnelSpec('none', '198.18.0.1', [{ name: 'h2', underlayAddress: '198.18.0.2', routes: [], index: 2 }, { name: 'h3', underlayAddress: '198.18.0.2', routes: [], index: 3 }]) }), reg)],
    ['state.tunnel.peers[0].routes[0]', () => validateApply(applyRequest('s', { tunnel: tunnelSpec('none', '198.18.0.1', [{ name: 'h2', underlayAddress: '198.18.0.2', routes: ['198.19.2.0/24 via 1.1.1.1'], index: 2 }]) }), reg)],
    ['state.tunnel.peers[0].name', () => validateApply(applyRequest('s', { tunnel: tunnelSpec('none', '198.18.0.1', [{ name: 'h2;x', underlayAddress: '198.18.0.2', routes: [], index: 2 }]) }), reg)],
    ['state.tunnel.port', () => validateApply(applyRequest('s', { tunnel: tunnelSpec('none', '198.18.0.1', [{ name: 'h2', underlayAddress: '198.18.0.2', routes: [], index: 2 }], { port: 70000 }) }), reg)],
    ['state.tunnel.vni', () => validateApply(applyRequest('s', { tunnel: tunnelSpec('none', '198.18.0.1', [{ name: 'h2', underlayAddress: '198.18.0.2', routes: [], index: 2 }], { vni: 2 ** 24 }) }), reg)],
    ['state.tunnel.cipher', () => validateApply(applyRequest('s', { tunnel: tunnelSpec('none', '198.18.0.1', [{ name: 'h2', underlayAddress: '198.18.0.2', routes: [], index: 2 }], { cipher: 'aes; id' }) }), reg)],
    ['state.tunnel.peers[0].publicKey', () => validateApply(applyRequest('s', { tunnel: tunnelSpec('wireguard', '198.18.0.1', [{ name: 'h2', underlayAddress: '198.18.0.2', routes: [], index: 2, publicKey: 'bm90IGEga2V5' }], { secrets: { privateKey: WG, preSharedKey: '' } }) }), reg)],
    ['state.tunnel.secrets.privateKey', () => validateApply(applyRequest('s', { tunnel: tunnelSpec('wireguard', '198.18.0.1', [{ name: 'h2', underlayAddress: '198.18.0.2', routes: [], index: 2, publicKey: WG }], { secrets: { privateKey: '$(cat /etc/shadow)', preSharedKey: '' } }) }), reg)],
    ['state.tunnel.secrets.privateKey', () => validateApply(applyRequest('s', { tunnel: tunnelSpec('tinc', '198.18.0.1', [{ name: 'h2', underlayAddress: '198.18.0.2', routes: [], index: 2, publicKey: PUB_PEM }], { secrets: { privateKey: PUB_PEM, preSharedKey: '' } }) }), reg)],
    ['state.tunnel.secrets.preSharedKey', () => validateApply(applyRequest('s', { tunnel: tunnelSpec('ipsec', '198.18.0.1', [{ name: 'h2', underlayAddress: '198.18.0.2', routes: [], index: 2 }], { secrets: { privateKey: '', preSharedKey: 'zz' } }) }), reg)],
    ['state.tunnel.secrets.preSharedKey', () => validateApply(applyRequest('s', { tunnel: tunnelSpec('ipsec', '198.18.0.1', [{ name: 'h2', underlayAddress: '198.18.0.2', routes: [], index: 2 }]) }), reg)],
    ['state.filter.kind', () => validateApply(applyRequest('s', { filter: { kind: 'pf', allow: [], extraRules: 0, guarded: [], ruleMatch: '' } }), reg)],
    ['state.filter.extraRules', () => validateApply(applyRequest('s', { filter: { kind: 'nftables', allow: [], extraRules: 100_001, guarded: [], ruleMatch: '' } }), reg)],
    ['state.filter.allow[1].dst', () => validateApply(applyRequest('s', { filter: { kind: 'nftables', allow: [{ src: '198.19.1.2', dst: '198.19.1.3' }, { src: '198.19.1.2', dst: '198.19.1.3 } drop' }], extraRules: 0, guarded: [], ruleMatch: '' } }), reg)],
    ['state.filter.guarded[0]', () => validateApply(applyRequest('s', { filter: { kind: 'nftables', allow: [], extraRules: 0, guarded: ['198.19.0.0/16;'], ruleMatch: '' } }), reg)],
  ];
  for (const [field, fn] of cases) t.equal(fieldOf(fn), field, `names ${field}`);
  for (const e of evil) {
    t.equal(fieldOf(() => validateApply(applyRequest('s', { containers: [{ name: e, address: '198.19.1.2' }] }), reg)), 'state.containers[0].name', `container name ${JSON.stringify(e)}`);
    t.equal(fieldOf(() => validateApply(applyRequest(e), reg)), 'scope', `scope ${JSON.stringify(e)}`);
  }
  try {
    validateApply(applyRequest('s', { network: 'ovs' }), reg);
  } catch (e) {
    t.match((e as Error).message, /this agent offers: bridge, routing/, 'the message lists what is offered');
  }
});

t.test('a network outside the allowed ranges is refused with the field named', async (t) => {
  const forbidden = (fn: () => unknown): string | undefined => {
    try {
      fn();
    } catch (e) {
      if (e instanceof SeconetError && e.code === 'FORBIDDEN') return e.field;
      throw e;
    }
    return undefined;
  };
  const peer = (o: { routes?: string[]; overlayAddress?: string }) => ({ name: 'h2', underlayAddress: '198.18.0.2', routes: o.routes ?? ['198.19.2.0/24'], index: 2, publicKey: WG, ...(o.overlayAddress ? { overlayAddress: o.overlayAddress } : {}) });
  const wg = (o: { routes?: string[]; overlayAddress?: string; local?: string }) =>
    tunnelSpec('wireguard', '198.18.0.1', [peer(o)], { secrets: { privateKey: WG, preSharedKey: '' }, ...(o.local ? { overlayAddress: o.local } : {}) });
  const filter = (allow: Array<{ src: string; dst: string }>, guarded: string[]) => ({ kind: 'nftables', allow, extraRules: 0, guarded, ruleMatch: '' });
  const cases: Array<[string, () => unknown]> = [
    ['state.tunnel.peers[0].routes[0]', () => validateApply(applyRequest('s', { tunnel: wg({ routes: ['0.0.0.0/0'] }) }), reg)],
    ['state.tunnel.peers[0].routes[1]', () => validateApply(applyRequest('s', { tunnel: wg({ routes: ['198.19.2.0/24', '198.16.0.0/14'] }) }), reg)],
    ['state.containerCidr', () => validateApply(applyRequest('s', { cidr: '10.0.0.0/8', containers: [{ name: 'c1', address: '10.0.0.2' }] }), reg)],
    ['state.tunnel.overlayAddress', () => validateApply(applyRequest('s', { tunnel: wg({ local: '192.168.1.1/24' }) }), reg)],
    ['state.tunnel.peers[0].overlayAddress', () => validateApply(applyRequest('s', { tunnel: wg({ overlayAddress: '8.8.8.8' }) }), reg)],
    ['state.filter.guarded[0]', () => validateApply(applyRequest('s', { filter: filter([], ['0.0.0.0/0']) }), reg)],
    ['state.filter.allow[0].dst', () => validateApply(applyRequest('s', { filter: filter([{ src: '198.19.1.2', dst: '1.1.1.1' }], []) }), reg)],
  ];
  for (const [field, fn] of cases) t.equal(forbidden(fn), field, `refuses ${field}`);
  try {
    validateApply(applyRequest('s', { tunnel: wg({ routes: ['0.0.0.0/0'] }) }), reg);
  } catch (e) {
    t.match((e as Error).message, /^state\.tunnel\.peers\[0\]\.routes\[0\]: 0\.0\.0\.0\/0 is outside the address ranges this agent may touch \(198\.18\.0\.0\/15\); add the range to the agent config's allowedRanges/);
  }
  const wider = new AllowedRanges(['198.18.0.0/15', '10.20.0.0/16']);
  const v = validateApply(applyRequest('s', { cidr: '10.20.1.0/24', containers: [{ name: 'c1', address: '10.20.1.2' }], tunnel: wg({ routes: ['10.20.2.0/24'] }) }), reg, wider);
  t.equal(v.state.containerCidr, '10.20.1.0/24', 'a range the operator lists is accepted');
  t.equal(forbidden(() => validateApply(applyRequest('s', { cidr: '10.0.0.0/8', containers: [{ name: 'c1', address: '10.0.0.2' }] }), reg, wider)), 'state.containerCidr', 'a network wider than the listed range is not');
  t.equal(forbidden(() => validateApply(applyRequest('s', { tunnel: wg({ routes: ['198.19.2.0/24'] }) }), reg)), undefined, 'the lab range passes by default');
});

t.test('key formats', async (t) => {
  t.ok(isWireGuardKey(WG));
  t.notOk(isWireGuardKey(WG.slice(1)));
  t.notOk(isWireGuardKey('yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmm='), 'non-canonical padding bits');
  t.ok(isPem(PUB_PEM, 'PUBLIC'));
  t.notOk(isPem(PUB_PEM, 'PRIVATE'));
  t.notOk(isPem(PUB_PEM + 'x', 'PUBLIC'));
});

t.test('the reconciler validates every request before it runs a command', async (t) => {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { FakeRunner } = await import('../src/testing.js');
  const { createReconciler } = await import('../src/reconciler/reconciler.js');
  const { silentLogger } = await import('./helpers/two-hosts.js');
  const dir = mkdtempSync(join(tmpdir(), 'seconet-val-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const runner = new FakeRunner();
  const env = { name: 'h1', prefix: 'snab', hostNetns: 'snlbxh1', stateDir: join(dir, 'state'), runDir: join(dir, 'run'), bpffs: join(dir, 'bpf'), underlayDev: 'eth0', underlayAddress: '198.18.0.1', underlayMtu: 1500 };
  const rec = await createReconciler({ env, runner, log: silentLogger(), registries: reg });
  await t.rejects(rec.apply(applyRequest('s', { containers: [{ name: 'c1', address: '198.19.1.2; reboot' }] })), { code: 'INVALID_ARGUMENT', field: 'state.containers[0].address' });
  await t.rejects(rec.apply(applyRequest('s', { cidr: '10.0.0.0/8', containers: [{ name: 'c1', address: '10.0.0.2' }] })), { code: 'FORBIDDEN', field: 'state.containerCidr' });
  await t.rejects(rec.teardown({ requestId: 'r', scope: 'x y' }), { code: 'INVALID_ARGUMENT', field: 'scope' });
  await t.rejects(rec.check({ scope: '$(id)' }), { code: 'INVALID_ARGUMENT', field: 'scope' });
  await t.rejects(rec.gc({ requestId: 'r', keepScopes: ['ok', 'not ok'] }), { code: 'INVALID_ARGUMENT', field: 'keepScopes[1]' });
  t.same(runner.calls, [], 'no command ran');
  t.same(await rec.check({ scope: 'unknown' }), { inSync: false, drifts: [], known: false });
  t.same((await rec.teardown({ requestId: 'r', scope: 'unknown' })).removed, [], 'teardown of an unknown scope succeeds');
});
