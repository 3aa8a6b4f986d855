// A capability probe that failed because a command timed out (or a daemon it started did not
// answer before the agent's own deadline: TIMEOUT), was cancelled, found a device
// busy or the host out of processes or memory did not get the kernel's answer: on a loaded
// host (or a guest under emulation) the same probe succeeds a minute later. Such an answer is
// marked transient and never kept: the per-kind probe caches probe again on the next call, and
// GetInfo probes again in the background after a short wait, so a slow first minute does not
// hide a kernel feature for the agent's whole life (before, a timed-out BPF or xfrm probe at
// start left the filter or the kernel IPsec variant "unavailable" until the agent restarted).
// A report is marked by identity (a WeakSet), so every cache holding it sees the mark.

import type { CapabilityReport, ProbeContext } from '../driver.js';
import { SeconetError } from '@seconet/core';
import { CommandError, type CommandFailureKind } from '../runner/errors.js';
import type { Runner } from '../runner/runner.js';

/** Failure kinds that say nothing about what the kernel or the host supports. */
export const TRANSIENT_KINDS: ReadonlySet<CommandFailureKind> = new Set<CommandFailureKind>(['TimedOut', 'Cancelled', 'Busy', 'ResourcesExhausted']);

/** Whether `e` is a failure that may pass: a command of a transient kind, or a deadline of the agent's own (TIMEOUT) or a cancellation. */
export function isTransientFailure(e: unknown): boolean {
  if (e instanceof CommandError) return TRANSIENT_KINDS.has(e.kind);
  return e instanceof SeconetError && (e.code === 'TIMEOUT' || e.code === 'CANCELLED');
}

const marked = new WeakSet<CapabilityReport>();

/** Whether this (unavailable) answer came from a failure that may pass. */
export function isTransient(r: CapabilityReport): boolean {
  return marked.has(r);
}

/** The answer of a probe that threw `e`: marked when `e` is a failure that may pass. */
export function failedProbe(r: CapabilityReport, e: unknown): CapabilityReport {
  if (isTransientFailure(e)) marked.add(r);
  return r;
}

/** Runs `probe` with a runner that notes transient command failures; marks the unavailable answers of a probe that met one. */
export async function probeNotingTransient(ctx: ProbeContext, probe: (ctx: ProbeContext) => Promise<CapabilityReport[]>): Promise<CapabilityReport[]> {
  let transient = false;
  const note = (e: unknown): never => {
    if (isTransientFailure(e)) transient = true;
    throw e;
  };
  const runner: Runner = {
    run: (argv, opts) => ctx.runner.run(argv, opts).catch(note),
    spawn: (argv, opts) => ctx.runner.spawn(argv, opts),
  };
  const reports = await probe({ ...ctx, runner });
  if (transient) for (const r of reports) if (!r.available) marked.add(r);
  return reports;
}
