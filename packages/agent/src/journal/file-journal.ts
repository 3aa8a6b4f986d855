// The on-disk journal: one JSON file per scope under <stateDir>/journal/, rewritten atomically
// on every change (temporary file, fsync, rename, fsync of the directory), so a crash at any
// point leaves either the old or the new content, never a torn file. Writes of one scope are
// serialised through a promise chain; the whole file is small (a few hundred objects), so
// rewriting it is cheaper and simpler than an append log with compaction.

import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { NAME_RE } from '@seconet/core';
import type { ScopeJournal, ScopeStatus } from './journal.js';
import type { OwnedObject } from './objects.js';

interface JournalFile {
  readonly version: 1;
  readonly scope: string;
  readonly status: ScopeStatus;
  readonly objects: readonly OwnedObject[];
  readonly desired: { digest: string; state: unknown } | null;
  readonly notes: Record<string, unknown>;
}

/** A canonical key of an object (sorted keys), for de-duplication. */
export function objectKey(o: OwnedObject): string {
  return JSON.stringify(o, (_k, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Writes `text` to `path` atomically and durably. */
export async function writeFileAtomic(path: string, text: string, mode = 0o600): Promise<void> {
  const dir = path.slice(0, path.lastIndexOf('/')) || '/';
  const tmp = `${path}.tmp-${process.pid}`;
  const fh = await open(tmp, 'w', mode);
  try {
    await fh.writeFile(text, 'utf8');
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
  await fsyncDir(dir);
}

export class FileJournal implements ScopeJournal {
  private objs: OwnedObject[] = [];
  private keys = new Set<string>();
  private st: ScopeStatus = 'applying';
  private des: { digest: string; state: unknown } | undefined;
  private notes: Record<string, unknown> = {};
  private chain: Promise<void> = Promise.resolve();
  private pending: Promise<void> | undefined;
  private removed = false;

  constructor(
    readonly scope: string,
    readonly path: string,
    from?: JournalFile,
  ) {
    if (from) {
      this.st = from.status;
      this.des = from.desired ?? undefined;
      this.notes = { ...from.notes };
      for (const o of from.objects) this.add(o);
    }
  }

  private add(o: OwnedObject): boolean {
    const k = objectKey(o);
    if (this.keys.has(k)) return false;
    this.keys.add(k);
    this.objs.push(o);
    return true;
  }

  private snapshot(): JournalFile {
    return { version: 1, scope: this.scope, status: this.st, objects: [...this.objs], desired: this.des ?? null, notes: { ...this.notes } };
  }

  /**
   * Queues a write; resolves when a write that started after this call is on disk. Changes
   * made while a write is queued but not started share it (the snapshot is taken when the
   * write starts), so concurrent changes cost one fsync.
   */
  flush(): Promise<void> {
    if (this.pending !== undefined) return this.pending;
    const next = this.chain.then(async () => {
      this.pending = undefined;
      if (this.removed) return;
      await writeFileAtomic(this.path, JSON.stringify(this.snapshot(), null, 1) + '\n');
    });
    this.pending = next;
    this.chain = next.catch(() => undefined);
    return next;
  }

  status(): ScopeStatus {
    return this.st;
  }
  objects(): readonly OwnedObject[] {
    return this.objs;
  }
  async record(obj: OwnedObject): Promise<void> {
    if (this.add(obj)) await this.flush();
  }
  async recordAll(objs: readonly OwnedObject[]): Promise<void> {
    let changed = false;
    for (const o of objs) changed = this.add(o) || changed;
    if (changed) await this.flush();
  }
  async forget(obj: OwnedObject): Promise<void> {
    await this.forgetAll([obj]);
  }
  async forgetAll(objs: readonly OwnedObject[]): Promise<void> {
    const drop = new Set(objs.map(objectKey).filter((k) => this.keys.has(k)));
    if (drop.size === 0) return;
    this.objs = this.objs.filter((o) => !drop.has(objectKey(o)));
    for (const k of drop) this.keys.delete(k);
    await this.flush();
  }
  async setStatus(status: ScopeStatus): Promise<void> {
    this.st = status;
    await this.flush();
  }
  desired(): { digest: string; state: unknown } | undefined {
    return this.des;
  }
  async setDesired(digest: string, state: unknown): Promise<void> {
    this.des = { digest, state };
    await this.flush();
  }
  note(key: string): unknown {
    return this.notes[key];
  }
  async setNote(key: string, value: unknown): Promise<void> {
    this.notes[key] = value;
    await this.flush();
  }

  /** Deletes the file after pending writes; later changes are not written. */
  async delete(): Promise<void> {
    this.removed = true;
    await this.chain;
    await rm(this.path, { force: true });
    await fsyncDir(this.path.slice(0, this.path.lastIndexOf('/')));
  }
}

/** All scope journals of one agent, under <stateDir>/journal/. */
export class Journal {
  readonly dir: string;
  private readonly open_ = new Map<string, FileJournal>();

  constructor(stateDir: string) {
    this.dir = join(stateDir, 'journal');
  }

  /** Reads every scope file (call once at start). Unreadable files are reported, not fatal. */
  load(): { loaded: string[]; broken: Array<{ file: string; error: string }> } {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const loaded: string[] = [];
    const broken: Array<{ file: string; error: string }> = [];
    for (const f of readdirSync(this.dir)) {
      // A crash between writing and renaming leaves a temporary file; the .json it was to replace is intact.
      if (/\.json\.tmp-\d+$/.test(f)) {
        rmSync(join(this.dir, f), { force: true });
        continue;
      }
      if (!f.endsWith('.json')) continue;
      const scope = f.slice(0, -'.json'.length);
      try {
        if (!NAME_RE.test(scope)) throw new Error('file name is not a scope name');
        const data = JSON.parse(readFileSync(join(this.dir, f), 'utf8')) as JournalFile;
        if (data.version !== 1 || data.scope !== scope || !Array.isArray(data.objects)) throw new Error('not a seconet journal (version 1)');
        this.open_.set(scope, new FileJournal(scope, join(this.dir, f), data));
        loaded.push(scope);
      } catch (e) {
        broken.push({ file: join(this.dir, f), error: e instanceof Error ? e.message : String(e) });
      }
    }
    return { loaded, broken };
  }

  /** The journal of a scope, created (status "applying", written to disk) when new. */
  async open(scope: string): Promise<FileJournal> {
    if (!NAME_RE.test(scope)) throw new Error(`bad scope name ${JSON.stringify(scope)}`);
    const hit = this.open_.get(scope);
    if (hit) return hit;
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const j = new FileJournal(scope, join(this.dir, `${scope}.json`));
    this.open_.set(scope, j);
    await j.flush();
    return j;
  }

  get(scope: string): FileJournal | undefined {
    return this.open_.get(scope);
  }

  scopes(): string[] {
    return [...this.open_.keys()].sort();
  }

  /** Forgets a scope and deletes its file. */
  async remove(scope: string): Promise<void> {
    const j = this.open_.get(scope);
    this.open_.delete(scope);
    if (j) await j.delete();
    else await rm(join(this.dir, `${scope}.json`), { force: true });
  }
}
