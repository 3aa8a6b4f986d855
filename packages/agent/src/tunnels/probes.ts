// Probes: once per process and kind, each creating a real object in a throwaway namespace so
// "available" means the kernel accepted it; a failure that is not the kernel's answer says so.

import type { CapabilityReport, ProbeContext, VariantName } from '../driver.js';
import { withProbeNetns } from '../netns/probe-netns.js';
import { isTransient } from '../capabilities/transient.js';

const probeCache = new Map<string, Promise<CapabilityReport[]>>();

/**
 * Probes once per process and kind; later calls get the same answer, except an answer that
 * came from a failure that may pass (capabilities/transient.ts): that kind is probed again.
 */
export function cachedProbe(kind: string, fn: () => Promise<CapabilityReport[]>): Promise<CapabilityReport[]> {
  const hit = probeCache.get(kind);
  if (hit) return hit.then((reports) => (reports.some(isTransient) && probeCache.get(kind) === hit ? fresh(kind, fn) : reports));
  return fresh(kind, fn);
}

function fresh(kind: string, fn: () => Promise<CapabilityReport[]>): Promise<CapabilityReport[]> {
  const p = fn();
  probeCache.set(kind, p);
  p.catch(() => probeCache.delete(kind));
  return p;
}

/** For tests: forget cached probe results. */
export function resetProbeCache(): void {
  probeCache.clear();
}

export function report(kind: string, variant: VariantName, available: boolean, version: string, reason: string): CapabilityReport {
  return { category: 'tunnel', kind, variant, available, version, reason: available ? '' : reason };
}

/** The kernel release (`uname -r`), or `unknown (<why>)` when it could not be read. */
export async function kernelRelease(ctx: ProbeContext): Promise<string> {
  try {
    return (await ctx.runner.run(['uname', '-r'], { timeoutMs: 10_000 })).stdout.trim();
  } catch (e) {
    return `unknown (${e instanceof Error ? e.message : String(e)})`;
  }
}

/** Why a probe command failed: its kind (NotSupported = the kernel refused the feature) and its last line of stderr. */
export interface ProbeFailure {
  readonly kind: string;
  readonly message: string;
}

export function probeFailure(e: unknown): ProbeFailure {
  const err = e as { kind?: string; stderr?: string; message?: string };
  const text = (err.stderr || err.message || String(e)).trim().split('\n').slice(-1)[0] || 'failed';
  return { kind: err.kind ?? 'Failed', message: text };
}

/**
 * Creates `ip link add <name> type <type> ...` in a throwaway namespace and deletes it.
 * Returns undefined on success, or why it failed.
 */
export async function probeLinkType(ctx: ProbeContext, type: string, extra: readonly string[]): Promise<ProbeFailure | undefined> {
  return withProbeNetns(ctx, async (ns) => {
    const name = `${ctx.env.prefix}probe`;
    try {
      await ctx.runner.run(['ip', '-n', ns, 'link', 'add', name, 'type', type, ...extra]);
      await ctx.runner.run(['ip', '-n', ns, 'link', 'del', name]);
      return undefined;
    } catch (e) {
      return probeFailure(e);
    }
  });
}

/** Creates and deletes a TUN device in a throwaway namespace: userspace daemons need /dev/net/tun. Undefined on success, else why not. */
export async function probeTun(ctx: ProbeContext): Promise<string | undefined> {
  return withProbeNetns(ctx, async (ns) => {
    const name = `${ctx.env.prefix}probe`;
    try {
      await ctx.runner.run(['ip', '-n', ns, 'tuntap', 'add', 'dev', name, 'mode', 'tun']);
      await ctx.runner.run(['ip', '-n', ns, 'link', 'del', name]);
      return undefined;
    } catch (e) {
      return probeFailure(e).message;
    }
  });
}

/**
 * Probe result for a kernel link type: available, or the reason with what to do. "Kernel
 * lacks" only when the kernel refused the type; any other failure (a timeout, a refused
 * command) is reported as what it was.
 */
export async function kernelLinkReport(ctx: ProbeContext, kind: string, type: string, config: string, extra: readonly string[], remedy = 'use a full kernel or the userspace variant'): Promise<CapabilityReport> {
  const release = await kernelRelease(ctx);
  const err = await probeLinkType(ctx, type, extra);
  if (err === undefined) return report(kind, 'kernel', true, release, '');
  if (err.kind === 'NotSupported') return report(kind, 'kernel', false, release, `kernel lacks ${config} (ip link add type ${type}: ${err.message}); ${remedy}`);
  return report(kind, 'kernel', false, release, `the probe for ${config} failed (${err.kind}) without an answer from the kernel: ip link add type ${type}: ${err.message}`);
}
