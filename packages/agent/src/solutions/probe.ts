// Shared pieces of the network solutions' probe and check: whether `ip` can create a device
// kind in this kernel (tried in a throwaway namespace, never in the host's), and drift of a
// host-namespace link.

import { randomBytes } from 'node:crypto';
import type { CapabilityReport, DriftReport, ProbeContext } from '../driver.js';
import type { LinkInfo } from '../netns/ip-batch.js';
import { isTransient } from '../capabilities/transient.js';

const cache = new Map<string, { at: number; report: Promise<CapabilityReport> }>();
/** Kernel facts do not change while the agent runs; GetInfo may be called often. */
const PROBE_TTL_MS = 5 * 60_000;

/** Tries `ip link add x type <linkType>` in a temporary namespace (cached per agent prefix for a few minutes). */
export function probeKernel(ctx: ProbeContext, kind: string, linkType: string): Promise<CapabilityReport> {
  const key = `${ctx.env.prefix}/${kind}/${linkType}`;
  const hit = cache.get(key);
  if (hit && Date.now() - hit.at < PROBE_TTL_MS) return hit.report.then((r) => (isTransient(r) && cache.get(key) === hit ? probeKernelFresh(ctx, key, kind, linkType) : r));
  return probeKernelFresh(ctx, key, kind, linkType);
}

/** Probes now and keeps the answer (an answer from a failure that may pass is probed again on the next call: capabilities/transient.ts). */
function probeKernelFresh(ctx: ProbeContext, key: string, kind: string, linkType: string): Promise<CapabilityReport> {
  const report = probeKernelNow(ctx, kind, linkType);
  cache.set(key, { at: Date.now(), report });
  return report;
}

async function probeKernelNow(ctx: ProbeContext, kind: string, linkType: string): Promise<CapabilityReport> {
  const ns = `${ctx.env.prefix}q${randomBytes(4).toString('hex')}`;
  const base = { category: 'network' as const, kind, variant: 'kernel' as const };
  try {
    const v = (await ctx.runner.run(['ip', '-V'])).stdout.trim();
    await ctx.runner.run(['ip', 'netns', 'add', ns]);
    try {
      await ctx.runner.run(['ip', '-n', ns, 'link', 'add', 'probe0', 'type', linkType]);
    } finally {
      await ctx.runner.run(['ip', 'netns', 'del', ns]).catch(() => undefined);
    }
    return { ...base, available: true, version: v, reason: '' };
  } catch (e) {
    return { ...base, available: false, version: '', reason: `cannot create a ${linkType} device: ${e instanceof Error ? e.message : String(e)}` };
  }
}

/** Drift of one host link that must exist, be up and (optionally) be of a kind. */
export function hostLinkDrift(links: ReadonlyMap<string, LinkInfo>, name: string, kind?: string): DriftReport[] {
  const l = links.get(name);
  if (l === undefined) return [{ object: `link ${name}`, expected: kind ?? 'present', observed: 'missing' }];
  if (kind !== undefined && l.kind !== kind) return [{ object: `link ${name}`, expected: kind, observed: l.kind ?? 'plain' }];
  if (!l.up) return [{ object: `link ${name}`, expected: 'up', observed: 'down' }];
  return [];
}
