// The start barrier of a source call: every client tool is forked held behind sn-gate
// (packages/agent/native/gate.c), and once the last one is waiting they are all released
// together. Forking a tool from the agent costs 5-25 ms (and more under load), so without the
// barrier 200 clients start seconds apart and their rates describe different moments; released
// together, they start within milliseconds. Used for engines whose source runs exactly one
// process per pair (iperf3, uperf); a call of one pair, or a host without the built helper,
// starts tools at once as before (the controller's common window still measures the spread).

import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Engine as EngineName } from '@seconet/core';

/** The helper the build compiles (`npm run native`); empty when bundled without a module URL. */
export const GATE_BINARY = typeof import.meta.url === 'string' ? fileURLToPath(new URL('../../native/sn-gate', import.meta.url)) : '';

/** The helper's path when it is built, else undefined (no barrier). */
export function builtGate(): string | undefined {
  return GATE_BINARY !== '' && existsSync(GATE_BINARY) ? GATE_BINARY : undefined;
}

/** Engines whose runSource starts exactly one process per pair: the one the barrier holds. */
export const GATED_ENGINES: ReadonlySet<EngineName> = new Set<EngineName>(['iperf3', 'uperf']);

export interface Held {
  release?(): void;
}

/**
 * Counts the pairs of a call: each either arrives (its tool is forked and held) or forfeits (it
 * failed before forking). When every pair has done one or the other, every held tool is
 * released in one tight loop, and `releasedAt` (epoch seconds) is the pairs' common start. A
 * call that is stopped before then never releases: stopping kills the held gates by PID.
 */
export class StartBarrier {
  private readonly held: Held[] = [];
  private pending: number;
  /** When the tools were released (epoch seconds); undefined until then. */
  releasedAt: number | undefined;

  constructor(pairs: number) {
    this.pending = pairs;
  }

  /** A pair's tool is forked and waits. */
  arrive(p: Held): void {
    this.held.push(p);
    this.settle();
  }

  /** A pair will not arrive (it failed before its tool was forked). */
  forfeit(): void {
    this.settle();
  }

  private settle(): void {
    this.pending -= 1;
    if (this.pending > 0 || this.releasedAt !== undefined) return;
    this.releasedAt = Date.now() / 1000;
    for (const p of this.held) p.release?.();
    this.held.length = 0;
  }
}
