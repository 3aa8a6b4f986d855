// parseSpec: YAML/JSON text (or an already parsed value) -> a validated, normalized
// ExperimentSpec, or one SeconetError('INVALID_SPEC') naming the field and the fix.
// Three passes, each failing on its first problem: syntax (with line and column), the
// schema (explain.ts words the failure), then what a schema cannot say (a parameter that
// does not apply to a workload kind, min > max, duplicate workload instances, the total
// run budget). The result uses only long forms and has every default filled in, and
// parsing it again gives the same value.

import { Value } from 'typebox/value';
import { parseDocument } from 'yaml';
import { SeconetError } from '../errors.js';
import type { Engine, FilterKind, NetworkKind, Placement, TunnelKind, WorkloadKind } from '../model.js';
import { explain, formatPath, show } from './explain.js';
import { ExperimentSpecSchema, LIMITS, } from './schema.js';
import { checkPrototypeKeys, parseJsonStrict } from './strict-json.js';
import { RECIPES, recipeDefinition, type RecipeName } from './recipes.js';
import { DEFAULT_PING_INTERVAL, WORKLOAD_RULES, instanceCount, workloadInstanceId, type WorkloadEntry, type WorkloadParam, type WorkloadProtocol } from './workloads.js';

export type Statistic = 'median' | 'mean';

export interface RepetitionPolicy {
  readonly min: number;
  readonly max: number;
  /** Stop when the interval's half-width divided by the center is at most this. */
  readonly ciRelWidth: number;
  readonly statistic: Statistic;
  readonly confidence: number;
}

export interface ReferenceCell {
  readonly network: NetworkKind;
  readonly tunnel: TunnelKind;
  readonly filter: FilterKind;
  readonly containers: number;
  readonly rules: number;
  readonly every: number;
  readonly repetitions: number;
}

export interface ExperimentSpec {
  readonly name: string;
  readonly description?: string;
  /** Absent: the lab's (or the controller's configured) hosts. */
  readonly hosts?: readonly string[];
  readonly placement: Placement;
  readonly matrix: {
    /** Present when the spec names recipes: then the network setups are exactly these (network, tunnel and filter list their blocks). */
    readonly recipe?: readonly RecipeName[];
    readonly network: readonly NetworkKind[];
    readonly tunnel: readonly TunnelKind[];
    readonly filter: readonly FilterKind[];
    readonly rules: readonly number[];
    readonly containers: readonly number[];
    readonly ruleMatch: ReadonlyArray<'address' | 'port'>;
  };
  readonly workloads: readonly WorkloadEntry[];
  readonly repetitions: RepetitionPolicy;
  readonly options: {
    readonly randomizeOrder: boolean;
    readonly retries: number;
    readonly cooldown: number;
    readonly referenceCell?: ReferenceCell;
  };
  readonly seed: number;
}

export const SPEC_DEFAULTS = {
  placement: 'multi-host' as Placement,
  matrix: { network: ['bridge'], tunnel: ['none'], filter: ['none'], rules: [0], containers: [2], ruleMatch: ['address'] as Array<'address' | 'port'> },
  repetitions: { min: 3, max: 10, ciRelWidth: 0.05, statistic: 'mean' as Statistic, confidence: 0.95 },
  options: { randomizeOrder: false, retries: 2, cooldown: 0 },
  referenceCell: { containers: 2, rules: 0, every: 1, repetitions: 3 },
  seed: 1,
} as const;

const MAX_TEXT = 1024 * 1024;

function fail(path: ReadonlyArray<string | number> | string, message: string, details?: Record<string, unknown>): never {
  const field = typeof path === 'string' ? path : formatPath(path);
  throw new SeconetError('INVALID_SPEC', field === '' ? message : `${field}: ${message}`, details === undefined ? { field } : { field, details });
}

/**
 * The syntax pass alone: YAML (or JSON with `format: 'json'`) text -> the document as written,
 * shorthands and all, or INVALID_SPEC with line and column. For callers that rewrite a spec
 * before submitting it (overrides.ts); parseSpec does the rest.
 */
export function parseSpecDocument(text: string, format?: 'yaml' | 'json'): unknown {
  return parseText(text, format);
}

function parseText(text: string, format: 'yaml' | 'json' | undefined): unknown {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_TEXT) throw new SeconetError('INVALID_SPEC', `the spec is ${bytes} bytes; at most ${MAX_TEXT} are accepted`);
  if (text.trim() === '') throw new SeconetError('INVALID_SPEC', 'the spec is empty; it needs at least `name` and `workloads`');
  if (format === 'json') {
    let value: unknown;
    try {
      value = JSON.parse(text) as unknown;
    } catch (e) {
      const msg = (e as Error).message;
      const pos = /position (\d+)/.exec(msg);
      const line = pos ? text.slice(0, Number(pos[1])).split('\n').length : parseDocument(text).errors[0]?.linePos?.[0].line;
      throw new SeconetError('INVALID_SPEC', `the spec is not valid JSON${line === undefined ? '' : ` (line ${line})`}: ${msg}`, { cause: e, details: { line } });
    }
    parseJsonStrict(text);
    return value;
  }
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  const err = doc.errors[0];
  if (err) {
    const at = err.linePos?.[0];
    const where = at ? `line ${at.line}, column ${at.col}` : 'unknown position';
    const first = (err.message.split('\n')[0] ?? err.message).replace(/ at line \d+, column \d+:?$/, '');
    throw new SeconetError('INVALID_SPEC', `the spec is not valid YAML at ${where}: ${first}`, { cause: err, details: { line: at?.line, column: at?.col } });
  }
  try {
    return doc.toJS({ maxAliasCount: 50 }) as unknown;
  } catch (e) {
    // The yaml library refuses documents whose aliases would expand without bound (a "billion laughs").
    throw new SeconetError('INVALID_SPEC', `the spec's YAML aliases expand too far (${(e as Error).message.split('\n')[0]}); write the repeated parts out or use fewer aliases`, { cause: e });
  }
}

type Raw = Record<string, unknown>;

function asList<T>(v: T | readonly T[] | undefined): T[] | undefined {
  if (v === undefined) return undefined;
  return Array.isArray(v) ? [...(v as T[])] : [v as T];
}

function normalizeWorkload(entry: unknown, i: number, specSeed: number): WorkloadEntry {
  let kind: WorkloadKind;
  let params: Raw;
  if (typeof entry === 'string') {
    kind = entry as WorkloadKind;
    params = {};
  } else {
    const obj = entry as Raw;
    if ('kind' in obj) {
      kind = obj['kind'] as WorkloadKind;
      params = { ...obj };
      delete params['kind'];
    } else {
      const key = Object.keys(obj)[0]!;
      kind = key as WorkloadKind;
      params = (obj[key] ?? {}) as Raw;
    }
  }
  const rule = WORKLOAD_RULES[kind];
  const base: Array<string | number> = ['workloads', i];
  for (const p of Object.keys(params)) {
    if (p !== 'protocol' && p !== 'engine' && !rule.params.includes(p as WorkloadParam)) {
      fail([...base, p], `'${p}' does not apply to ${kind}; it takes: ${rule.params.join(', ')}`);
    }
  }
  const protocol = (asList(params['protocol'] as WorkloadProtocol | WorkloadProtocol[] | undefined) ?? [rule.protocols[0]!]);
  for (const [j, pr] of protocol.entries()) {
    if (!rule.protocols.includes(pr)) fail(Array.isArray(params['protocol']) ? [...base, 'protocol', j] : [...base, 'protocol'], `${kind} runs over ${rule.protocols.join(' or ')}, not ${pr}`);
  }
  const engine = params['engine'] as Engine | undefined;
  if (engine !== undefined && !rule.engines.includes(engine)) {
    fail([...base, 'engine'], `${kind} runs on ${rule.engines.join(' or ')}, not ${engine}`);
  }
  const fixedEngine = rule.engines.length === 1 ? rule.engines[0] : undefined;
  let duration = (params['duration'] as number | undefined) ?? rule.duration;
  let count = params['count'] as number | undefined;
  let interval = params['interval'] as number | undefined;
  if (kind === 'latency-basic') {
    interval ??= DEFAULT_PING_INTERVAL;
    if (count !== undefined && params['duration'] !== undefined) {
      if (Math.abs(count * interval - duration) > 1e-9) fail([...base, 'count'], `give count or duration, not both (count x interval = ${+(count * interval).toFixed(3)} s, duration = ${duration} s)`);
    }
    if (count === undefined) count = Math.max(1, Math.round(duration / interval));
    duration = +(count * interval).toFixed(6);
    if (duration > LIMITS.durationMax) fail([...base, 'count'], `count x interval is ${duration} s; at most ${LIMITS.durationMax} s per run: lower count or interval`);
  }
  const payload = rule.params.includes('payload') ? (asList(params['payload'] as number | number[] | undefined) ?? (rule.payload === undefined ? undefined : [rule.payload])) : undefined;
  const clients = asList(params['clients'] as number | number[] | undefined) ?? (rule.clients === undefined ? undefined : [...rule.clients]);
  const out: { -readonly [K in keyof WorkloadEntry]: WorkloadEntry[K] } = { kind, duration, protocol };
  if (payload !== undefined) out.payload = payload;
  const bitrate = params['bitrate'] as string | undefined;
  if (bitrate !== undefined && engine === 'uperf') fail([...base, 'bitrate'], `bitrate paces iperf3 (-b); uperf has no target rate here: use engine: iperf3, or drop bitrate`);
  // A target rate is iperf3's: without an engine, the entry runs on iperf3 (a host without it skips the workload, with the reason).
  const e = engine ?? fixedEngine ?? (bitrate !== undefined ? 'iperf3' : undefined);
  if (e !== undefined) out.engine = e;
  if (count !== undefined) out.count = count;
  if (interval !== undefined) out.interval = interval;
  if (clients !== undefined) out.clients = clients;
  if (params['parallel'] !== undefined) out.parallel = params['parallel'] as number;
  if (bitrate !== undefined) out.bitrate = bitrate;
  const concurrency = (params['concurrency'] as number | undefined) ?? rule.concurrency;
  if (concurrency !== undefined) out.concurrency = concurrency;
  if (params['keepalive'] !== undefined) out.keepalive = params['keepalive'] as boolean;
  else if (rule.params.includes('keepalive')) out.keepalive = true;
  const seed = params['seed'] as number | undefined;
  if (seed !== undefined) out.seed = seed;
  else if (rule.params.includes('seed')) out.seed = specSeed;
  return out;
}

/**
 * Parses, validates and normalizes an experiment spec. A string is YAML (JSON is YAML too)
 * unless `format: 'json'`; anything else is taken as the parsed document.
 * @throws SeconetError INVALID_SPEC with `field` the path at fault.
 */
export function parseSpec(input: string | unknown, opts: { format?: 'yaml' | 'json' } = {}): ExperimentSpec {
  const doc = typeof input === 'string' ? parseText(input, opts.format) : input;
  checkPrototypeKeys(doc);
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new SeconetError('INVALID_SPEC', `the spec must be a mapping of fields (name, matrix, workloads, ...), not ${show(doc)}`);
  }
  if (!Value.Check(ExperimentSpecSchema, doc)) {
    const problem = explain(ExperimentSpecSchema as unknown as Record<string, unknown>, doc);
    if (problem) fail(problem.path, problem.message);
    const first = [...Value.Errors(ExperimentSpecSchema, doc)][0];
    const path = (first?.instancePath ?? '').split('/').filter((s) => s !== '').map((s) => (/^\d+$/.test(s) ? Number(s) : s));
    fail(path, first?.message ?? 'does not match the spec schema');
  }
  const raw = doc as Raw;
  const seed = (raw['seed'] as number | undefined) ?? SPEC_DEFAULTS.seed;
  const m = (raw['matrix'] ?? {}) as Raw;
  const d = SPEC_DEFAULTS.matrix;
  const recipes = m['recipe'] as RecipeName[] | undefined;
  const matrix: { -readonly [K in keyof ExperimentSpec['matrix']]: ExperimentSpec['matrix'][K] } = recipes === undefined
    ? {
      network: [...((m['network'] as NetworkKind[] | undefined) ?? d.network)] as NetworkKind[],
      tunnel: [...((m['tunnel'] as TunnelKind[] | undefined) ?? d.tunnel)] as TunnelKind[],
      filter: [...((m['filter'] as FilterKind[] | undefined) ?? d.filter)] as FilterKind[],
      rules: [...((m['rules'] as number[] | undefined) ?? d.rules)],
      containers: [...((m['containers'] as number[] | undefined) ?? d.containers)],
      ruleMatch: [...((m['ruleMatch'] as Array<'address' | 'port'> | undefined) ?? d.ruleMatch)],
    }
    : {
      recipe: [...recipes],
      network: recipeBlocks(recipes, 'network', m['network'] as NetworkKind[] | undefined),
      tunnel: recipeBlocks(recipes, 'tunnel', m['tunnel'] as TunnelKind[] | undefined),
      filter: recipeBlocks(recipes, 'filter', m['filter'] as FilterKind[] | undefined),
      rules: [...((m['rules'] as number[] | undefined) ?? d.rules)],
      containers: [...((m['containers'] as number[] | undefined) ?? d.containers)],
      ruleMatch: [...((m['ruleMatch'] as Array<'address' | 'port'> | undefined) ?? d.ruleMatch)],
    };

  const workloads = (raw['workloads'] as unknown[]).map((w, i) => normalizeWorkload(w, i, seed));
  const seen = new Map<string, number>();
  workloads.forEach((w, i) => {
    for (const p of w.protocol) {
      for (const pl of w.payload ?? [undefined]) {
        for (const c of w.clients ?? [undefined]) {
          const id = workloadInstanceId(w.kind, p, pl, c, w.bitrate);
          const first = seen.get(id);
          if (first !== undefined && first !== i) fail(['workloads', i], `workload instance '${id}' is already produced by workloads[${first}]; merge the two entries or change a parameter`);
          seen.set(id, i);
        }
      }
    }
  });

  const r = (raw['repetitions'] ?? {}) as Raw;
  const dr = SPEC_DEFAULTS.repetitions;
  const repetitions: RepetitionPolicy = {
    min: (r['min'] as number | undefined) ?? Math.min(dr.min, (r['max'] as number | undefined) ?? dr.min),
    max: (r['max'] as number | undefined) ?? Math.max(dr.max, (r['min'] as number | undefined) ?? dr.max),
    ciRelWidth: (r['ciRelWidth'] as number | undefined) ?? dr.ciRelWidth,
    statistic: (r['statistic'] as Statistic | undefined) ?? dr.statistic,
    confidence: (r['confidence'] as number | undefined) ?? dr.confidence,
  };
  if (repetitions.min > repetitions.max) fail('repetitions.min', `min (${repetitions.min}) is more than max (${repetitions.max}); raise max or lower min`);

  const o = (raw['options'] ?? {}) as Raw;
  const dopt = SPEC_DEFAULTS.options;
  const options: { -readonly [K in keyof ExperimentSpec['options']]: ExperimentSpec['options'][K] } = {
    randomizeOrder: (o['randomizeOrder'] as boolean | undefined) ?? dopt.randomizeOrder,
    retries: (o['retries'] as number | undefined) ?? dopt.retries,
    cooldown: (o['cooldown'] as number | undefined) ?? dopt.cooldown,
  };
  const rc = o['referenceCell'] as Raw | undefined;
  if (rc) {
    const drc = SPEC_DEFAULTS.referenceCell;
    options.referenceCell = {
      network: rc['network'] as NetworkKind,
      tunnel: rc['tunnel'] as TunnelKind,
      filter: rc['filter'] as FilterKind,
      containers: (rc['containers'] as number | undefined) ?? drc.containers,
      rules: (rc['rules'] as number | undefined) ?? drc.rules,
      every: (rc['every'] as number | undefined) ?? drc.every,
      repetitions: (rc['repetitions'] as number | undefined) ?? Math.min(drc.repetitions, repetitions.max),
    };
  }

  const setups = matrix.recipe?.length ?? matrix.network.length * matrix.tunnel.length * matrix.filter.length;
  const cells = setups * matrix.rules.length * matrix.containers.length * matrix.ruleMatch.length;
  const instances = workloads.reduce((n, w) => n + instanceCount(w), 0);
  const matrixRuns = cells * instances * repetitions.max;
  // Reference cells run too: one before the first setup and one after every `every` setups
  // (expandMatrix's drift()), each with its fixed repetitions.
  const refCells = options.referenceCell === undefined ? 0 : 1 + Math.floor(setups / options.referenceCell.every);
  const refRuns = options.referenceCell === undefined ? 0 : refCells * instances * options.referenceCell.repetitions;
  const total = matrixRuns + refRuns;
  if (total > LIMITS.totalRunsMax) {
    const refText = refRuns === 0 ? '' : ` plus ${refRuns} reference-cell runs (${refCells} reference cells x ${instances} x ${options.referenceCell!.repetitions})`;
    fail(refRuns > 0 && matrixRuns <= LIMITS.totalRunsMax ? 'options.referenceCell' : 'matrix', `the matrix expands to ${total} runs at max repetitions (${cells} cells x ${instances} workload instances x ${repetitions.max})${refText}; the limit is ${LIMITS.totalRunsMax}: shorten a list, split the experiment, lower repetitions.max${refRuns === 0 ? '' : ' or measure the reference cell less often (options.referenceCell.every, .repetitions)'}`, { runs: total });
  }

  const spec: { -readonly [K in keyof ExperimentSpec]: ExperimentSpec[K] } = {
    name: raw['name'] as string,
    placement: (raw['placement'] as Placement | undefined) ?? SPEC_DEFAULTS.placement,
    matrix,
    workloads,
    repetitions,
    options,
    seed,
  };
  if (typeof raw['description'] === 'string') spec.description = raw['description'];
  if (raw['hosts'] !== undefined) spec.hosts = [...(raw['hosts'] as string[])];
  return reorder(spec);
}

/**
 * The blocks of one category the recipes use, in recipe order. An explicit list must name
 * exactly those: a value no recipe uses, or a recipe whose block is missing from the list,
 * contradicts the recipe and is refused with the recipe's definition.
 */
function recipeBlocks<K extends 'network' | 'tunnel' | 'filter'>(recipes: readonly RecipeName[], key: K, explicit: ReadonlyArray<(typeof RECIPES)[RecipeName][K]> | undefined): Array<(typeof RECIPES)[RecipeName][K]> {
  const used = [...new Set(recipes.map((r) => RECIPES[r][key]))];
  if (explicit === undefined) return used;
  for (const [i, v] of explicit.entries()) {
    if (!used.includes(v)) {
      const r = recipes[0]!;
      const which = recipes.length === 1 ? `recipe ${r} is ${recipeDefinition(RECIPES[r])}` : `the recipes use ${key} ${used.join(', ')} (${recipes.map((x) => `${x}: ${recipeDefinition(RECIPES[x])}`).join('; ')})`;
      fail(['matrix', key, i], `${key} ${v} contradicts the recipe: ${which}; leave matrix.${key} out (the recipe sets it) or list only ${used.join(', ')}`);
    }
  }
  for (const r of recipes) {
    const v = RECIPES[r][key];
    if (!explicit.includes(v)) {
      fail(['matrix', key], `recipe ${r} is ${recipeDefinition(RECIPES[r])}, and matrix.${key} does not list ${v}: leave matrix.${key} out (the recipe sets it) or add ${v}`);
    }
  }
  return used;
}

function reorder(s: ExperimentSpec): ExperimentSpec {
  const out: Record<string, unknown> = { name: s.name };
  if (s.description !== undefined) out['description'] = s.description;
  if (s.hosts !== undefined) out['hosts'] = s.hosts;
  Object.assign(out, { placement: s.placement, matrix: s.matrix, workloads: s.workloads, repetitions: s.repetitions, options: s.options, seed: s.seed });
  return out as unknown as ExperimentSpec;
}
