// Matrix expansion: a normalized spec -> cells, run keys, skipped cells and a duration
// estimate, in the paper's order (Fig. 3) so hosts are reconfigured as rarely as possible:
//   network setup (network x tunnel x filter) > (containers, rules) > workload instance > repetition.
// Repetitions are dynamic: only 1..min are planned up front; the engine asks
// nextRepetition() for one more while decide() (stats/) says the interval is too wide.
// `order` is a sort key with room for those: each (cell, workload) group owns `slot` consecutive
// values (slot = the largest repetition count it can reach), so an added repetition sorts right
// after its predecessors and before the next group, and ids never depend on how many were added.
// Ids are hashes of the experiment id and the coordinates (names.ts shortHash), so expanding the
// same spec twice gives the same ids, and a run written twice is the same row.
// randomizeOrder shuffles (seeded) within each level only: the order of setups, of cells within
// a setup and of workloads within a cell. That spreads slow drift over the matrix without a single
// extra reconfiguration.

import { mulberry32 } from '../random.js';
import { SeconetError } from '../errors.js';
import type { Cell, Engine, NetworkSetup, RunKey, SkippedCell, WorkloadInstance } from '../model.js';
import { shortHash } from '../names.js';
import { capabilityReason, chooseEngine, engineReason, l7WorkloadReason, staticReason, type CapabilityMap, type CellCoordinates } from './feasibility.js';
import type { ExperimentSpec } from './parse.js';
import { WORKLOAD_RULES, workloadInstances, type WorkloadEntry } from './workloads.js';
import { expectedVariant, fitPayload, pathMtu } from './path-mtu.js';
import { RECIPES, isRecipeName, recipeDefinition } from './recipes.js';

export interface ExpandContext {
  readonly experimentId: string;
  /** The hosts the experiment may use (spec.hosts, or the lab's). */
  readonly hosts: readonly string[];
  /** GetInfo capabilities per host; without them only the static rules apply. */
  readonly capabilities?: CapabilityMap;
  /** Underlay MTU per host (GetInfo); with it every cell gets its path MTU and payloads are fitted to it. */
  readonly underlayMtu?: ReadonlyMap<string, number>;
}

export interface Plan {
  readonly cells: Cell[];
  /** Repetitions 1..min of every (cell, workload) not skipped, in run order. */
  readonly runs: RunKey[];
  readonly skipped: SkippedCell[];
  /** With min repetitions everywhere. */
  readonly estimatedSeconds: number;
  /** With max repetitions everywhere. */
  readonly estimatedMaxSeconds: number;
  /** The workload instances per cell id, in the cell's run order (engines resolved). */
  readonly workloads: ReadonlyMap<string, readonly WorkloadInstance[]>;
}

/** Rough seconds to apply (and tear down) each building block, from the lab measurements. */
export const SETUP_SECONDS = {
  network: { bridge: 0.3, routing: 0.3, bpf: 1.0, ovs: 3.0 },
  tunnel: { none: 0, vxlan: 0.3, ipip: 0.3, gre: 0.3, geneve: 0.3, wireguard: 1.5, ipsec: 4.0, openvpn: 3.0, tinc: 3.0 },
  filter: { none: 0, iptables: 0.2, nftables: 0.2, ovs: 0.5, bpf: 1.0, 'l7-http': 1.0 },
  perContainer: 0.01,
  perRule: 0.00005,
  perCell: 1,
} as const;

/** Seconds a run takes beyond its traffic: sinks up, barrier, collection (tcp-100: D-ITG closes flows one by one). */
export const RUN_OVERHEAD_SECONDS: Readonly<Record<string, number>> = { 'tcp-100': 100, default: 2 };

/** Pairs one host starts within the plain waits; beyond them, STARTUP_MS_PER_PAIR each. */
export const STARTUP_FREE_PAIRS = 16;
/** Start-up time allowed per pair of one host's call beyond STARTUP_FREE_PAIRS (a tool's fork under load). */
export const STARTUP_MS_PER_PAIR = 200;

/** Extra time to start the tools of `pairs` pairs on one host (the controller's waits and the agent's default deadline). */
export function startupAllowanceForPairs(pairs: number): number {
  return STARTUP_MS_PER_PAIR * Math.max(0, pairs - STARTUP_FREE_PAIRS);
}

function shuffle<T>(xs: readonly T[], rnd: (() => number) | undefined): T[] {
  const out = [...xs];
  if (!rnd) return out;
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

export function cellId(experimentId: string, c: Omit<Cell, 'id' | 'index' | 'hosts'>): string {
  const parts = [experimentId, c.network, c.tunnel, c.filter, String(c.containers), String(c.rules), c.placement];
  if (c.reference !== undefined) parts.push('reference', String(c.reference));
  if (c.recipe !== undefined) parts.push('recipe', c.recipe);
  if (c.ruleMatch !== undefined) parts.push('ruleMatch', c.ruleMatch);
  return `c${shortHash(parts, 11)}`;
}

export function runId(experimentId: string, cell: string, workload: string, repetition: number): string {
  return `r${shortHash([experimentId, cell, workload, String(repetition)], 15)}`;
}

function setupSeconds(s: NetworkSetup): number {
  return SETUP_SECONDS.network[s.network] + SETUP_SECONDS.tunnel[s.tunnel] + SETUP_SECONDS.filter[s.filter];
}

function cellSeconds(c: { containers: number; rules: number }): number {
  return SETUP_SECONDS.perCell + c.containers * SETUP_SECONDS.perContainer + c.rules * SETUP_SECONDS.perRule;
}

function runSeconds(w: WorkloadInstance, cooldown: number): number {
  return w.durationMs / 1000 + (RUN_OVERHEAD_SECONDS[w.kind] ?? RUN_OVERHEAD_SECONDS['default']!) + cooldown;
}

/** Each entry's engine: its own, else the controller's choice from capabilities. */
export function resolveEngines(spec: ExperimentSpec, hosts: readonly string[], capabilities?: CapabilityMap): ExperimentSpec {
  return { ...spec, workloads: spec.workloads.map((w) => ({ ...w, engine: entryEngine(w, hosts, capabilities) })) };
}

function entryEngine(w: WorkloadEntry, hosts: readonly string[], capabilities: CapabilityMap | undefined): Engine {
  return chooseEngine(w.kind, w.engine, WORKLOAD_RULES[w.kind].engines, hosts, capabilities);
}

/** Largest repetition count a (cell, workload) group can reach: the width of its order slot. */
export function orderSlot(spec: ExperimentSpec): number {
  return Math.max(spec.repetitions.max, spec.options.referenceCell?.repetitions ?? 0);
}

/** Expands a normalized spec (parseSpec output). Deterministic for the same inputs. */
export function expandMatrix(spec: ExperimentSpec, ctx: ExpandContext): Plan {
  const hosts = spec.hosts ?? ctx.hosts;
  const caps = ctx.capabilities;
  const rnd = spec.options.randomizeOrder ? mulberry32(spec.seed) : undefined;
  const slot = orderSlot(spec);
  const cellHosts = spec.placement === 'single-host' ? hosts.slice(0, 1) : [...hosts];

  const instances: WorkloadInstance[] = [];
  for (const w of spec.workloads) instances.push(...workloadInstances(w, entryEngine(w, hosts, caps), spec.seed));

  const setups: Array<NetworkSetup & { recipe?: string }> = [];
  if (spec.matrix.recipe !== undefined) {
    for (const name of spec.matrix.recipe) {
      const r = RECIPES[name];
      setups.push({ network: r.network, tunnel: r.tunnel, filter: r.filter, recipe: name });
    }
  } else {
    for (const network of spec.matrix.network) for (const tunnel of spec.matrix.tunnel) for (const filter of spec.matrix.filter) setups.push({ network, tunnel, filter });
  }
  const sizes: Array<{ containers: number; rules: number; ruleMatch?: 'port' }> = [];
  for (const containers of spec.matrix.containers) {
    for (const rules of spec.matrix.rules) {
      // Without extra rules both matches are the same policy (the allow rules alone): one cell.
      if (rules === 0) sizes.push({ containers, rules });
      // A spec stored before rule matches existed has none: address, as it ran then.
      else for (const m of spec.matrix.ruleMatch ?? ['address']) sizes.push(m === 'port' ? { containers, rules, ruleMatch: 'port' } : { containers, rules });
    }
  }

  const cells: Cell[] = [];
  const runs: RunKey[] = [];
  const skipped: SkippedCell[] = [];
  const workloads = new Map<string, WorkloadInstance[]>();
  let groups = 0;
  let est = 0;
  let estMax = 0;
  const engineWhy = new Map<string, string | undefined>();

  const place = (coords: CellCoordinates, reference: number | undefined, reps: number, fixed: boolean): boolean => {
    const blocked = staticReason(coords, hosts.length) ?? (caps ? capabilityReason(coords, caps) : undefined);
    const why = blocked !== undefined && coords.recipe !== undefined && isRecipeName(coords.recipe) ? `recipe ${coords.recipe} (${recipeDefinition(RECIPES[coords.recipe])}): ${blocked}` : blocked;
    if (why !== undefined) {
      skipped.push({ cell: reference === undefined ? coords : { ...coords, reference }, reason: reference === undefined ? why : `reference cell: ${why}` });
      return false;
    }
    const base = reference === undefined ? coords : { ...coords, reference };
    const id = cellId(ctx.experimentId, base);
    const mtu = ctx.underlayMtu ? pathMtu(coords.tunnel, expectedVariant(coords.tunnel, coords.hosts, caps), coords.hosts.map((h) => ctx.underlayMtu!.get(h))) : undefined;
    const cell: Cell = mtu === undefined ? { ...base, id, index: cells.length } : { ...base, id, index: cells.length, pathMtu: mtu };
    cells.push(cell);
    const ordered: WorkloadInstance[] = [];
    for (const w of shuffle(instances, rnd)) {
      const key = `${w.kind}\u0000${w.engine}`;
      if (!engineWhy.has(key)) engineWhy.set(key, engineReason(w.kind, w.engine, coords.hosts, caps));
      const ew = engineWhy.get(key) ?? l7WorkloadReason(coords.filter, w.kind);
      if (ew !== undefined) {
        skipped.push({ cell: coords, reason: ew, workload: w.id, cellId: id });
        continue;
      }
      const fit = fitPayload(w, mtu);
      if (fit.kind === 'refused') {
        skipped.push({ cell: coords, reason: fit.reason, workload: w.id, cellId: id });
        continue;
      }
      ordered.push(w);
      for (let rep = 1; rep <= reps; rep++) {
        runs.push({ id: runId(ctx.experimentId, id, w.id, rep), experiment: ctx.experimentId, cell: id, workload: w, repetition: rep, order: groups * slot + rep - 1 });
      }
      groups++;
      const one = runSeconds(w, spec.options.cooldown);
      est += one * reps;
      estMax += one * (fixed ? reps : spec.repetitions.max);
    }
    workloads.set(id, ordered);
    const setup = cellSeconds(coords);
    est += setup;
    estMax += setup;
    return true;
  };

  const ref = spec.options.referenceCell;
  let refCount = 0;
  const drift = (): void => {
    if (!ref) return;
    const coords: CellCoordinates = { network: ref.network, tunnel: ref.tunnel, filter: ref.filter, containers: ref.containers, rules: ref.rules, placement: spec.placement, hosts: cellHosts };
    if (place(coords, refCount, ref.repetitions, true)) {
      est += setupSeconds(ref);
      estMax += setupSeconds(ref);
    }
    refCount++;
  };

  drift();
  shuffle(setups, rnd).forEach((setup, k) => {
    let any = false;
    for (const size of shuffle(sizes, rnd)) {
      const coords: CellCoordinates = { ...setup, ...size, placement: spec.placement, hosts: cellHosts };
      if (place(coords, undefined, spec.repetitions.min, false)) any = true;
    }
    if (any) {
      est += setupSeconds(setup);
      estMax += setupSeconds(setup);
    }
    if (ref && (k + 1) % ref.every === 0) drift();
  });

  return { cells, runs, skipped, estimatedSeconds: Math.round(est), estimatedMaxSeconds: Math.round(estMax), workloads };
}

/**
 * The run that follows `run` in its group when decide() asks for more, or undefined when the
 * group reached repetitions.max (drift checks of the reference cell have a fixed count).
 */
export function nextRepetition(spec: ExperimentSpec, run: RunKey, cell?: Pick<Cell, 'reference'>): RunKey | undefined {
  if (cell?.reference !== undefined) return undefined;
  if (run.repetition >= spec.repetitions.max) return undefined;
  const repetition = run.repetition + 1;
  return { ...run, id: runId(run.experiment, run.cell, run.workload.id, repetition), repetition, order: run.order + 1 };
}

/** Throws UNSUPPORTED when nothing in the plan can run, listing why (for submit; dry runs show the plan). */
export function assertRunnable(plan: Pick<Plan, 'runs' | 'skipped'>): void {
  if (plan.runs.length > 0) return;
  const reasons = [...new Set(plan.skipped.map((s) => s.reason))];
  throw new SeconetError('UNSUPPORTED', `no cell of the matrix can run: ${reasons.slice(0, 5).join(' | ')}${reasons.length > 5 ? ` (and ${reasons.length - 5} more)` : ''}`, {
    field: 'matrix',
    details: { skipped: plan.skipped.length },
  });
}
