// Change detection: a digest of each driver's desired state and the objects it made for it,
// kept in the journal notes, so a changed spec removes what is no longer wanted.

import { createHash } from 'node:crypto';
import type { DriverContext } from '../driver.js';
import type { OwnedObject } from '../journal/objects.js';
import { removeObject } from '../journal/undo.js';
import { isDeepStrictEqual } from 'node:util';

export function digest(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 32);
}

export function noteKey(kind: string, part: string): string {
  return `tunnel.${kind}.${part}`;
}

/** What a driver applied last: the digest of its desired state and the objects it made for it. */
export interface AppliedNote {
  readonly digest: string;
  readonly objects: readonly OwnedObject[];
}

export function appliedNote(ctx: DriverContext, kind: string): AppliedNote | undefined {
  const n = ctx.journal.note(noteKey(kind, 'applied')) as AppliedNote | undefined;
  return n && typeof n.digest === 'string' && Array.isArray(n.objects) ? n : undefined;
}

/** Removes what the previous apply made and the new one no longer wants (a peer left, a route moved). */
export async function dropStale(ctx: DriverContext, prev: AppliedNote | undefined, next: readonly OwnedObject[]): Promise<void> {
  if (!prev) return;
  const stale = prev.objects.filter((o) => !next.some((n) => isDeepStrictEqual(n, o))).reverse();
  for (const o of stale) {
    await removeObject({ runner: ctx.runner, env: ctx.env, log: ctx.log }, o);
    await ctx.journal.forget(o);
  }
}
