// The store's one door to SQL: a small synchronous connection with two dialects.
//
//   sqlite    better-sqlite3 on a file (the embedded default, one controller process).
//   postgres  a PostgreSQL server shared by several controller processes, spoken to with the
//             `pg` client in a worker thread; the calling thread blocks on a SharedArrayBuffer
//             (Atomics.wait) until the worker answers, so the store stays synchronous exactly
//             like it is on better-sqlite3 (see docs/scaling.md for why, and what it costs).
//
// One kind of write leaves the calling thread on SQLite too: `runScript`, a write transaction
// described as data (a run's result: thousands of host-sample rows, 20-50 ms of SQLite work)
// runs in a worker thread on its own connection to the same WAL file, so the controller's event
// loop serves the API and the streams meanwhile.
//
// The SQL the store writes is the common subset of both engines (`?` placeholders, upserts
// with ON CONFLICT ... DO UPDATE SET col = excluded.col); the few places that differ ask
// `dialect`. Placeholders become $1..$n for PostgreSQL here.

import Database from 'better-sqlite3';
import { createRequire } from 'node:module';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { SeconetError } from '@seconet/core';

export type Dialect = 'sqlite' | 'postgres';

export interface SqlConn {
  readonly dialect: Dialect;
  get<T>(sql: string, ...params: unknown[]): T | undefined;
  all<T>(sql: string, ...params: unknown[]): T[];
  run(sql: string, ...params: unknown[]): { changes: number };
  /** One statement run once per parameter row (one round trip on PostgreSQL). */
  runMany(sql: string, rows: readonly (readonly unknown[])[]): void;
  /** Statements without parameters (a schema migration). */
  exec(sql: string): void;
  /**
   * Runs `fn` in one transaction. `write`: it reads then writes what others may write at the
   * same time (SQLite BEGIN IMMEDIATE; on PostgreSQL the statements lock what they need).
   * `snapshot`: a read that must see one consistent state (REPEATABLE READ on PostgreSQL).
   * A nested call joins the outer transaction.
   */
  tx<T>(fn: () => T, mode?: 'write' | 'snapshot'): T;
  /**
   * Runs a write transaction described as data. SQLite: in a worker thread with its own
   * connection, so the calling thread's event loop goes on; the transactions of one connection
   * run one after another, in the order given. PostgreSQL: on the connection, as any statement.
   */
  runScript(script: WriteScript): Promise<ScriptResult>;
  close(): void;
  readonly open: boolean;
}

/**
 * A write transaction as data (it can cross to another thread): it goes on only while the row
 * `guard` selects exists and its first column is not `guard.unless`; it returns the rows of
 * `read`, taken before the writes; then it runs each write statement once per parameter row.
 */
export interface WriteScript {
  readonly guard: { readonly sql: string; readonly params: readonly unknown[]; readonly unless: unknown };
  readonly read: { readonly sql: string; readonly params: readonly unknown[] };
  readonly writes: ReadonlyArray<{ readonly sql: string; readonly rows: readonly (readonly unknown[])[] }>;
}

export interface ScriptResult {
  /** False when the guard stopped the transaction: nothing was written. */
  readonly applied: boolean;
  readonly read: readonly unknown[];
}

/** `script` on a synchronous connection, in one write transaction. */
function runScriptOn(conn: SqlConn, script: WriteScript): ScriptResult {
  return conn.tx((): ScriptResult => {
    const g = conn.get<Record<string, unknown>>(script.guard.sql, ...script.guard.params);
    if (g === undefined || Object.values(g)[0] === script.guard.unless) return { applied: false, read: [] };
    const read = conn.all(script.read.sql, ...script.read.params);
    for (const w of script.writes) conn.runMany(w.sql, w.rows);
    return { applied: true, read };
  }, 'write');
}

// The SQLite script worker: plain JavaScript evaluated as CommonJS, better-sqlite3 loaded from
// the path the controller resolved; the same pragmas as the controller's own connection.
const SQLITE_WORKER = `
const { workerData, parentPort } = require('node:worker_threads');
const Database = require(workerData.sqlitePath);
const db = new Database(workerData.file);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.pragma('foreign_keys = ON');
db.pragma('busy_timeout = 5000');
const stmts = new Map();
function stmt(sql) {
  let s = stmts.get(sql);
  if (!s) { s = db.prepare(sql); stmts.set(sql, s); }
  return s;
}
parentPort.on('message', ({ seq, script }) => {
  try {
    const out = db.transaction(() => {
      const g = stmt(script.guard.sql).get(...script.guard.params);
      if (g === undefined || Object.values(g)[0] === script.guard.unless) return { applied: false, read: [] };
      const read = stmt(script.read.sql).all(...script.read.params);
      for (const w of script.writes) { const s = stmt(w.sql); for (const r of w.rows) s.run(...r); }
      return { applied: true, read };
    }).immediate();
    parentPort.postMessage({ seq, ok: true, out });
  } catch (e) {
    parentPort.postMessage({ seq, ok: false, message: String((e && e.message) || e), code: e && e.code });
  }
});
`;

/** The worker thread that runs one SQLite file's write scripts, one after another. */
class SqliteScriptWorker {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve: (r: ScriptResult) => void; reject: (e: Error) => void }>();
  private seq = 0;
  private failed: Error | undefined;

  constructor(file: string) {
    const sqlitePath = createRequire(import.meta.url).resolve('better-sqlite3');
    this.worker = new Worker(SQLITE_WORKER, { eval: true, workerData: { sqlitePath, file }, execArgv: [] });
    // Held open only while a script is on its way (a process waiting on nothing else may exit).
    this.worker.unref();
    this.worker.on('message', (m: { seq: number; ok: true; out: ScriptResult } | { seq: number; ok: false; message: string; code?: string }) => {
      const p = this.pending.get(m.seq);
      if (!p) return;
      this.pending.delete(m.seq);
      if (this.pending.size === 0) {
        this.worker.unref();
        this.wakeIdle();
      }
      if (m.ok) p.resolve(m.out);
      else p.reject(Object.assign(new Error(m.message), m.code === undefined ? {} : { code: m.code }));
    });
    const fail = (e: Error): void => {
      this.failed = e;
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
      this.wakeIdle();
    };
    this.worker.on('error', (e) => fail(new Error(`store: the SQLite write thread failed: ${e.message}`, { cause: e })));
    this.worker.on('exit', (code) => fail(new Error(`store: the SQLite write thread exited (code ${code})`)));
  }

  /** Scripts sent and not yet answered: while there are any, the thread may hold the write lock. */
  get pendingScripts(): number {
    return this.pending.size;
  }

  private idleWaiters: Array<() => void> = [];

  /** Resolves when no script is pending (at once when none is). */
  idle(): Promise<void> {
    if (this.pending.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private wakeIdle(): void {
    const w = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of w) resolve();
  }

  run(script: WriteScript): Promise<ScriptResult> {
    if (this.failed) return Promise.reject(this.failed);
    const seq = ++this.seq;
    return new Promise<ScriptResult>((resolve, reject) => {
      this.pending.set(seq, { resolve, reject });
      if (this.pending.size === 1) this.worker.ref();
      this.worker.postMessage({ seq, script });
    });
  }

  close(): void {
    if (!this.failed) this.failed = new Error('store: closed');
    void this.worker.terminate();
  }
}

// -------------------------------------------------------------------------------------------
// SQLite

export class SqliteConn implements SqlConn {
  readonly dialect = 'sqlite' as const;
  readonly db: Database.Database;
  private readonly stmts = new Map<string, Database.Statement>();
  private scripts: SqliteScriptWorker | undefined;

  constructor(private readonly file: string) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
  }

  private stmt(sql: string): Database.Statement {
    let s = this.stmts.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.stmts.set(sql, s);
    }
    return s;
  }

  get<T>(sql: string, ...params: unknown[]): T | undefined {
    return this.stmt(sql).get(...params) as T | undefined;
  }

  all<T>(sql: string, ...params: unknown[]): T[] {
    return this.stmt(sql).all(...params) as T[];
  }

  run(sql: string, ...params: unknown[]): { changes: number } {
    return { changes: this.stmt(sql).run(...params).changes };
  }

  runMany(sql: string, rows: readonly (readonly unknown[])[]): void {
    const s = this.stmt(sql);
    for (const r of rows) s.run(...r);
  }

  exec(sql: string): void {
    this.db.exec(sql);
  }

  tx<T>(fn: () => T, mode?: 'write' | 'snapshot'): T {
    const t = this.db.transaction(fn);
    return mode === 'write' ? t.immediate() : t();
  }

  /**
   * True while the write thread has a script to run: a write on this connection now would wait
   * (blocking the event loop) for the thread's transaction to release the file's write lock.
   */
  get writerBusy(): boolean {
    return (this.scripts?.pendingScripts ?? 0) > 0;
  }

  /** Resolves once the write thread has nothing to do (at once when it is idle). */
  writerIdle(): Promise<void> {
    return this.scripts?.idle() ?? Promise.resolve();
  }

  /** Inside a transaction of this connection (its writes must stay on it). */
  get inTx(): boolean {
    return this.db.inTransaction;
  }

  runScript(script: WriteScript): Promise<ScriptResult> {
    if (!this.db.open) return Promise.reject(new SeconetError('UNAVAILABLE', 'store: the SQLite connection is closed'));
    this.scripts ??= new SqliteScriptWorker(this.file);
    return this.scripts.run(script);
  }

  get open(): boolean {
    return this.db.open;
  }

  close(): void {
    this.scripts?.close();
    this.stmts.clear();
    if (this.db.open) this.db.close();
  }
}

// -------------------------------------------------------------------------------------------
// PostgreSQL

/** `?` placeholders to `$n` (the store's SQL has no `?` inside string literals). */
export function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

/** The schema's SQLite column types in PostgreSQL: 64-bit integers and doubles, byte-order text like SQLite's. */
export function pgSchema(sql: string): string {
  return sql
    .replace(/\s+WITHOUT ROWID/g, '')
    .replace(/\bINTEGER\b/g, 'BIGINT')
    .replace(/\bREAL\b/g, 'DOUBLE PRECISION')
    .replace(/\bTEXT\b/g, 'TEXT COLLATE "C"');
}

type Request =
  | { op: 'connect' }
  | { op: 'query'; sql: string; params: unknown[] }
  | { op: 'many'; sql: string; rows: unknown[][] }
  | { op: 'end' };

type Reply =
  | { ok: true; rows?: unknown[]; changes?: number }
  | { ok: false; message: string; code?: string; detail?: string };

// The worker: plain JavaScript evaluated as CommonJS, `pg` loaded from the path the controller
// resolved. Bigint and numeric come back as numbers (counts, sums), like better-sqlite3 gives.
const WORKER = `
const { workerData, parentPort } = require('node:worker_threads');
const pg = require(workerData.pgPath);
pg.types.setTypeParser(20, (v) => Number(v));
pg.types.setTypeParser(1700, (v) => Number(v));
const signal = new Int32Array(workerData.signal);
const port = workerData.port;
const client = new pg.Client({ connectionString: workerData.url, ...(workerData.password === undefined ? {} : { password: workerData.password }), application_name: 'seconet-controller', connectionTimeoutMillis: workerData.timeoutMs });
let broken;
client.on('error', (e) => { broken = e; });
function reply(m) {
  port.postMessage(m);
  Atomics.store(signal, 0, 1);
  Atomics.notify(signal, 0);
}
function fail(e) {
  return { ok: false, message: String(e && e.message || e), code: e && e.code, detail: e && e.detail };
}
parentPort.on('message', async (req) => {
  try {
    if (broken) throw broken;
    if (req.op === 'connect') { await client.connect(); reply({ ok: true }); }
    else if (req.op === 'query') { const r = await client.query(req.sql, req.params); reply({ ok: true, rows: r.rows, changes: r.rowCount == null ? 0 : r.rowCount }); }
    else if (req.op === 'many') { for (const p of req.rows) await client.query(req.sql, p); reply({ ok: true }); }
    else if (req.op === 'end') { await client.end().catch(() => undefined); reply({ ok: true }); }
  } catch (e) { reply(fail(e)); }
});
`;

export interface PgOptions {
  readonly url: string;
  readonly password?: string | undefined;
  /** How long one statement may take before the store reports PostgreSQL unavailable. */
  readonly timeoutMs?: number;
}

/** A PostgreSQL URL with its password hidden, for messages. */
export function redactUrl(url: string): string {
  return url.replace(/(\/\/[^:/@]*:)[^@]*@/, '$1***@');
}

export class PgConn implements SqlConn {
  readonly dialect = 'postgres' as const;
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private readonly signal = new Int32Array(new SharedArrayBuffer(4));
  private depth = 0;
  private closed = false;
  private readonly timeoutMs: number;
  private readonly texts = new Map<string, string>();

  constructor(private readonly opts: PgOptions) {
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    const pgPath = createRequire(import.meta.url).resolve('pg');
    this.worker = new Worker(WORKER, {
      eval: true,
      workerData: { pgPath, url: opts.url, password: opts.password, timeoutMs: this.timeoutMs, signal: this.signal.buffer, port: port2 },
      transferList: [port2],
      // No TypeScript loader needed in the worker: its code is plain JavaScript.
      execArgv: [],
    });
    this.worker.unref();
    try {
      this.call({ op: 'connect' });
    } catch (e) {
      this.kill();
      throw new SeconetError('UNAVAILABLE', `store.url: cannot connect to PostgreSQL at ${redactUrl(opts.url)}: ${(e as Error).message}`, { field: 'store.url', cause: e });
    }
  }

  private call(req: Request): Reply & { ok: true } {
    if (this.closed) throw new SeconetError('UNAVAILABLE', 'store: the PostgreSQL connection is closed');
    Atomics.store(this.signal, 0, 0);
    this.worker.postMessage(req);
    const waited = Atomics.wait(this.signal, 0, 0, this.timeoutMs);
    if (waited === 'timed-out') {
      // The worker may still answer later; this connection can no longer be trusted.
      this.kill();
      throw new SeconetError('UNAVAILABLE', `store: PostgreSQL at ${redactUrl(this.opts.url)} did not answer within ${this.timeoutMs} ms`, { field: 'store.url' });
    }
    const m = receiveMessageOnPort(this.port)?.message as Reply | undefined;
    if (!m) throw new SeconetError('INTERNAL', 'store: the PostgreSQL worker signalled without a reply');
    if (!m.ok) {
      const err = new Error(`PostgreSQL: ${m.message}${m.detail ? ` (${m.detail})` : ''}`) as Error & { code?: string };
      if (m.code !== undefined) err.code = m.code;
      throw err;
    }
    return m;
  }

  private text(sql: string): string {
    let t = this.texts.get(sql);
    if (t === undefined) {
      t = numbered(sql);
      this.texts.set(sql, t);
    }
    return t;
  }

  get<T>(sql: string, ...params: unknown[]): T | undefined {
    return this.call({ op: 'query', sql: this.text(sql), params }).rows?.[0] as T | undefined;
  }

  all<T>(sql: string, ...params: unknown[]): T[] {
    return (this.call({ op: 'query', sql: this.text(sql), params }).rows ?? []) as T[];
  }

  run(sql: string, ...params: unknown[]): { changes: number } {
    return { changes: this.call({ op: 'query', sql: this.text(sql), params }).changes ?? 0 };
  }

  /**
   * Rows go as multi-row INSERTs of up to 1,000 rows (one round trip each, not one per row).
   * PostgreSQL refuses an upsert that meets the same key twice in one statement, where SQLite
   * replaced row by row: rows repeating an ON CONFLICT key keep the last, as SQLite would.
   */
  runMany(sql: string, rows: readonly (readonly unknown[])[]): void {
    if (rows.length === 0) return;
    const m = /^(\s*INSERT\s+INTO\s+\w+\s*\(([^)]*)\)\s*VALUES\s*)\(([?,\s]*)\)([\s\S]*)$/i.exec(sql);
    if (!m) {
      this.call({ op: 'many', sql: this.text(sql), rows: rows.map((r) => [...r]) });
      return;
    }
    const [, head, colList, , tail] = m as unknown as [string, string, string, string, string];
    const cols = colList.split(',').map((c) => c.trim());
    const target = /ON\s+CONFLICT\s*\(([^)]*)\)\s*DO\s+UPDATE/i.exec(tail);
    let list: readonly (readonly unknown[])[] = rows;
    if (target) {
      const keyAt = target[1]!.split(',').map((c) => cols.indexOf(c.trim()));
      const byKey = new Map<string, readonly unknown[]>();
      for (const r of rows) byKey.set(JSON.stringify(keyAt.map((i) => r[i])), r);
      list = [...byKey.values()];
    }
    const width = cols.length;
    const per = Math.max(1, Math.min(1000, Math.floor(60_000 / width)));
    for (let i = 0; i < list.length; i += per) {
      const chunk = list.slice(i, i + per);
      let n = 0;
      const values = chunk.map(() => `(${Array.from({ length: width }, () => `$${++n}`).join(', ')})`).join(', ');
      this.call({ op: 'query', sql: `${head}${values}${tail}`, params: chunk.flatMap((r) => [...r]) });
    }
  }

  /** True inside tx(). */
  get inTx(): boolean {
    return this.depth > 0;
  }

  exec(sql: string): void {
    this.call({ op: 'query', sql, params: [] });
  }

  tx<T>(fn: () => T, mode?: 'write' | 'snapshot'): T {
    if (this.depth > 0) {
      this.depth++;
      try {
        return fn();
      } finally {
        this.depth--;
      }
    }
    this.exec(mode === 'snapshot' ? 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY' : 'BEGIN');
    this.depth = 1;
    try {
      const out = fn();
      this.exec('COMMIT');
      return out;
    } catch (e) {
      try {
        if (!this.closed) this.exec('ROLLBACK');
      } catch {
        // the connection is gone; the server rolls back
      }
      throw e;
    } finally {
      this.depth = 0;
    }
  }

  async runScript(script: WriteScript): Promise<ScriptResult> {
    return runScriptOn(this, script);
  }

  get open(): boolean {
    return !this.closed;
  }

  private kill(): void {
    this.closed = true;
    this.port.close();
    void this.worker.terminate();
  }

  close(): void {
    if (this.closed) return;
    try {
      this.call({ op: 'end' });
    } catch {
      // closing anyway
    }
    this.kill();
  }
}
