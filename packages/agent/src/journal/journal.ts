// The scope journal: what the agent created for a scope, written to disk (fsync'd) before the
// create command runs and before Apply answers. After a crash the agent rebuilds its view
// from the journal and the kernel, never from memory; teardown replays it in reverse.

import type { OwnedObject } from './objects.js';

export type ScopeStatus = 'applying' | 'applied' | 'removing';

export interface ScopeJournal {
  readonly scope: string;
  status(): ScopeStatus;
  /** Objects in creation order. */
  objects(): readonly OwnedObject[];
  /** Records an object before it is created (idempotent: the same object twice is kept once). */
  record(obj: OwnedObject): Promise<void>;
  /** Records several objects with one write (the batched create paths). */
  recordAll(objs: readonly OwnedObject[]): Promise<void>;
  /** Drops an object after it was removed. */
  forget(obj: OwnedObject): Promise<void>;
  /** Drops several removed objects with one write. */
  forgetAll(objs: readonly OwnedObject[]): Promise<void>;
  setStatus(status: ScopeStatus): Promise<void>;
  /** The last applied desired state (secrets replaced by their hashes) and its digest. */
  desired(): { digest: string; state: unknown } | undefined;
  setDesired(digest: string, state: unknown): Promise<void>;
  /** Free-form per-driver notes (e.g. the variant chosen), kept with the scope. */
  note(key: string): unknown;
  setNote(key: string, value: unknown): Promise<void>;
}
