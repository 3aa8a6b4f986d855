// An in-memory ScopeJournal for unit tests and for callers that need no crash safety.

import { isDeepStrictEqual } from 'node:util';
import type { ScopeJournal, ScopeStatus } from './journal.js';
import type { OwnedObject } from './objects.js';

export class MemoryJournal implements ScopeJournal {
  private readonly objs: OwnedObject[] = [];
  private st: ScopeStatus = 'applying';
  private des: { digest: string; state: unknown } | undefined;
  private readonly notes = new Map<string, unknown>();

  constructor(readonly scope: string) {}

  status(): ScopeStatus {
    return this.st;
  }
  objects(): readonly OwnedObject[] {
    return this.objs;
  }
  async record(obj: OwnedObject): Promise<void> {
    if (!this.objs.some((o) => isDeepStrictEqual(o, obj))) this.objs.push(obj);
  }
  async recordAll(objs: readonly OwnedObject[]): Promise<void> {
    for (const o of objs) await this.record(o);
  }
  async forgetAll(objs: readonly OwnedObject[]): Promise<void> {
    for (const o of objs) await this.forget(o);
  }
  async forget(obj: OwnedObject): Promise<void> {
    const i = this.objs.findIndex((o) => isDeepStrictEqual(o, obj));
    if (i >= 0) this.objs.splice(i, 1);
  }
  async setStatus(status: ScopeStatus): Promise<void> {
    this.st = status;
  }
  desired(): { digest: string; state: unknown } | undefined {
    return this.des;
  }
  async setDesired(digest: string, state: unknown): Promise<void> {
    this.des = { digest, state };
  }
  note(key: string): unknown {
    return this.notes.get(key);
  }
  async setNote(key: string, value: unknown): Promise<void> {
    this.notes.set(key, value);
  }
}
