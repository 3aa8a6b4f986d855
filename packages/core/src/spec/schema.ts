// The experiment spec's one schema (DESIGN.md "Surfaces"), used by the REST API's route
// schemas, the OpenAPI document, the CLI and docs/spec.md. It describes what a user may
// write: shorthands included (a workload as a bare name or as `{name: params}`, a scalar
// where a list is allowed). parse.ts turns an accepted document into the normalized
// ExperimentSpec, which is itself valid against this schema, so parsing is idempotent.

import { Type, type Static } from 'typebox';
import { FILTER_KINDS, NETWORK_KINDS, TUNNEL_KINDS, WORKLOAD_KINDS } from '../model.js';
import { RECIPE_NAMES } from './recipes.js';
import { BITRATE_PATTERN } from './workloads.js';

export const LIMITS = {
  containersMin: 2,
  containersMax: 1024,
  rulesMax: 100_000,
  repetitionsMax: 100,
  totalRunsMax: 100_000,
  payloadMin: 16,
  payloadMax: 8972,
  durationMin: 0.5,
  durationMax: 3600,
  clientsMax: 1024,
  workloadsMax: 32,
  axisMax: 64,
  hostsMax: 64,
  concurrencyMax: 10_000,
} as const;

export const PLACEMENTS = ['single-host', 'multi-host'] as const;
export const STATISTICS = ['median', 'mean'] as const;
export const RULE_MATCHES = ['address', 'port'] as const;
export const WORKLOAD_PROTOCOLS = ['tcp', 'udp', 'icmp'] as const;
export const WORKLOAD_ENGINES = ['ping', 'uperf', 'iperf3', 'ditg', 'sockperf', 'wrk'] as const;

const NAME_PATTERN = '^[a-z0-9][a-z0-9-]{0,62}$';

function list<T extends Parameters<typeof Type.Array>[0]>(item: T, description: string, maxItems: number = LIMITS.axisMax) {
  return Type.Array(item, { minItems: 1, maxItems, uniqueItems: true, description });
}

function scalarOrList<T extends Parameters<typeof Type.Array>[0]>(item: T, description: string) {
  return Type.Union([item, list(item, description, LIMITS.axisMax)], { description });
}

const Protocol = Type.Enum(WORKLOAD_PROTOCOLS);
const Payload = Type.Integer({ minimum: LIMITS.payloadMin, maximum: LIMITS.payloadMax });
const Clients = Type.Integer({ minimum: 1, maximum: LIMITS.clientsMax });

/** Parameters a workload entry may carry; which ones apply depends on the kind (workloads.ts). */
export const WorkloadParamsProperties = {
  duration: Type.Optional(Type.Number({ minimum: LIMITS.durationMin, maximum: LIMITS.durationMax, description: 'Traffic time per run, seconds.' })),
  protocol: Type.Optional(scalarOrList(Protocol, 'Transport protocol(s); a list expands into one workload instance per protocol.')),
  payload: Type.Optional(scalarOrList(Payload, 'Bytes per message; a list expands into one workload instance per payload.')),
  engine: Type.Optional(Type.Enum(WORKLOAD_ENGINES, { description: 'Tool that generates the traffic. For throughput workloads: uperf or iperf3, chosen explicitly; absent = the controller decides from agent capabilities.' })),
  count: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000, description: 'Echo requests per run (latency-basic).' })),
  interval: Type.Optional(Type.Number({ minimum: 0.002, maximum: 60, description: 'Seconds between echo requests (latency-basic).' })),
  clients: Type.Optional(scalarOrList(Clients, 'Concurrent clients against one server (clients-scale); a list expands.')),
  parallel: Type.Optional(Type.Integer({ minimum: 1, maximum: 128, description: 'Parallel streams per pair (throughput-basic, iperf3).' })),
  bitrate: Type.Optional(Type.String({ pattern: BITRATE_PATTERN, description: 'Target rate per stream, iperf3 (-b): 500K, 10M, 1.5G; 0 = unlimited. Absent: TCP unlimited (saturate the path), UDP unlimited. Runs on iperf3 (chosen when no engine is given; uperf is refused).' })),
  seed: Type.Optional(Type.Integer({ minimum: 0, maximum: 4_294_967_295, description: 'Seed for generated traffic (video); defaults to the spec seed.' })),
  concurrency: Type.Optional(Type.Integer({ minimum: 1, maximum: LIMITS.concurrencyMax, description: 'Open HTTP connections of the load generator per pair (http); default 100.' })),
  keepalive: Type.Optional(Type.Boolean({ description: 'Reuse connections across requests (http; default true). false: a new TCP connection per request, the TCP_CRR-style measure.' })),
};

export const WorkloadParamsSchema = Type.Object(WorkloadParamsProperties, { additionalProperties: false });

/** The long form: `{kind: throughput-basic, payload: [64, 653]}`; also what parseSpec returns. */
export const WorkloadLongSchema = Type.Object(
  { kind: Type.Enum(WORKLOAD_KINDS, { description: 'Workload kind.' }), ...WorkloadParamsProperties },
  { additionalProperties: false },
);

const shorthandProps: Record<string, ReturnType<typeof Type.Optional>> = {};
for (const k of WORKLOAD_KINDS) shorthandProps[k] = Type.Optional(Type.Union([WorkloadParamsSchema, Type.Null()]));

/** The shorthand `{throughput-basic: {payload: [64, 653]}}`: exactly one key, a workload kind. */
export const WorkloadShorthandSchema = Type.Object(shorthandProps, { minProperties: 1, maxProperties: 1, additionalProperties: false });

export const WorkloadEntrySchema = Type.Union([Type.Enum(WORKLOAD_KINDS), WorkloadLongSchema, WorkloadShorthandSchema], {
  description: 'A workload: its name, `{name: {params}}`, or `{kind: name, ...params}`.',
});

const CellCoordinates = {
  network: Type.Enum(NETWORK_KINDS),
  tunnel: Type.Enum(TUNNEL_KINDS),
  filter: Type.Enum(FILTER_KINDS),
  containers: Type.Integer({ minimum: LIMITS.containersMin, maximum: LIMITS.containersMax, multipleOf: 2 }),
  rules: Type.Integer({ minimum: 0, maximum: LIMITS.rulesMax }),
};

export const MatrixSchema = Type.Object(
  {
    recipe: Type.Optional(list(Type.Enum(RECIPE_NAMES), 'CNI recipes (docs/recipes.md): each is one network setup (network, tunnel, filter, tunnel parameters) mirroring that CNI\'s datapath. With recipes the setups are the recipes; network, tunnel and filter may be left out or must agree with them.')),
    network: Type.Optional(list(Type.Enum(NETWORK_KINDS), 'Network solutions joining containers on a host.')),
    tunnel: Type.Optional(list(Type.Enum(TUNNEL_KINDS), 'Tunnels joining hosts; anything but none needs multi-host placement.')),
    filter: Type.Optional(list(Type.Enum(FILTER_KINDS), 'Packet filters isolating pairs.')),
    rules: Type.Optional(list(CellCoordinates.rules, 'Extra non-matching filter rules before the allow rule.')),
    ruleMatch: Type.Optional(list(Type.Enum(RULE_MATCHES), 'How the extra rules differ from the allowed flow: address (never-assigned pairs) or port (the allowed pairs on destination port ranges the traffic never uses, so the allowed flow matches only the last rule).')),
    containers: Type.Optional(list(CellCoordinates.containers, 'Total containers (even); containers/2 source-sink pairs.')),
  },
  { additionalProperties: false, description: 'Cross product of these lists gives the cells.' },
);

export const RepetitionsSchema = Type.Object(
  {
    min: Type.Optional(Type.Integer({ minimum: 1, maximum: LIMITS.repetitionsMax, description: 'Repetitions always run.' })),
    max: Type.Optional(Type.Integer({ minimum: 1, maximum: LIMITS.repetitionsMax, description: 'Upper bound when the interval stays wide.' })),
    ciRelWidth: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1, description: 'Stop when the confidence interval half-width / center is at most this.' })),
    statistic: Type.Optional(Type.Enum(STATISTICS, { description: 'Center and interval: mean (t interval) or median (order-statistic interval).' })),
    confidence: Type.Optional(Type.Number({ minimum: 0.5, maximum: 0.999, description: 'Confidence level of the interval.' })),
  },
  { additionalProperties: false },
);

export const ReferenceCellSchema = Type.Object(
  {
    network: CellCoordinates.network,
    tunnel: CellCoordinates.tunnel,
    filter: CellCoordinates.filter,
    containers: Type.Optional(CellCoordinates.containers),
    rules: Type.Optional(CellCoordinates.rules),
    every: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'Re-measure after every N network setups.' })),
    repetitions: Type.Optional(Type.Integer({ minimum: 1, maximum: LIMITS.repetitionsMax, description: 'Fixed repetitions per drift check.' })),
  },
  { additionalProperties: false, description: 'A cell re-measured through the sweep to detect drift.' },
);

export const OptionsSchema = Type.Object(
  {
    randomizeOrder: Type.Optional(Type.Boolean({ description: 'Shuffle (seeded) the order of network setups, of cells within a setup and of workloads within a cell.' })),
    referenceCell: Type.Optional(ReferenceCellSchema),
    retries: Type.Optional(Type.Integer({ minimum: 0, maximum: 10, description: 'Attempts after a failed run before it counts as failed.' })),
    cooldown: Type.Optional(Type.Number({ minimum: 0, maximum: 600, description: 'Idle seconds between runs.' })),
  },
  { additionalProperties: false },
);

export const ExperimentSpecSchema = Type.Object(
  {
    name: Type.String({ pattern: NAME_PATTERN, description: 'Experiment name: lowercase letters, digits, dashes.' }),
    description: Type.Optional(Type.String({ maxLength: 2000 })),
    hosts: Type.Optional(list(Type.String({ pattern: NAME_PATTERN }), 'Agent names; default: every host of the lab.', LIMITS.hostsMax)),
    placement: Type.Optional(Type.Enum(PLACEMENTS, { description: 'single-host: every pair on one host; multi-host: source and sink on different hosts.' })),
    matrix: Type.Optional(MatrixSchema),
    workloads: Type.Array(WorkloadEntrySchema, { minItems: 1, maxItems: LIMITS.workloadsMax }),
    repetitions: Type.Optional(RepetitionsSchema),
    options: Type.Optional(OptionsSchema),
    seed: Type.Optional(Type.Integer({ minimum: 0, maximum: 4_294_967_295, description: 'Seed for order randomization and generated traffic.' })),
  },
  { additionalProperties: false, $id: 'ExperimentSpec', title: 'seconet experiment spec' },
);

/** What a user may write (shorthands allowed). */
export type ExperimentSpecInput = Static<typeof ExperimentSpecSchema>;

/** The JSON Schema document of the spec, for OpenAPI and editors (a plain JSON object). */
export function specJsonSchema(): Record<string, unknown> {
  return JSON.parse(JSON.stringify(ExperimentSpecSchema)) as Record<string, unknown>;
}
