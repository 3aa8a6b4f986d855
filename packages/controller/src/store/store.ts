// The results store: one SQLite file (WAL) under the store directory plus raw tool outputs as
// files beside it. Everything that must survive a controller crash lives here: experiments and
// their plans, cells with isolation verdicts and setup costs, runs with state and provenance,
// long metric rows, series, host samples, progress events and convergence decisions.
//
// Exactly-once results: the queue delivers at least once, so `recordRunResult` runs in one
// IMMEDIATE transaction that stores a run's rows only while the run is not yet succeeded;
// a second delivery of the same run changes nothing. The engine resumes from the run states
// held here, never from memory.

import pg from 'pg';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statfsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SeconetError, type Cell, type ExperimentState, type HostSampleRow, type ResultRow, type RunKey, type RunState, type SkippedCell, type WorkloadInstance } from '@seconet/core';
import type { ExperimentPlan, StoredPlan } from '../engine/plan.js';
import type { Attachment, CellVerdict, CellWire, HostProvenance, ReportData, RunGroupDecision, RunRecord } from '../report/types.js';
import type { Progress, ProgressEvent } from '../service.js';
import { MIGRATIONS, SCHEMA_VERSION } from './schema.js';
import { PgConn, pgSchema, redactUrl, SqliteConn, type Dialect, type ScriptResult, type SqlConn } from './sql.js';
import { withValidity } from '../monitor/validity.js';

/** An experiment without its spec and plan: what lists and counters need, read without parsing JSON documents. */
export type ExperimentHead = Omit<ExperimentRecord, 'spec' | 'plan'>;

export interface ExperimentRecord {
  readonly id: string;
  readonly name: string;
  readonly spec: unknown;
  /** The plan as submitted; its runs live in the runs table. */
  readonly plan: StoredPlan;
  readonly hosts: readonly string[];
  readonly state: ExperimentState;
  readonly createdAt: string;
  readonly startedAt?: string | undefined;
  readonly finishedAt?: string | undefined;
  readonly error?: string | undefined;
  readonly cancelRequested: boolean;
}

export interface StoredRun extends RunRecord {
  readonly experiment: string;
  readonly order: number;
  readonly workloadInstance: WorkloadInstance;
  readonly state: RunState;
}

export interface MetricValue {
  readonly pair: string;
  readonly flow: string;
  readonly metric: string;
  readonly value: number;
  readonly unit: string;
}

export interface SeriesValue {
  readonly pair: string;
  readonly name: string;
  readonly unit: string;
  readonly intervalS: number;
  readonly values: readonly number[];
}

export interface RawOutput {
  readonly pair: string;
  readonly tool: string;
  readonly argv: readonly string[];
  readonly text: string;
}

export interface HostSample {
  readonly host: string;
  readonly timestamp: number;
  readonly column: string;
  readonly value: number;
}

/** Everything one run produced, stored in one transaction. */
export interface RunResultData {
  readonly metrics: readonly MetricValue[];
  readonly series: readonly SeriesValue[];
  readonly raw: readonly RawOutput[];
  readonly hostSamples: readonly HostSample[];
  /** Agent and tool versions, kernel, variants, engine, the full cell. */
  readonly provenance: Record<string, unknown>;
}

export interface CellSetup {
  readonly tunnelVariant: string;
  readonly filterVariant: string;
  readonly setupSeconds: Readonly<Record<string, number>>;
}

/** Upserts in the syntax both engines speak: a retried write replaces the row with the same key, never adds one. */
const UPSERT = {
  metrics: `INSERT INTO metrics (run, pair, flow, metric, value, unit) VALUES (?, ?, ?, ?, ?, ?)
    ON CONFLICT (run, pair, flow, metric) DO UPDATE SET value = excluded.value, unit = excluded.unit`,
  series: `INSERT INTO series (run, pair, name, unit, interval_s, vals) VALUES (?, ?, ?, ?, ?, ?)
    ON CONFLICT (run, pair, name) DO UPDATE SET unit = excluded.unit, interval_s = excluded.interval_s, vals = excluded.vals`,
  hostSamples: `INSERT INTO host_samples (run, host, ts, col, value) VALUES (?, ?, ?, ?, ?)
    ON CONFLICT (run, host, ts, col) DO UPDATE SET value = excluded.value`,
  rawOutputs: `INSERT INTO raw_outputs (run, pair, path, bytes, tool, argv) VALUES (?, ?, ?, ?, ?, ?)
    ON CONFLICT (run, pair) DO UPDATE SET path = excluded.path, bytes = excluded.bytes, tool = excluded.tool, argv = excluded.argv`,
  decisions: `INSERT INTO decisions (experiment, cell, workload, metric, repetitions, converged, ci_low, ci_high, center, rel_half_width)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (experiment, cell, workload, metric) DO UPDATE SET repetitions = excluded.repetitions,
    converged = excluded.converged, ci_low = excluded.ci_low, ci_high = excluded.ci_high, center = excluded.center, rel_half_width = excluded.rel_half_width`,
  hosts: `INSERT INTO hosts (experiment, name, data) VALUES (?, ?, ?) ON CONFLICT (experiment, name) DO UPDATE SET data = excluded.data`,
} as const;

const TERMINAL: readonly ExperimentState[] = ['succeeded', 'failed', 'cancelled'];

function now(): string {
  return new Date().toISOString();
}

function optional(v: string | null): string | undefined {
  return v === null ? undefined : v;
}

interface ExperimentRow {
  id: string; name: string; spec: string; plan: string; hosts: string; state: string;
  created_at: string; started_at: string | null; finished_at: string | null; error: string | null; cancel_requested: number;
}

interface RunRow {
  id: string; experiment: string; cell: string; workload: string; workload_json: string; repetition: number; ord: number;
  state: string; attempts: number; started_at: string | null; finished_at: string | null; error: string | null; provenance: string | null;
}

interface CellRow {
  experiment: string; id: string; idx: number; data: string; state: string; isolation: number | null; evidence: string;
  tunnel_variant: string; filter_variant: string; setup: string; error: string | null; wire: string;
}

/** True for the errors of a full disk: Node's ENOSPC/EDQUOT and SQLite's SQLITE_FULL. */
export function isDiskFull(e: unknown): boolean {
  const code = (e as { code?: unknown; details?: { errno?: unknown } } | undefined)?.code;
  const errno = (e as { details?: { errno?: unknown } } | undefined)?.details?.errno;
  // 53100: PostgreSQL's disk_full.
  return code === 'ENOSPC' || code === 'EDQUOT' || code === 'SQLITE_FULL' || code === '53100' || errno === 'ENOSPC';
}

/** A write to the store that failed: a full disk is named as such (ENOSPC), anything else keeps its cause. */
function storeWriteError(e: unknown, dir: string, what: string): unknown {
  if (!isDiskFull(e)) return e;
  const code = (e as { code?: string }).code ?? 'ENOSPC';
  return new SeconetError('UNAVAILABLE', `store: no space left on the disk of ${dir} (${code === 'SQLITE_FULL' ? 'SQLITE_FULL, ENOSPC' : code}) while writing ${what}; what was stored before is kept. Free space, then resume the experiment`, { cause: e, details: { errno: 'ENOSPC' } });
}

/** Where a store keeps its tables: the embedded SQLite file (default) or a shared PostgreSQL server. */
export type StoreBackend =
  | { readonly kind: 'sqlite'; readonly file?: string }
  | { readonly kind: 'postgres'; readonly url: string; readonly password?: string | undefined; readonly timeoutMs?: number };

/** Channel of the PostgreSQL notifications that carry progress events between controller processes. */
const EVENTS_CHANNEL = 'seconet_events';
/** Advisory lock key (any constant) under which one controller at a time migrates a PostgreSQL store. */
const MIGRATION_LOCK = 7_316_001;

const INSERT_RUN = `INSERT INTO runs (id, experiment, cell, workload, workload_json, repetition, ord)
  VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`;

function runParams(r: RunKey, workloadJson: string): unknown[] {
  return [r.id, r.experiment, r.cell, r.workload.id, workloadJson, r.repetition, r.order];
}

export class Store {
  /** The only connection to the database: nothing outside this class runs SQL. */
  private readonly db: SqlConn;
  readonly rawDir: string;
  private readonly listeners = new Set<(e: ProgressEvent) => void>();
  /** This process's mark on the events it notifies (PostgreSQL), so it does not hear them twice. */
  private readonly origin = randomBytes(8).toString('hex');
  private listening: { client: pg.Client; ready: Promise<void> } | undefined;
  private readonly pgUrl: { url: string; password?: string | undefined } | undefined;
  /** Where the tables live, for messages (a PostgreSQL URL without its password). */
  readonly location: string;

  /**
   * `dir` holds the raw tool outputs (and, for SQLite, the database file). Controllers sharing a
   * PostgreSQL store share `dir` too (one file system, e.g. NFS) when raw outputs must be read
   * from any of them.
   */
  constructor(readonly dir: string, backend: StoreBackend | string = { kind: 'sqlite' }) {
    const b: StoreBackend = typeof backend === 'string' ? { kind: 'sqlite', file: backend } : backend;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.rawDir = join(dir, 'raw');
    if (b.kind === 'postgres') {
      this.db = new PgConn({ url: b.url, password: b.password, ...(b.timeoutMs === undefined ? {} : { timeoutMs: b.timeoutMs }) });
      this.location = redactUrl(b.url);
      this.pgUrl = { url: b.url, password: b.password };
    } else {
      this.db = new SqliteConn(join(dir, b.file ?? 'seconet.db'));
      this.location = dir;
    }
    try {
      this.migrate();
    } catch (e) {
      this.db.close();
      throw e;
    }
  }

  /** `sqlite` (embedded) or `postgres` (shared by several controllers). */
  get dialect(): Dialect {
    return this.db.dialect;
  }

  private readVersion(): number {
    if (this.db instanceof SqliteConn) return this.db.db.pragma('user_version', { simple: true }) as number;
    this.db.exec('CREATE TABLE IF NOT EXISTS seconet_schema (version BIGINT NOT NULL)');
    return this.db.get<{ version: number | null }>('SELECT MAX(version) AS version FROM seconet_schema')?.version ?? 0;
  }

  /**
   * Brings the schema forward (SQLite: PRAGMA user_version; PostgreSQL: the seconet_schema
   * table, under an advisory lock so controllers starting together migrate once); refuses a
   * newer store than this code knows.
   */
  private migrate(): void {
    const pg = this.db.dialect === 'postgres';
    this.db.tx(() => {
      if (pg) this.db.get('SELECT pg_advisory_xact_lock(?)', MIGRATION_LOCK);
      const current = this.readVersion();
      if (current > SCHEMA_VERSION) {
        throw new SeconetError('UNSUPPORTED', `store ${this.location} has schema version ${current}, newer than this controller's ${SCHEMA_VERSION}: upgrade the controller`, { field: pg ? 'store.url' : 'store.dir' });
      }
      for (const m of MIGRATIONS) {
        if (m.version <= current) continue;
        if (pg) {
          this.db.exec(pgSchema(m.sql));
          this.db.run('INSERT INTO seconet_schema (version) VALUES (?)', m.version);
        } else {
          this.db.exec(m.sql);
          (this.db as SqliteConn).db.pragma(`user_version = ${m.version}`);
        }
      }
    }, 'write');
  }

  get schemaVersion(): number {
    return this.readVersion();
  }

  /** Bytes free for this process on the store's file system. */
  freeBytes(): number {
    const st = statfsSync(this.dir);
    return Number(st.bavail) * Number(st.bsize);
  }

  close(): void {
    this.listeners.clear();
    const l = this.listening;
    this.listening = undefined;
    if (l) void l.client.end().catch(() => undefined);
    this.db.close();
  }

  // -------------------------------------------------------------------------------------------
  // Experiments

  /** Stores a new experiment with its cells and first runs, in state `queued`. */
  createExperiment(plan: ExperimentPlan, spec: unknown): ExperimentRecord {
    const createdAt = now();
    this.db.tx(() => {
      this.db.run('INSERT INTO experiments (id, name, spec, plan, hosts, state, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)', plan.id, plan.name, JSON.stringify(spec), JSON.stringify({ ...plan, runs: undefined }), JSON.stringify(plan.hosts), 'queued', createdAt);
      this.db.runMany('INSERT INTO cells (experiment, id, idx, data) VALUES (?, ?, ?, ?)', plan.cells.map((c) => [plan.id, c.id, c.index, JSON.stringify(c)]));
      const json = new Map<object, string>();
      this.db.runMany(INSERT_RUN, plan.runs.map((r) => {
        let w = json.get(r.workload);
        if (w === undefined) {
          w = JSON.stringify(r.workload);
          json.set(r.workload, w);
        }
        return runParams(r, w);
      }));
    }, 'write');
    this.addEvent(plan.id, 'state', { state: 'queued' });
    return this.getExperiment(plan.id)!;
  }

  getExperiment(id: string): ExperimentRecord | undefined {
    const row = this.db.get('SELECT * FROM experiments WHERE id = ?', id) as ExperimentRow | undefined;
    return row ? this.toExperiment(row) : undefined;
  }

  /** Throws SeconetError NOT_FOUND naming the id. */
  requireExperiment(id: string): ExperimentRecord {
    const e = this.getExperiment(id);
    if (!e) throw new SeconetError('NOT_FOUND', `experiment ${JSON.stringify(id)} does not exist`, { field: 'id' });
    return e;
  }

  /** Experiments per state, counted by the database (no spec or plan is read). */
  experimentCounts(): Record<string, number> {
    const rows = this.db.all('SELECT state, COUNT(*) AS n FROM experiments GROUP BY state') as Array<{ state: string; n: number }>;
    return Object.fromEntries(rows.map((r) => [r.state, r.n]));
  }

  /** One experiment without spec and plan; throws NOT_FOUND naming the id. */
  requireExperimentHead(id: string): ExperimentHead {
    const row = this.db.get('SELECT id, name, hosts, state, created_at, started_at, finished_at, error, cancel_requested FROM experiments WHERE id = ?', id) as ExperimentRow | undefined;
    if (!row) throw new SeconetError('NOT_FOUND', `experiment ${JSON.stringify(id)} does not exist`, { field: 'id' });
    return this.toHead(row);
  }

  /** Every experiment without spec and plan, oldest first. */
  listExperimentHeads(): ExperimentHead[] {
    const rows = this.db.all('SELECT id, name, hosts, state, created_at, started_at, finished_at, error, cancel_requested FROM experiments ORDER BY created_at, id') as ExperimentRow[];
    return rows.map((r) => this.toHead(r));
  }

  /** The state of one experiment (NOT_FOUND when there is none), without reading its documents. */
  experimentState(id: string): ExperimentState {
    const r = this.db.get('SELECT state FROM experiments WHERE id = ?', id) as { state: string } | undefined;
    if (!r) throw new SeconetError('NOT_FOUND', `experiment ${JSON.stringify(id)} does not exist`, { field: 'id' });
    return r.state as ExperimentState;
  }

  listExperiments(): ExperimentRecord[] {
    const rows = this.db.all('SELECT * FROM experiments ORDER BY created_at, id') as ExperimentRow[];
    return rows.map((r) => this.toExperiment(r));
  }

  private toHead(row: ExperimentRow): ExperimentHead {
    return {
      id: row.id,
      name: row.name,
      hosts: JSON.parse(row.hosts) as string[],
      state: row.state as ExperimentState,
      createdAt: row.created_at,
      startedAt: optional(row.started_at),
      finishedAt: optional(row.finished_at),
      error: optional(row.error),
      cancelRequested: row.cancel_requested !== 0,
    };
  }

  private toExperiment(row: ExperimentRow): ExperimentRecord {
    return { ...this.toHead(row), spec: JSON.parse(row.spec) as unknown, plan: JSON.parse(row.plan) as StoredPlan };
  }

  /** Moves an experiment to `state`; a terminal state is final. Returns false when it was already terminal. */
  setExperimentState(id: string, state: ExperimentState, error?: string): boolean {
    const cur = this.requireExperiment(id);
    if (TERMINAL.includes(cur.state)) return false;
    if (cur.state === state) return true;
    const ts = now();
    this.db.run(`UPDATE experiments SET state = ?, error = COALESCE(?, error),
        started_at = CASE WHEN ? = 'running' AND started_at IS NULL THEN ? ELSE started_at END,
        finished_at = CASE WHEN ? IN ('succeeded', 'failed', 'cancelled') THEN ? ELSE finished_at END
      WHERE id = ?`, state, error ?? null, state, ts, state, ts, id);
    this.addEvent(id, 'state', error === undefined ? { state } : { state, error });
    return true;
  }

  /**
   * Puts a paused experiment back in line (state `queued`, its pause reason cleared). False when
   * it is not paused: only a sweep that paused itself is resumed this way.
   */
  resumeExperiment(id: string): boolean {
    this.requireExperiment(id);
    const changed = this.db.tx(() => {
      const r = this.db.run(`UPDATE experiments SET state = 'queued', error = NULL WHERE id = ? AND state = 'paused'`, id);
      if (r.changes === 0) return false;
      this.addEvent(id, 'state', { state: 'queued', message: 'resumed' });
      return true;
    }, 'write');
    return changed;
  }

  requestCancel(id: string): void {
    this.requireExperiment(id);
    this.db.run('UPDATE experiments SET cancel_requested = 1 WHERE id = ?', id);
  }

  isCancelRequested(id: string): boolean {
    const r = this.db.get('SELECT cancel_requested FROM experiments WHERE id = ?', id) as { cancel_requested: number } | undefined;
    return r?.cancel_requested === 1;
  }

  progress(id: string): Progress {
    const r = this.db.get(`SELECT COUNT(*) AS total,
        SUM(CASE WHEN state IN ('succeeded', 'failed', 'skipped') THEN 1 ELSE 0 END) AS done,
        SUM(CASE WHEN state = 'failed' THEN 1 ELSE 0 END) AS failed
      FROM runs WHERE experiment = ?`, id) as { total: number; done: number | null; failed: number | null };
    return { runsTotal: r.total, runsDone: r.done ?? 0, runsFailed: r.failed ?? 0 };
  }

  // -------------------------------------------------------------------------------------------
  // Runs

  private insertRun(r: RunKey, workloadJson = JSON.stringify(r.workload)): boolean {
    return this.db.run(INSERT_RUN, ...runParams(r, workloadJson)).changes === 1;
  }

  /** Adds a run (an extra repetition while converging); an existing run is left as it is. */
  ensureRun(r: RunKey): StoredRun {
    this.insertRun(r);
    return this.getRun(r.id)!;
  }

  /** The runs of one (cell, workload) group so far, by repetition, as run keys. */
  groupRunKeys(experiment: string, cell: string, workload: string): RunKey[] {
    const rows = this.db.all('SELECT * FROM runs WHERE experiment = ? AND cell = ? AND workload = ? ORDER BY repetition', experiment, cell, workload) as RunRow[];
    return rows.map((r) => ({ id: r.id, experiment: r.experiment, cell: r.cell, workload: JSON.parse(r.workload_json) as WorkloadInstance, repetition: r.repetition, order: r.ord }));
  }

  getRun(id: string): StoredRun | undefined {
    const row = this.db.get('SELECT * FROM runs WHERE id = ?', id) as RunRow | undefined;
    return row ? toRun(row) : undefined;
  }

  runs(experiment: string): StoredRun[] {
    return (this.db.all('SELECT * FROM runs WHERE experiment = ? ORDER BY ord, id', experiment) as RunRow[]).map(toRun);
  }

  /** Marks a run as running and counts the attempt; returns the attempt number. */
  startRun(id: string): number {
    this.db.run(`UPDATE runs SET state = 'running', attempts = attempts + 1, started_at = ?, error = NULL
      WHERE id = ? AND state NOT IN ('succeeded', 'skipped')`, now(), id);
    return this.getRun(id)?.attempts ?? 0;
  }

  /**
   * Puts a run that was interrupted back to pending (a retry will follow). `uncounted`: the
   * attempt does not count against the retry budget (the store, not the run, failed: a full disk).
   */
  resetRun(id: string, error: string, opts: { uncounted?: boolean } = {}): void {
    const minus = opts.uncounted === true ? 1 : 0;
    this.db.run(`UPDATE runs SET state = 'pending', error = ?, attempts = ${this.db.dialect === 'postgres' ? 'GREATEST' : 'MAX'}(attempts - ?, 0) WHERE id = ? AND state = 'running'`, error, minus, id);
  }

  failRun(id: string, error: string): void {
    this.db.run(`UPDATE runs SET state = 'failed', error = ?, finished_at = ? WHERE id = ? AND state NOT IN ('succeeded', 'skipped')`, error, now(), id);
  }

  skipRun(id: string, reason: string): void {
    this.db.run(`UPDATE runs SET state = 'skipped', error = ?, finished_at = ? WHERE id = ? AND state NOT IN ('succeeded', 'failed')`, reason, now(), id);
  }

  /**
   * Stores a run's results exactly once. Returns false (and changes nothing) when the run
   * already succeeded: a second delivery of the same run keeps the first copy.
   */
  async recordRunResult(id: string, data: RunResultData): Promise<boolean> {
    const run = this.getRun(id);
    if (!run) throw new SeconetError('NOT_FOUND', `run ${id} does not exist`, { field: 'run' });
    if (run.state === 'succeeded') return false;
    // Raw outputs go to a directory of this delivery only (a redelivered run never overwrites
    // another delivery's files), named by position so two pairs can never share a file. They
    // are written first and removed again unless the transaction that lists them commits; the
    // files of a replaced earlier result are removed after it. Files and rows are written off
    // the event loop (the file system's thread pool; SQLite's write thread, see sql.ts).
    const dir = join(this.rawDir, run.experiment, id, randomBytes(6).toString('hex'));
    const files = data.raw.map((r, i) => ({ ...r, path: join(dir, `${String(i).padStart(3, '0')}-${r.pair.replace(/[^a-zA-Z0-9_-]/g, '_').slice(0, 64)}.txt`) }));
    let result: ScriptResult;
    try {
      if (files.length > 0) {
        await mkdir(dir, { recursive: true, mode: 0o700 });
        await Promise.all(files.map((f) => writeFile(f.path, f.text, { mode: 0o600, flag: 'wx' })));
      }
      // The row lock (PostgreSQL) or the write transaction (SQLite) makes two deliveries of
      // the same run, in this or another controller, store one copy.
      result = await this.db.runScript({
        guard: { sql: `SELECT state FROM runs WHERE id = ?${this.db.dialect === 'postgres' ? ' FOR UPDATE' : ''}`, params: [id], unless: 'succeeded' },
        read: { sql: 'SELECT path FROM raw_outputs WHERE run = ?', params: [id] },
        writes: [
          ...['metrics', 'series', 'host_samples', 'raw_outputs'].map((t) => ({ sql: `DELETE FROM ${t} WHERE run = ?`, rows: [[id]] })),
          { sql: UPSERT.metrics, rows: data.metrics.map((x) => [id, x.pair, x.flow, x.metric, x.value, x.unit]) },
          { sql: UPSERT.series, rows: data.series.map((x) => [id, x.pair, x.name, x.unit, x.intervalS, JSON.stringify(x.values)]) },
          { sql: UPSERT.hostSamples, rows: data.hostSamples.map((x) => [id, x.host, x.timestamp, x.column, x.value]) },
          { sql: UPSERT.rawOutputs, rows: files.map((f) => [id, f.pair, f.path, Buffer.byteLength(f.text), f.tool, JSON.stringify(f.argv)]) },
          { sql: `UPDATE runs SET state = 'succeeded', finished_at = ?, error = NULL, provenance = ? WHERE id = ?`, rows: [[now(), JSON.stringify(data.provenance), id]] },
        ],
      });
    } catch (e) {
      await rm(dir, { recursive: true, force: true });
      throw storeWriteError(e, this.dir, `the result of run ${id}`);
    }
    if (!result.applied) await rm(dir, { recursive: true, force: true });
    else await Promise.all((result.read as Array<{ path: string }>).map((r) => rm(r.path, { force: true })));
    return result.applied;
  }

  /** The raw output files the store lists for an experiment's runs. */
  rawOutputPaths(experiment: string): string[] {
    return (this.db.all('SELECT o.path FROM raw_outputs o JOIN runs r ON r.id = o.run WHERE r.experiment = ? ORDER BY o.path', experiment) as Array<{ path: string }>).map((r) => r.path);
  }

  /** Host samples of a run that failed still help diagnose it; stored without touching results. */
  recordHostSamples(id: string, samples: readonly HostSample[]): void {
    this.db.tx(() => this.db.runMany(UPSERT.hostSamples, samples.map((x) => [id, x.host, x.timestamp, x.column, x.value])));
  }

  /** How many runs a cell has and how many of them succeeded. */
  cellRunCounts(experiment: string, cell: string): { total: number; succeeded: number } {
    const r = this.db.get(`SELECT COUNT(*) AS total, SUM(CASE WHEN state = 'succeeded' THEN 1 ELSE 0 END) AS ok
      FROM runs WHERE experiment = ? AND cell = ?`, experiment, cell) as { total: number; ok: number | null };
    return { total: r.total, succeeded: r.ok ?? 0 };
  }

  /** State of every cell, by id (cheap: no cell JSON parsed). */
  cellStates(experiment: string): Map<string, CellVerdict['state']> {
    const rows = this.db.all('SELECT id, state FROM cells WHERE experiment = ?', experiment) as Array<{ id: string; state: string }>;
    return new Map(rows.map((r) => [r.id, r.state as CellVerdict['state']]));
  }

  /** Values of one metric per succeeded repetition of a group (averaged over pairs), in repetition order. */
  groupMetric(experiment: string, cell: string, workload: string, metric: string): number[] {
    const rows = this.db.all(`SELECT r.repetition, AVG(m.value) AS v FROM runs r JOIN metrics m ON m.run = r.id
      WHERE r.experiment = ? AND r.cell = ? AND r.workload = ? AND r.state = 'succeeded' AND m.metric = ? AND m.flow = ''
      GROUP BY r.id ORDER BY r.repetition`, experiment, cell, workload, metric) as Array<{ v: number }>;
    return rows.map((r) => r.v);
  }

  /** The provenance stored with a succeeded run (undefined while it has none). */
  runProvenance(id: string): Record<string, unknown> | undefined {
    const row = this.db.get('SELECT provenance FROM runs WHERE id = ?', id) as { provenance: string | null } | undefined;
    return row?.provenance == null ? undefined : (JSON.parse(row.provenance) as Record<string, unknown>);
  }

  /** The first metric, by name, that a group's runs recorded for a container pair (not a host, not a flow). */
  firstGroupMetric(experiment: string, cell: string, workload: string): string | undefined {
    const row = this.db.get(`SELECT m.metric FROM metrics m JOIN runs r ON r.id = m.run
      WHERE r.experiment = ? AND r.cell = ? AND r.workload = ? AND m.flow = '' AND m.pair NOT LIKE 'host/%' ORDER BY m.metric LIMIT 1`, experiment, cell, workload) as { metric: string } | undefined;
    return row?.metric;
  }

  /** Runs finished (succeeded, failed or skipped, as progress() counts runsDone), succeeded and failed, over every experiment in the store. */
  runTotals(): { finished: number; succeeded: number; failed: number } {
    const r = this.db.get(`SELECT SUM(CASE WHEN state IN ('succeeded', 'failed', 'skipped') THEN 1 ELSE 0 END) AS finished,
        SUM(CASE WHEN state = 'succeeded' THEN 1 ELSE 0 END) AS done, SUM(CASE WHEN state = 'failed' THEN 1 ELSE 0 END) AS failed FROM runs`) as { finished: number | null; done: number | null; failed: number | null };
    return { finished: r.finished ?? 0, succeeded: r.done ?? 0, failed: r.failed ?? 0 };
  }

  // -------------------------------------------------------------------------------------------
  // Cells, decisions, hosts

  setCellSetup(experiment: string, cell: string, setup: CellSetup): void {
    this.db.run('UPDATE cells SET tunnel_variant = ?, filter_variant = ?, setup = ? WHERE experiment = ? AND id = ?', setup.tunnelVariant, setup.filterVariant, JSON.stringify(setup.setupSeconds), experiment, cell);
  }

  setCellVerdict(experiment: string, cell: string, v: { isolation: boolean | null; evidence: string }): void {
    this.db.run('UPDATE cells SET isolation = ?, evidence = ? WHERE experiment = ? AND id = ?', v.isolation === null ? null : v.isolation ? 1 : 0, v.evidence, experiment, cell);
  }

  setCellWire(experiment: string, cell: string, wire: CellWire): void {
    this.db.run('UPDATE cells SET wire = ? WHERE experiment = ? AND id = ?', JSON.stringify(wire), experiment, cell);
  }

  setCellState(experiment: string, cell: string, state: CellVerdict['state'], error?: string): void {
    this.db.run('UPDATE cells SET state = ?, error = COALESCE(?, error) WHERE experiment = ? AND id = ?', state, error ?? null, experiment, cell);
  }

  cells(experiment: string): CellVerdict[] {
    const rows = this.db.all('SELECT * FROM cells WHERE experiment = ? ORDER BY idx', experiment) as CellRow[];
    return rows.map((r) => ({
      cell: JSON.parse(r.data) as Cell,
      isolation: r.isolation === null ? null : r.isolation === 1,
      isolationEvidence: r.evidence,
      tunnelVariant: r.tunnel_variant,
      filterVariant: r.filter_variant,
      setupSeconds: JSON.parse(r.setup) as Record<string, number>,
      state: r.state as CellVerdict['state'],
      error: optional(r.error),
      ...(r.wire ? { wire: JSON.parse(r.wire) as CellWire } : {}),
    }));
  }

  putDecision(experiment: string, d: RunGroupDecision): void {
    this.db.run(UPSERT.decisions, experiment, d.cell, d.workload, d.metric, d.repetitions, d.converged ? 1 : 0,
      finite(d.ciLow), finite(d.ciHigh), finite(d.center), finite(d.relHalfWidth));
  }

  putHost(experiment: string, h: HostProvenance): void {
    this.db.run(UPSERT.hosts, experiment, h.name, JSON.stringify(h));
  }

  // -------------------------------------------------------------------------------------------
  // Events

  /**
   * Appends a progress event (ids count up per experiment) and tells live listeners once it is
   * stored. On SQLite, while the write thread runs a script (a run's result) or earlier events
   * are still on their way through it, the event goes through the thread too, after them: a
   * write here would wait for the thread's write lock with the event loop blocked. Such an event
   * is stored (and heard) a few milliseconds later, in order; `eventsStored()` waits for it. A
   * deferred event the database refuses is reported to `onWriteError` (the sweep's own next
   * write meets the same cause, a full disk, and pauses it).
   */
  addEvent(experiment: string, type: ProgressEvent['type'], data: Record<string, unknown>): void {
    const at = now();
    const db = this.db;
    if (db instanceof SqliteConn && !db.inTx && (this.deferredEvents > 0 || db.writerBusy)) {
      this.deferEvent(db, experiment, type, at, data);
      return;
    }
    const id = db instanceof PgConn ? this.addEventPg(db, experiment, type, at, data) : db.tx((): number => {
      const r = db.get('SELECT COALESCE(MAX(id), 0) + 1 AS next FROM events WHERE experiment = ?', experiment) as { next: number };
      db.run('INSERT INTO events (experiment, id, type, at, data) VALUES (?, ?, ?, ?, ?)', experiment, r.next, type, at, JSON.stringify(data));
      return r.next;
    }, 'write');
    this.tell({ id, experiment, type, at, data });
  }

  /**
   * Resolves when a write on this thread would not wait for the write thread's lock (on SQLite:
   * no script pending; at once on PostgreSQL). A caller with a burst of small writes to make,
   * and time to wait, awaits it first instead of blocking the event loop in SQLite's busy
   * handler; it is a courtesy, not a lock: a script sent meanwhile is waited for as before.
   */
  writerIdle(): Promise<void> {
    return this.db instanceof SqliteConn ? this.db.writerIdle() : Promise.resolve();
  }

  /** Resolves once every event given to addEvent so far is stored (or refused). */
  eventsStored(): Promise<void> {
    return this.eventTail;
  }

  /** Where a deferred event's write error goes (the controller logs it). */
  onWriteError: (err: Error, what: string) => void = (err, what) => process.emitWarning(`store: ${what}: ${err.message}`);

  private deferredEvents = 0;
  private eventTail: Promise<void> = Promise.resolve();

  private deferEvent(db: SqliteConn, experiment: string, type: ProgressEvent['type'], at: string, data: Record<string, unknown>): void {
    const next = 'SELECT COALESCE(MAX(id), 0) + 1 AS next FROM events WHERE experiment = ?';
    this.deferredEvents++;
    const stored = db.runScript({
      guard: { sql: 'SELECT 1 AS go', params: [], unless: 0 },
      read: { sql: next, params: [experiment] },
      writes: [{ sql: `INSERT INTO events (experiment, id, type, at, data) VALUES (?, (${next}), ?, ?, ?)`, rows: [[experiment, experiment, type, at, JSON.stringify(data)]] }],
    }).then((r) => {
      this.tell({ id: (r.read[0] as { next: number }).next, experiment, type, at, data });
    }, (err: Error) => {
      this.onWriteError(err, `the ${type} event of experiment ${experiment} was not stored`);
    }).finally(() => {
      this.deferredEvents--;
    });
    this.eventTail = stored;
  }

  private tell(ev: ProgressEvent): void {
    for (const l of this.listeners) l(ev);
  }

  /**
   * On PostgreSQL an event is one statement: numbered, inserted and notified (delivered at
   * commit to every controller listening, see onEvent). Two controllers numbering the same
   * experiment's event at once collide on the key and the loser takes the next number; inside
   * a transaction, where a collision would abort it, an advisory lock orders them instead.
   */
  private addEventPg(db: PgConn, experiment: string, type: string, at: string, data: Record<string, unknown>): number {
    const sql = `WITH ins AS (INSERT INTO events (experiment, id, type, at, data)
        SELECT ?, COALESCE(MAX(id), 0) + 1, ?, ?, ? FROM events WHERE experiment = ? RETURNING id)
      SELECT id, pg_notify(?, json_build_object('o', ?::text, 'e', ?::text, 'i', id)::text) FROM ins`;
    const params = [experiment, type, at, JSON.stringify(data), experiment, EVENTS_CHANNEL, this.origin, experiment];
    if (db.inTx) {
      db.get('SELECT pg_advisory_xact_lock(hashtext(?))', `events:${experiment}`);
      return db.get<{ id: number }>(sql, ...params)!.id;
    }
    for (let attempt = 0; ; attempt++) {
      try {
        return db.get<{ id: number }>(sql, ...params)!.id;
      } catch (e) {
        if ((e as { code?: string }).code !== '23505' || attempt >= 50) throw e;
      }
    }
  }

  eventsAfter(experiment: string, afterId: number): ProgressEvent[] {
    const rows = this.db.all('SELECT * FROM events WHERE experiment = ? AND id > ? ORDER BY id', experiment, afterId) as Array<{ experiment: string; id: number; type: string; at: string; data: string }>;
    return rows.map((r) => ({ id: r.id, experiment: r.experiment, type: r.type as ProgressEvent['type'], at: r.at, data: JSON.parse(r.data) as Record<string, unknown> }));
  }

  /** Live events of this process; returns the unsubscribe function. */
  onEvent(listener: (e: ProgressEvent) => void): () => void {
    this.listeners.add(listener);
    if (this.pgUrl && !this.listening) this.listen(this.pgUrl);
    return () => this.listeners.delete(listener);
  }

  /**
   * On PostgreSQL, events written by other controller processes: one LISTEN connection (async,
   * on this thread) hears their notifications and hands each event, read back from the table,
   * to the listeners here, so a live stream served by any controller sees every event. When it
   * fails, streams fall back to their poll (ControllerService.events).
   */
  private listen(target: { url: string; password?: string | undefined }): void {
    const client = new pg.Client({ connectionString: target.url, ...(target.password === undefined ? {} : { password: target.password }), application_name: 'seconet-controller-events' });
    client.on('error', () => {
      if (this.listening?.client === client) this.listening = undefined;
    });
    client.on('notification', (n) => {
      if (n.channel !== EVENTS_CHANNEL || n.payload === undefined || !this.db.open) return;
      let p: { o?: unknown; e?: unknown; i?: unknown };
      try {
        p = JSON.parse(n.payload) as typeof p;
      } catch {
        return;
      }
      if (p.o === this.origin || typeof p.e !== 'string' || typeof p.i !== 'number' || this.listeners.size === 0) return;
      const ev = this.eventsAfter(p.e, p.i - 1).find((x) => x.id === p.i);
      if (ev) for (const l of this.listeners) l(ev);
    });
    const ready = client.connect().then(async () => {
      await client.query(`LISTEN ${EVENTS_CHANNEL}`);
    }).catch(() => {
      if (this.listening?.client === client) this.listening = undefined;
      void client.end().catch(() => undefined);
    });
    this.listening = { client, ready };
  }

  /** Resolves once this store hears other controllers' events (immediately on SQLite). */
  async listeningForEvents(): Promise<void> {
    if (this.pgUrl && !this.listening) this.listen(this.pgUrl);
    await this.listening?.ready;
  }

  // -------------------------------------------------------------------------------------------
  // Reading results

  /** Long format: one row per run x pair x flow x metric, in run order. */
  /** The experiment's host kinds and kernel releases, each "+"-joined in host order when they differ. */
  hostProvenance(experiment: string): { hostKind: string; kernel: string } {
    const hosts = (this.db.all('SELECT data FROM hosts WHERE experiment = ? ORDER BY name', experiment) as Array<{ data: string }>).map((h) => JSON.parse(h.data) as HostProvenance);
    const join = (xs: string[]): string => [...new Set(xs.filter((x) => x !== ''))].join('+');
    return { hostKind: join(hosts.map((h) => h.hostKind ?? 'remote')), kernel: join(hosts.map((h) => h.kernel)) };
  }

  resultRows(experiment: string): ResultRow[] {
    const out: ResultRow[] = [];
    for (const page of this.resultRowPages(experiment)) for (const r of page) out.push(r);
    return out;
  }

  /**
   * The same rows in pages of whole runs (validity flags need all rows of a run), read by
   * keyset over the run order: a reader holds one page at a time, never the experiment.
   */
  *resultRowPages(experiment: string, runsPerPage = 200): Generator<ResultRow[]> {
    const cells = new Map(this.cells(experiment).map((c) => [c.cell.id, c]));
    const provenance = this.hostProvenance(experiment);
    const pageRuns = `SELECT id, ord, cell, repetition, workload_json FROM runs
      WHERE experiment = ? AND state = 'succeeded' AND (ord > ? OR (ord = ? AND id > ?)) ORDER BY ord, id LIMIT ?`;
    const pg = this.db.dialect === 'postgres';
    const metricsOf = `SELECT m.run, m.pair, m.flow, m.metric, m.value, m.unit FROM metrics m
      WHERE m.run ${pg ? '= ANY(?)' : 'IN (SELECT value FROM json_each(?))'} ORDER BY m.run, m.pair, m.flow, m.metric`;
    const wl = new Map<string, WorkloadInstance>();
    let lastOrd = Number.MIN_SAFE_INTEGER;
    let lastId = '';
    for (;;) {
      const runs = this.db.all(pageRuns, experiment, lastOrd, lastOrd, lastId, runsPerPage) as Array<{ id: string; ord: number; cell: string; repetition: number; workload_json: string }>;
      if (runs.length === 0) return;
      lastOrd = runs.at(-1)!.ord;
      lastId = runs.at(-1)!.id;
      const byRun = new Map<string, Array<{ pair: string; flow: string; metric: string; value: number; unit: string }>>();
      const ids = runs.map((r) => r.id);
      for (const m of this.db.all(metricsOf, pg ? ids : JSON.stringify(ids)) as Array<{ run: string; pair: string; flow: string; metric: string; value: number; unit: string }>) {
        const list = byRun.get(m.run) ?? [];
        list.push(m);
        byRun.set(m.run, list);
      }
      const rows: Array<Omit<ResultRow, 'validity'>> = [];
      for (const r of runs) {
        let w = wl.get(r.workload_json);
        if (!w) {
          w = JSON.parse(r.workload_json) as WorkloadInstance;
          wl.set(r.workload_json, w);
        }
        const c = cells.get(r.cell);
        const cell = c?.cell;
        for (const m of byRun.get(r.id) ?? []) {
          rows.push({
            experiment,
            cell: r.cell,
            run: r.id,
            repetition: r.repetition,
            workload: w.id,
            workload_kind: w.kind,
            engine: w.engine,
            payload: w.payload,
            protocol: w.protocol,
            network: cell?.network ?? '',
            tunnel: cell?.tunnel ?? '',
            tunnel_variant: c?.tunnelVariant ?? '',
            filter: cell?.filter ?? '',
            filter_variant: c?.filterVariant ?? '',
            rules: cell?.rules ?? 0,
            containers: cell?.containers ?? 0,
            placement: cell?.placement ?? '',
            recipe: cell?.recipe ?? '',
            rule_match: cell?.ruleMatch ?? 'address',
            host_kind: provenance.hostKind,
            kernel_release: provenance.kernel,
            pair: m.pair,
            flow: m.flow,
            metric: m.metric,
            value: m.value,
            unit: m.unit,
          });
        }
      }
      yield withValidity(rows);
    }
  }

  hostSamples(experiment: string): HostSampleRow[] {
    const rows = this.db.all(`SELECT h.run, h.host, h.ts, h.col, h.value FROM host_samples h JOIN runs r ON r.id = h.run
      WHERE r.experiment = ? ORDER BY r.ord, h.host, h.ts, h.col`, experiment) as Array<{ run: string; host: string; ts: number; col: string; value: number }>;
    return rows.map((r) => ({ experiment, run: r.run, host: r.host, timestamp: r.ts, column: r.col, value: r.value }));
  }

  /** Everything the report and the exports need, in one read. Throws NOT_FOUND. */
  reportData(id: string): ReportData {
    const e = this.requireExperiment(id);
    const attachments = this.attachments(id);
    const read = (): ReportData => this.db.tx((): ReportData => {
      const series = (this.db.all(`SELECT s.run, s.pair, s.name, s.unit, s.vals FROM series s JOIN runs r ON r.id = s.run
        WHERE r.experiment = ? ORDER BY r.ord, s.pair, s.name`, id) as Array<{ run: string; pair: string; name: string; unit: string; vals: string }>)
        .map((s) => ({ run: s.run, pair: s.pair, name: s.name, unit: s.unit, values: JSON.parse(s.vals) as number[] }));
      const decisions = (this.db.all('SELECT * FROM decisions WHERE experiment = ? ORDER BY cell, workload, metric', id) as Array<{
        cell: string; workload: string; metric: string; repetitions: number; converged: number; ci_low: number; ci_high: number; center: number; rel_half_width: number;
      }>).map((d) => ({ cell: d.cell, workload: d.workload, metric: d.metric, repetitions: d.repetitions, converged: d.converged === 1, ciLow: d.ci_low, ciHigh: d.ci_high, center: d.center, relHalfWidth: d.rel_half_width }));
      const hosts = (this.db.all('SELECT data FROM hosts WHERE experiment = ? ORDER BY name', id) as Array<{ data: string }>).map((h) => JSON.parse(h.data) as HostProvenance);
      const runs: RunRecord[] = this.runs(id).map((r) => ({
        id: r.id, cell: r.cell, workload: r.workload, repetition: r.repetition, state: r.state,
        startedAt: r.startedAt, finishedAt: r.finishedAt, error: r.error, attempts: r.attempts,
      }));
      const skipped: readonly SkippedCell[] = e.plan.skipped;
      return {
        experiment: { id: e.id, name: e.name, state: e.state, spec: e.spec, createdAt: e.createdAt, startedAt: e.startedAt, finishedAt: e.finishedAt },
        cells: this.cells(id),
        skipped,
        runs,
        rows: this.resultRows(id),
        series,
        hostSamples: this.hostSamples(id),
        decisions,
        hosts,
        ...(attachments.length > 0 ? { attachments } : {}),
      };
    }, 'snapshot');
    return read();
  }

  /** JSON files next to the experiment's raw results (bench/soak.ts saves its report there). */
  attachments(id: string): Attachment[] {
    const dir = join(this.rawDir, id);
    let names: string[];
    try {
      names = readdirSync(dir).filter((n) => n.endsWith('.json')).sort();
    } catch {
      return [];
    }
    return names.map((name) => {
      const path = join(dir, name);
      let summary: string | undefined;
      try {
        const j = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
        if (typeof j['faultsInjected'] === 'number') {
          summary = `soak seed ${String(j['seed'])}: ${String(j['ok'] === true ? 'passed' : 'FAILED')}; faults injected ${String(j['faultsInjected'])}, survived ${String(j['faultsSurvived'])}; runs retried ${String(j['runsRetried'])}, failed ${String(j['runsFailed'])}; lost ${String(j['lost'])}, duplicated ${String(j['duplicated'])}, leaked ${Array.isArray(j['leaked']) ? j['leaked'].length : '?'}`;
        }
      } catch {
        summary = undefined;
      }
      return { name, path, summary };
    });
  }
}

function finite(x: number): number {
  return Number.isFinite(x) ? x : 0;
}

function toRun(row: RunRow): StoredRun {
  return {
    id: row.id,
    experiment: row.experiment,
    cell: row.cell,
    workload: row.workload,
    workloadInstance: JSON.parse(row.workload_json) as WorkloadInstance,
    repetition: row.repetition,
    order: row.ord,
    state: row.state as RunState,
    attempts: row.attempts,
    startedAt: optional(row.started_at),
    finishedAt: optional(row.finished_at),
    error: optional(row.error),
  };
}

/** Opens (and migrates) the store in `dir`: SQLite there by default, or the tables on a PostgreSQL server. */
export function openStore(dir: string, backend?: StoreBackend): Store {
  return new Store(dir, backend);
}
