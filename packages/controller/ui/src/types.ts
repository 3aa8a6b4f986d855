// Response shapes, taken from the controller's own schemas and service types (type-only imports:
// nothing of the server is bundled).

import type { Static } from 'typebox';
import type { Agent, Experiment, Plan } from '../../src/api/schemas.js';
export type { CellStatus, HostMetricsSample, RunStatus } from '../../src/service.js';

export type ExperimentT = Static<typeof Experiment>;
export type AgentT = Static<typeof Agent>;
export type PlanT = Static<typeof Plan>;
