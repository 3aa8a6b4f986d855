// The start barrier of a source call: every client tool is forked held behind sn-gate
// (packages/agent/native/gate.c), each with the read end of one FIFO as its stdin, and once the
// last one is waiting, one write of a byte per client releases them all. Forking a tool from
// the agent costs 2-25 ms (more under load), so without the barrier 200 clients start seconds
// apart and their rates describe different moments; one write per call makes the release a
// single system call (a pipe per client, closed one by one, cost ~2.6 ms each: 2.6 s for
// 1,000). Used for engines whose source runs exactly one process per pair (iperf3, uperf); a
// call of one pair, or a host without the built helper, starts tools at once as before (the
// controller's common window still measures the spread).

import { closeSync, constants, existsSync, openSync, writeSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Engine as EngineName } from '@seconet/core';
import type { Runner } from '../runner/runner.js';
import { toolPath } from '../runner/tools.js';

/** The helper the build compiles (`npm run native`); empty when bundled without a module URL. */
export const GATE_BINARY = typeof import.meta.url === 'string' ? fileURLToPath(new URL('../../native/sn-gate', import.meta.url)) : '';

/** The helper's path when it is built, else undefined (no barrier). */
export function builtGate(): string | undefined {
  return GATE_BINARY !== '' && existsSync(GATE_BINARY) ? GATE_BINARY : undefined;
}

/** Engines whose runSource starts exactly one process per pair: the one the barrier holds. */
export const GATED_ENGINES: ReadonlySet<EngineName> = new Set<EngineName>(['iperf3', 'uperf']);

/**
 * Counts the pairs of a call: each either arrives (its tool is forked, waiting on `stdinFd`)
 * or forfeits (it failed before forking). When every pair has done one or the other, one write
 * releases every waiting tool, and `releasedAt` (epoch seconds) is the pairs' common start. A
 * call that is stopped before then never releases: stopping kills the waiting gates by PID, and
 * close() (or the agent's death) ends the FIFO, so a gate still waiting exits without its tool.
 */
export class StartBarrier {
  /** The FIFO's read end: every held tool's stdin. */
  readonly stdinFd: number;
  private readonly writeFd: number;
  private arrived = 0;
  private pending: number;
  private closed = false;
  /** When the tools were released (epoch seconds); undefined until then. */
  releasedAt: number | undefined;

  private constructor(private readonly gate: string, pairs: number, readFd: number, writeFd: number) {
    this.pending = pairs;
    this.stdinFd = readFd;
    this.writeFd = writeFd;
  }

  /** A barrier for `pairs` pairs held by the `gate` helper, on a new FIFO at `path` (in the call's private work directory). */
  static async open(runner: Runner, gate: string, path: string, pairs: number): Promise<StartBarrier> {
    await runner.run(['mkfifo', '-m', '600', path], { timeoutMs: 10_000 });
    // Non-blocking opens: the read end first (no writer yet), then the write end (a reader exists).
    const readFd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    try {
      return new StartBarrier(gate, pairs, readFd, openSync(path, constants.O_WRONLY | constants.O_NONBLOCK));
    } catch (e) {
      closeSync(readFd);
      throw e;
    }
  }

  /** `argv` run behind the gate: `sn-gate TOOL ARGS...`, the tool by its absolute path. */
  held(argv: readonly string[]): string[] {
    return [this.gate, toolPath(argv[0]!), ...argv.slice(1)];
  }

  /** A pair's tool is forked and waits. */
  arrive(): void {
    this.arrived += 1;
    this.settle();
  }

  /** A pair will not arrive (it failed before its tool was forked). */
  forfeit(): void {
    this.settle();
  }

  /** Closes the FIFO's ends (the tools hold their own); a gate still waiting then exits without its tool. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.writeFd);
    closeSync(this.stdinFd);
  }

  private settle(): void {
    this.pending -= 1;
    if (this.pending > 0 || this.releasedAt !== undefined || this.closed) return;
    this.releasedAt = Date.now() / 1000;
    // One byte per waiting tool in one write (at most 1,024 pairs per call: within a pipe's 64 KiB).
    if (this.arrived > 0) writeSync(this.writeFd, Buffer.alloc(this.arrived, 0x67));
    this.close();
  }
}
