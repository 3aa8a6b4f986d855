// The tunnel secrets contract between the controller and the agent: for every tunnel kind the
// controller's real secret generation and host-state builder produce an Apply request, which is
// encoded and decoded with the agent's own proto loader (the wire format) and must pass the
// agent's real request validation. A format the controller sends and the agent refuses (an
// OpenVPN static key file checked as hex) fails here, not at 3 a.m. on every OpenVPN cell.
import t from 'tap';
import * as protoLoader from '@grpc/proto-loader';
import { TUNNEL_KINDS, type Cell } from '@seconet/core';
import { buildHostStates, generatedSecrets, placeCell } from '../packages/controller/src/index.js';
import { LOADER_OPTIONS, PROTO_DIR, PROTO_FILE } from '../packages/agent/src/server/proto.js';
import { validateApply, type Registries } from '../packages/agent/src/reconciler/validate.js';
import { TUNNEL_DRIVERS } from '../packages/agent/src/tunnels/index.js';
import { NETWORK_DRIVERS } from '../packages/agent/src/solutions/index.js';
import { FILTER_DRIVERS } from '../packages/agent/src/filters/index.js';
import type { ApplyRequest__Output } from '../packages/agent/src/gen/seconet/agent/v1/ApplyRequest.js';

const def = protoLoader.loadSync(PROTO_FILE, { ...LOADER_OPTIONS, includeDirs: [PROTO_DIR] });
const apply = (def['seconet.agent.v1.AgentService'] as protoLoader.ServiceDefinition)['Apply']!;
const reg: Registries = { network: NETWORK_DRIVERS, tunnel: TUNNEL_DRIVERS, filter: FILTER_DRIVERS };

function cell(tunnel: Cell['tunnel']): Cell {
  return { id: 'c1', index: 0, network: 'bridge', tunnel, filter: 'iptables', containers: 2, rules: 0, placement: 'multi-host', hosts: ['h1', 'h2'] };
}

/** What the agent's server sees: the controller's message through the proto encoding. */
function overTheWire(msg: object): ApplyRequest__Output {
  return apply.requestDeserialize(apply.requestSerialize(msg)) as ApplyRequest__Output;
}

t.test('every tunnel kind: the controller\'s secrets pass the agent\'s request validation', async (t) => {
  const underlay = new Map([['h1', '198.18.0.1'], ['h2', '198.18.0.2']]);
  for (const kind of TUNNEL_KINDS) {
    t.ok(TUNNEL_DRIVERS.has(kind), `the agent has a ${kind} driver`);
    const c = cell(kind);
    const placement = placeCell(c);
    const secrets = await generatedSecrets(kind, placement.hosts.map((h) => h.name));
    const states = buildHostStates({ cell: c, placement, underlay, secrets });
    t.equal(states.size, 2, `${kind}: a state per host`);
    for (const [host, state] of states) {
      const req = overTheWire({ requestId: `contract-${kind}-${host}`, scope: `contract-${kind}`, state });
      let error: unknown;
      try {
        const v = validateApply(req, reg);
        t.equal(v.tunnel?.kind ?? 'none', kind, `${kind} on ${host}: validated`);
      } catch (e) {
        error = e;
      }
      t.equal(error, undefined, `${kind} on ${host}: ${(error as Error | undefined)?.message ?? 'accepted'}`);
    }
  }
});

t.test('the OpenVPN key is refused in any other format, naming the field and the format', async (t) => {
  const c = cell('openvpn');
  const placement = placeCell(c);
  const underlay = new Map([['h1', '198.18.0.1'], ['h2', '198.18.0.2']]);
  const good = await generatedSecrets('openvpn', ['h1', 'h2']);
  const hex = new Map([...good].map(([h, s]) => [h, { ...s, preSharedKey: 'ab'.repeat(32) }]));
  const state = buildHostStates({ cell: c, placement, underlay, secrets: hex }).get('h1')!;
  t.throws(() => validateApply(overTheWire({ requestId: 'r1', scope: 'contract-openvpn', state }), reg), { code: 'INVALID_ARGUMENT', field: 'state.tunnel.secrets.preSharedKey', message: /OpenVPN Static key V1/ });
  const ipsec = await generatedSecrets('ipsec', ['h1', 'h2']);
  const ipsecState = buildHostStates({ cell: cell('ipsec'), placement: placeCell(cell('ipsec')), underlay, secrets: new Map([...ipsec].map(([h, s]) => [h, { ...s, preSharedKey: good.get(h)!.preSharedKey }])) }).get('h1')!;
  t.throws(() => validateApply(overTheWire({ requestId: 'r2', scope: 'contract-ipsec', state: ipsecState }), reg), { code: 'INVALID_ARGUMENT', field: 'state.tunnel.secrets.preSharedKey', message: /hex/ });
});
