import t from 'tap';
import { placeCell, deniedSample, clientPairs, cellClients, BASE_PORT } from '../src/scheduler/placement.js';
import { buildHostStates, scopeName, NO_SECRETS } from '../src/configurator/host-state.js';
import { Configurator } from '../src/configurator/configurator.js';
import type { AgentLink } from '../src/agents/contract.js';
import { NAME_RE } from '@seconet/core';
import { cell } from './fixtures.js';

t.test('multi-host: sources on hosts[0], sinks on hosts[1]', async (t) => {
  const p = placeCell(cell(0, { containers: 8 }));
  t.same(p.hosts.map((h) => [h.name, h.containerCidr, h.containers.length]), [['h1', '198.19.1.0/24', 4], ['h2', '198.19.2.0/24', 4]]);
  t.ok(p.hosts[0]!.containers.every((c) => c.role === 'source'));
  t.ok(p.hosts[1]!.containers.every((c) => c.role === 'sink'));
  t.same(p.pairs.map((x) => [x.pair, x.source.address, x.sink.address, x.port]), [
    ['p0', '198.19.1.2', '198.19.2.2', BASE_PORT],
    ['p1', '198.19.1.3', '198.19.2.3', BASE_PORT],
    ['p2', '198.19.1.4', '198.19.2.4', BASE_PORT],
    ['p3', '198.19.1.5', '198.19.2.5', BASE_PORT],
  ]);
});

t.test('single-host: everything on hosts[0]', async (t) => {
  const p = placeCell(cell(0, { containers: 4, placement: 'single-host' }));
  t.same(p.hosts.map((h) => h.name), ['h1']);
  t.same(p.pairs.map((x) => [x.source.address, x.sink.address]), [['198.19.1.2', '198.19.1.3'], ['198.19.1.4', '198.19.1.5']]);
});

t.test('three hosts: round robin, every pair crosses hosts', async (t) => {
  const p = placeCell(cell(0, { containers: 6, hosts: ['a', 'b', 'c'] }));
  t.ok(p.pairs.every((x) => x.source.host !== x.sink.host));
  t.same(p.pairs.map((x) => `${x.source.host}>${x.sink.host}`), ['a>b', 'c>a', 'b>c']);
  t.same(p.hosts.map((h) => h.containers.length), [2, 2, 2]);
});

t.test('bad counts name the field', async (t) => {
  t.throws(() => placeCell(cell(0, { containers: 3 })), { code: 'INVALID_SPEC', field: 'matrix.containers' });
  t.throws(() => placeCell(cell(0, { hosts: ['h1'] })), { code: 'INVALID_SPEC', field: 'placement' });
});

t.test('denied sample never contains an allowed pair', async (t) => {
  const p = placeCell(cell(0, { containers: 8 }));
  const allowed = new Set(p.pairs.map((x) => `${x.source.address}>${x.sink.address}`));
  const d = deniedSample(p);
  t.ok(d.length >= 2);
  t.ok(d.every((x) => !allowed.has(`${x.from.address}>${x.to.address}`) && !allowed.has(`${x.to.address}>${x.from.address}`)));
  t.same(deniedSample(placeCell(cell(0))), [], 'one pair: nothing to deny');
});

t.test('host states: tunnel peers, routes, filter allow-list', async (t) => {
  const c = cell(0, { containers: 4, tunnel: 'wireguard', filter: 'iptables', rules: 100 });
  const placement = placeCell(c);
  const secrets = new Map([['h1', { privateKey: 'k1', preSharedKey: '', publicKey: 'P1' }], ['h2', { privateKey: 'k2', preSharedKey: '', publicKey: 'P2' }]]);
  const states = buildHostStates({ cell: c, placement, underlay: new Map([['h1', '198.18.0.1'], ['h2', '198.18.0.2']]), secrets });
  const h1 = states.get('h1')!;
  t.equal(h1.tunnel.localAddress, '198.18.0.1');
  t.equal(h1.tunnel.overlayAddress, '198.18.1.1/24');
  t.same(h1.tunnel.peers, [{ name: 'h2', underlayAddress: '198.18.0.2', overlayAddress: '198.18.1.2', routes: ['198.19.2.0/24'], publicKey: 'P2', index: 2 }]);
  t.equal(h1.tunnel.secrets.privateKey, 'k1');
  t.same(h1.filter, { kind: 'iptables', allow: [{ src: '198.19.1.2', dst: '198.19.2.2' }, { src: '198.19.1.3', dst: '198.19.2.3' }], extraRules: 100, guarded: ['198.19.1.0/24', '198.19.2.0/24'], ruleMatch: '' });
  t.same(states.get('h2')!.containers, [{ name: 'snk0', address: '198.19.2.2' }, { name: 'snk1', address: '198.19.2.3' }]);
  t.throws(() => buildHostStates({ cell: { ...c, placement: 'single-host' }, placement: placeCell({ ...c, placement: 'single-host' }), underlay: new Map([['h1', 'x']]), secrets: new Map() }), { code: 'UNSUPPORTED', field: 'matrix.tunnel' });
});

t.test('scope names are valid and ignore the rule count', async (t) => {
  const a = scopeName('exp-1', { network: 'bridge', tunnel: 'vxlan', filter: 'nftables' }, 32);
  t.match(a, NAME_RE);
  t.equal(a, scopeName('exp-1', { network: 'bridge', tunnel: 'vxlan', filter: 'nftables' }, 32));
  t.not(a, scopeName('exp-2', { network: 'bridge', tunnel: 'vxlan', filter: 'nftables' }, 32));
  t.ok(NO_SECRETS('none', ['h1']));
});

t.test('host states: a recipe cell asks for the CNI\'s tunnel port and VNI; plain cells leave them to the agent', async (t) => {
  const underlay = new Map([['h1', '198.18.0.1'], ['h2', '198.18.0.2']]);
  const flannel = cell(0, { tunnel: 'vxlan', recipe: 'flannel-vxlan' });
  const f = buildHostStates({ cell: flannel, placement: placeCell(flannel), underlay, secrets: new Map() }).get('h1')!;
  t.equal(f.tunnel.port, 8472);
  t.equal(f.tunnel.vni, 1);
  const plain = cell(0, { tunnel: 'vxlan' });
  const p = buildHostStates({ cell: plain, placement: placeCell(plain), underlay, secrets: new Map() }).get('h1')!;
  t.equal(p.tunnel.port, 0);
  t.equal(p.tunnel.vni, 0);
});

t.test('more than 253 containers on a host: every host of the cell takes its /22', async (t) => {
  const one = placeCell({ containers: 1000, placement: 'single-host', hosts: ['h1', 'h2'] });
  t.same(one.hosts.map((h) => [h.name, h.containerCidr, h.containers.length]), [['h1', '198.18.4.0/22', 1000]]);
  t.equal(one.pairs[499]!.sink.address, '198.18.7.233', 'the 1000th container is host 1001 of the /22');
  const two = placeCell({ containers: 1000, placement: 'multi-host', hosts: ['h1', 'h2'] });
  t.same(two.hosts.map((h) => [h.name, h.containerCidr, h.containers.length]), [['h1', '198.18.4.0/22', 500], ['h2', '198.18.8.0/22', 500]]);
  t.equal(new Set([...two.pairs.flatMap((p) => [p.source.address, p.sink.address])]).size, 1000, 'every address distinct');
  const small = placeCell({ containers: 506, placement: 'multi-host', hosts: ['h1', 'h2'] });
  t.same(small.hosts.map((h) => h.containerCidr), ['198.19.1.0/24', '198.19.2.0/24'], '253 per host still fit the /24s');
  const big = placeCell({ containers: 508, placement: 'multi-host', hosts: ['h1', 'h2'] });
  t.same(big.hosts.map((h) => h.containerCidr), ['198.18.4.0/22', '198.18.8.0/22'], '254 per host take the /22s');
  const hosts = Array.from({ length: 33 }, (_, i) => `h${i + 1}`);
  t.throws(() => placeCell({ containers: 600, placement: 'single-host', hosts: ['h32'] }, hosts), { code: 'UNSUPPORTED', message: /first 31/ });
});

t.test('clients-scale: one server, the cell\'s own containers then extra client containers, one port per client', async (t) => {
  const two = placeCell(cell(0, { containers: 2 }), ['h1', 'h2'], { clients: 5 });
  t.same(two.hosts.map((h) => [h.name, h.containers.length]), [['h1', 5], ['h2', 1]], 'clients live on the host without the server');
  t.same(two.clients.map((c) => [c.pair, c.source.name, c.source.host, c.sink.name, c.sink.host, c.port]), [
    ['c0', 'src0', 'h1', 'snk0', 'h2', BASE_PORT + 1],
    ['c1', 'cli0', 'h1', 'snk0', 'h2', BASE_PORT + 2],
    ['c2', 'cli1', 'h1', 'snk0', 'h2', BASE_PORT + 3],
    ['c3', 'cli2', 'h1', 'snk0', 'h2', BASE_PORT + 4],
    ['c4', 'cli3', 'h1', 'snk0', 'h2', BASE_PORT + 5],
  ]);
  t.equal(new Set(two.clients.map((c) => c.source.address)).size, 5, 'five distinct client addresses');
  t.same(clientPairs(two, 2).map((c) => c.pair), ['c0', 'c1'], 'a smaller clients value runs the first clients');
  t.throws(() => clientPairs(two, 6), /6 clients asked, the cell was placed with 5/);
  t.same(deniedSample(two).map((d) => d.label), ['cli0->src0'], 'a client must not reach a container that is not the server');
  const allow = buildHostStates({ cell: cell(0, { containers: 2, filter: 'iptables' }), placement: two, underlay: new Map([['h1', '10.0.0.1'], ['h2', '10.0.0.2']]), secrets: new Map() }).get('h1')!.filter!.allow;
  t.equal(allow.length, 1 + 5, 'the allow-list holds the pair and every client -> server pair');
  t.ok(two.clients.every((c) => allow.some((a) => a.src === c.source.address && a.dst === c.sink.address)));

  const one = placeCell(cell(0, { containers: 4, placement: 'single-host' }), ['h1', 'h2'], { clients: 4 });
  t.same(one.clients.map((c) => c.source.name), ['src0', 'src1', 'snk1', 'cli0'], 'single-host: every other container, then extra ones');
  t.ok(one.clients.every((c) => c.sink.name === 'snk0' && c.sink.host === 'h1'));
  t.notOk(deniedSample(one).some((d) => d.to.name === 'snk0' && one.clients.some((c) => c.source.name === d.from.name)), 'no client -> server pair is sampled as denied');

  const big = placeCell(cell(0, { containers: 1000 }), ['h1', 'h2'], { clients: 1000 });
  t.same(big.hosts.map((h) => [h.name, h.containers.length, h.containerCidr]), [['h1', 1000, '198.18.4.0/22'], ['h2', 500, '198.18.8.0/22']], '500 sources and 500 extra clients on h1: /22s');
  t.equal(big.clients.at(-1)!.port, BASE_PORT + 1000);
  t.same(placeCell(cell(0, { containers: 8 })).clients, [], 'no clients-scale: no clients');
  t.throws(() => placeCell(cell(0, { containers: 2 }), ['h1', 'h2'], { clients: 1025 }), /workloads.clients-scale.clients: 1025/);
  t.equal(cellClients([{ kind: 'iperf3', params: {} }, { kind: 'clients-scale', params: { clients: '50' } }, { kind: 'clients-scale', params: { clients: '200' } }]), 200, 'the cell holds the largest clients value');
});

t.test('apply hands the event loop back while it sends a many-host cell its requests', async (t) => {
  // Each request costs 3 ms of synchronous work here (serializing, HTTP/2 framing); 32 hosts
  // are ~96 ms, more than the pacer's slice, so a turn of the event loop comes between them.
  const hosts = Array.from({ length: 32 }, (_, i) => `h${i + 1}`);
  const c = cell(0, { containers: 64, hosts });
  const order: string[] = [];
  const configurator = new Configurator({
    secrets: async () => new Map(),
    agent: (host) => ({
      apply: async () => {
        const until = performance.now() + 3;
        while (performance.now() < until);
        order.push(host);
        return { changed: true, timings: [], tunnelVariant: '', filterVariant: '', mtu: 1500, tunnelVersion: '', filterVersion: '' };
      },
    }) as unknown as AgentLink,
  });
  // A mark on every turn of the event loop.
  let marking = true;
  const mark = (): void => {
    order.push('turn');
    if (marking) setImmediate(mark);
  };
  setImmediate(mark);
  const out = await configurator.apply('snpace', c, placeCell(c), new Map(hosts.map((h, i) => [h, `198.18.0.${i + 1}`])));
  marking = false;
  t.equal(out.perHost.size, 32, 'every host applied');
  t.same(order.filter((x) => x !== 'turn').sort(), [...hosts].sort(), 'each host got one request');
  const first = order.findIndex((x) => x !== 'turn');
  const last = order.findLastIndex((x) => x !== 'turn');
  const turns = order.slice(first, last).filter((x) => x === 'turn').length;
  t.ok(turns > 0, `the event loop turned between requests (${turns} times)`);
});
