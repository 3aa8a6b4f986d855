// The store's schema as an ordered list of migrations, applied by `PRAGMA user_version`.
// A migration is appended, never edited: a store file written by an older controller is
// brought forward step by step when it opens, inside one transaction per step.

export interface Migration {
  readonly version: number;
  readonly sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE experiments (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        spec TEXT NOT NULL,
        plan TEXT NOT NULL,
        hosts TEXT NOT NULL,
        state TEXT NOT NULL,
        created_at TEXT NOT NULL,
        started_at TEXT,
        finished_at TEXT,
        error TEXT,
        cancel_requested INTEGER NOT NULL DEFAULT 0
      );
      CREATE TABLE cells (
        experiment TEXT NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
        id TEXT NOT NULL,
        idx INTEGER NOT NULL,
        data TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'pending',
        isolation INTEGER,
        evidence TEXT NOT NULL DEFAULT '',
        tunnel_variant TEXT NOT NULL DEFAULT '',
        filter_variant TEXT NOT NULL DEFAULT '',
        setup TEXT NOT NULL DEFAULT '{}',
        error TEXT,
        PRIMARY KEY (experiment, id)
      );
      CREATE TABLE runs (
        id TEXT PRIMARY KEY,
        experiment TEXT NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
        cell TEXT NOT NULL,
        workload TEXT NOT NULL,
        workload_json TEXT NOT NULL,
        repetition INTEGER NOT NULL,
        ord INTEGER NOT NULL,
        state TEXT NOT NULL DEFAULT 'pending',
        attempts INTEGER NOT NULL DEFAULT 0,
        started_at TEXT,
        finished_at TEXT,
        error TEXT,
        provenance TEXT
      );
      CREATE INDEX runs_by_experiment ON runs (experiment, ord);
      CREATE TABLE metrics (
        run TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        pair TEXT NOT NULL,
        flow TEXT NOT NULL,
        metric TEXT NOT NULL,
        value REAL NOT NULL,
        unit TEXT NOT NULL,
        PRIMARY KEY (run, pair, flow, metric)
      ) WITHOUT ROWID;
      CREATE TABLE series (
        run TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        pair TEXT NOT NULL,
        name TEXT NOT NULL,
        unit TEXT NOT NULL,
        interval_s REAL NOT NULL,
        vals TEXT NOT NULL,
        PRIMARY KEY (run, pair, name)
      ) WITHOUT ROWID;
      CREATE TABLE host_samples (
        run TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        host TEXT NOT NULL,
        ts REAL NOT NULL,
        col TEXT NOT NULL,
        value REAL NOT NULL,
        PRIMARY KEY (run, host, ts, col)
      ) WITHOUT ROWID;
      CREATE TABLE raw_outputs (
        run TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        pair TEXT NOT NULL,
        path TEXT NOT NULL,
        bytes INTEGER NOT NULL,
        tool TEXT NOT NULL,
        argv TEXT NOT NULL,
        PRIMARY KEY (run, pair)
      ) WITHOUT ROWID;
      CREATE TABLE events (
        experiment TEXT NOT NULL,
        id INTEGER NOT NULL,
        type TEXT NOT NULL,
        at TEXT NOT NULL,
        data TEXT NOT NULL,
        PRIMARY KEY (experiment, id)
      ) WITHOUT ROWID;
      CREATE TABLE decisions (
        experiment TEXT NOT NULL,
        cell TEXT NOT NULL,
        workload TEXT NOT NULL,
        metric TEXT NOT NULL,
        repetitions INTEGER NOT NULL,
        converged INTEGER NOT NULL,
        ci_low REAL NOT NULL,
        ci_high REAL NOT NULL,
        center REAL NOT NULL,
        rel_half_width REAL NOT NULL,
        PRIMARY KEY (experiment, cell, workload, metric)
      ) WITHOUT ROWID;
      CREATE TABLE hosts (
        experiment TEXT NOT NULL,
        name TEXT NOT NULL,
        data TEXT NOT NULL,
        PRIMARY KEY (experiment, name)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 2,
    sql: `CREATE INDEX runs_by_group ON runs (experiment, cell, workload, repetition);`,
  },
  {
    version: 3,
    // The wire check of a cell's pre-flight (configurator/wire-check.ts), as JSON; '' when not done.
    sql: `ALTER TABLE cells ADD COLUMN wire TEXT NOT NULL DEFAULT '';`,
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;
