// The TypeBox schemas of every REST route: they validate requests, shape responses and are the
// only source of the OpenAPI document (@fastify/swagger reads them). The experiment spec itself
// is validated by the controller (parseSpec), not here, so a spec has exactly one validator and
// one set of error messages whether it arrives over REST or from the CLI.

import { Type, type Static } from 'typebox';

/** Experiment ids: what the controller generates, and nothing a path or a shell could misread. */
export const ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$';

export const ErrorBody = Type.Object(
  {
    code: Type.String({ description: 'A code from the error registry (docs/errors.md).' }),
    message: Type.String(),
    field: Type.Optional(Type.String({ description: 'JSON path of the field at fault, when one is.' })),
  },
  { description: 'Every error answer has this shape.' },
);
export type ErrorBodyT = Static<typeof ErrorBody>;

export const IdParams = Type.Object({ id: Type.String({ pattern: ID_PATTERN, description: 'Experiment id.' }) });

export const SubmitQuery = Type.Object({
  dryRun: Type.Optional(Type.Union([Type.Literal('true'), Type.Literal('false')], { description: 'true: answer the plan, store and queue nothing.' })),
});

export const ResultsQuery = Type.Object({
  format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('csv')], { default: 'json' })),
});

export const EventsQuery = Type.Object({
  after: Type.Optional(Type.String({ pattern: '^[0-9]{1,15}$', description: 'Resume after this event id (the Last-Event-ID header wins).' })),
});

export const EventsHeaders = Type.Object({
  'last-event-id': Type.Optional(Type.String({ pattern: '^[0-9]{1,15}$' })),
});

export const SpecBody = Type.Unknown({
  description:
    'The experiment spec as JSON, or as YAML with content-type application/yaml or text/yaml. ' +
    'Its schema is components.schemas.ExperimentSpec when the controller publishes one; see docs/spec.md.',
});

export const Accepted = Type.Object({ id: Type.String() });

const Progress = Type.Object({
  runsDone: Type.Integer(),
  runsFailed: Type.Integer(),
  runsTotal: Type.Integer(),
});

const ExperimentStateT = Type.Union([Type.Literal('queued'), Type.Literal('running'), Type.Literal('paused'), Type.Literal('succeeded'), Type.Literal('failed'), Type.Literal('cancelled')]);

export const Experiment = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    state: ExperimentStateT,
    progress: Progress,
    hosts: Type.Array(Type.String()),
    createdAt: Type.String({ format: 'date-time' }),
    startedAt: Type.Optional(Type.String({ format: 'date-time' })),
    finishedAt: Type.Optional(Type.String({ format: 'date-time' })),
    error: Type.Optional(Type.String()),
    current: Type.Optional(Type.Object({ cell: Type.String(), workload: Type.String(), repetition: Type.Integer() })),
  },
);

const CellCoordinates = {
  network: Type.String(),
  tunnel: Type.String(),
  filter: Type.String(),
  containers: Type.Integer(),
  rules: Type.Integer(),
  placement: Type.String(),
  hosts: Type.Array(Type.String()),
  recipe: Type.Optional(Type.String({ description: 'the CNI recipe the cell comes from (matrix.recipe, docs/recipes.md)' })),
  ruleMatch: Type.Optional(Type.String({ description: '"port" when the extra rules differ by destination port range (matrix.ruleMatch)' })),
};

export const Plan = Type.Object({
  cells: Type.Array(Type.Object({ id: Type.String(), index: Type.Integer(), ...CellCoordinates, pathMtu: Type.Optional(Type.Integer({ description: 'container (path) MTU the cell runs with, from the agents\' underlay MTU and the tunnel overhead' })) })),
  runs: Type.Array(Type.Object({ id: Type.String(), cell: Type.String(), workload: Type.String(), repetition: Type.Integer(), order: Type.Integer() })),
  runsTotal: Type.Integer(),
  skipped: Type.Array(Type.Object({ cell: Type.Object(CellCoordinates), reason: Type.String(), workload: Type.Optional(Type.String({ description: 'set when only this workload of a measured cell is skipped' })) })),
  estimatedSeconds: Type.Number(),
  notes: Type.Optional(Type.Array(Type.String())),
});

export type ExperimentT = Static<typeof Experiment>;

export const Agent = Type.Object({
  name: Type.String(),
  address: Type.String(),
  healthy: Type.Boolean(),
  lastSeen: Type.Optional(Type.String()),
  error: Type.Optional(Type.String()),
  kernel: Type.Optional(Type.String()),
  agentVersion: Type.Optional(Type.String()),
  capabilities: Type.Array(
    Type.Object({ category: Type.String(), kind: Type.String(), variant: Type.String(), available: Type.Boolean(), version: Type.String(), reason: Type.String(),
      undetermined: Type.Boolean({ description: 'not available as far as the probe got, but the probe met a failure that may pass (a timeout): not the kernel\'s answer; the agent probes again, and cells that need it are planned (their Apply gives the answer)' }) }),
  ),
});

export type AgentT = Static<typeof Agent>;

export const ResultRowT = Type.Object(
  {
    experiment: Type.String(),
    cell: Type.String(),
    run: Type.String(),
    repetition: Type.Integer(),
    workload: Type.String(),
    workload_kind: Type.String(),
    engine: Type.String(),
    payload: Type.Number(),
    protocol: Type.String(),
    network: Type.String(),
    tunnel: Type.String(),
    tunnel_variant: Type.String(),
    filter: Type.String(),
    filter_variant: Type.String(),
    rules: Type.Integer(),
    containers: Type.Integer(),
    placement: Type.String(),
    pair: Type.String(),
    flow: Type.String(),
    metric: Type.String(),
    value: Type.Number(),
    unit: Type.String(),
    validity: Type.String({ description: 'Validity flags of the run, ";"-separated ("" when none): cpu-bound, noisy, testbed-heavy (docs/report.md).' }),
    recipe: Type.String({ description: 'The CNI recipe of the cell (matrix.recipe, docs/recipes.md); "" for cells named by their building blocks.' }),
    rule_match: Type.String({ description: 'How the cell\'s extra rules differ from the allowed flow (matrix.ruleMatch): address or port.' }),
    host_kind: Type.String({ description: 'Kind of the experiment\'s hosts: netns-lab, vm-kvm, vm-tcg (software emulation: functional figures only) or remote; "+"-joined when they differ.' }),
    kernel_release: Type.String({ description: 'Kernel release of the experiment\'s hosts (uname -r), "+"-joined when they differ.' }),
  },
  { description: 'One row per run x pair x metric (long format).' },
);

export const Health = Type.Object({ status: Type.Literal('ok') });
