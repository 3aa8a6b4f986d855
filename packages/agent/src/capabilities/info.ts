// GetInfo: identity, host facts, tool versions and the capability list (driver probes plus
// workload probes). Probes create real test objects (a dummy VXLAN, a tc filter, ...), so the
// expensive part is computed once and cached; concurrent callers share the first computation
// and `refresh` recomputes on demand. Scopes are read live on every call.

import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { CapabilityReport } from '../driver.js';
import type { HostEnv } from '../host-env.js';
import type { Runner } from '../runner/runner.js';
import type { Capability } from '../gen/seconet/agent/v1/Capability.js';
import type { GetInfoResponse } from '../gen/seconet/agent/v1/GetInfoResponse.js';
import { hostFacts, type HostFacts } from './host-facts.js';
import { probeToolVersions, type ToolVersionInfo } from './tool-versions.js';
import { isTransient } from './transient.js';

export interface InfoDeps {
  readonly env: HostEnv;
  readonly runner: Runner;
  readonly log: Logger;
  /** Network, tunnel and filter probes (the reconciler's) and workload probes. */
  readonly probes: ReadonlyArray<() => Promise<CapabilityReport[]>>;
  readonly scopes: () => string[];
  /** Unix seconds. */
  readonly startedAt: number;
}

export interface InfoSource {
  getInfo(opts?: { refresh?: boolean }): Promise<GetInfoResponse>;
}

export const AGENT_VERSION: string = (() => {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
})();

export function toCapability(r: CapabilityReport): Capability {
  return {
    category: r.category,
    kind: r.kind,
    variant: r.variant === 'kernel' ? 'VARIANT_KERNEL' : 'VARIANT_USERSPACE',
    available: r.available,
    version: r.version,
    reason: r.reason,
    engine: r.engine ?? '',
    undetermined: !r.available && isTransient(r),
  };
}

interface Static {
  facts: HostFacts;
  tools: ToolVersionInfo[];
  capabilities: CapabilityReport[];
}

/** How long GetInfo keeps an answer that holds a transient capability before probing again (in the background). */
export const TRANSIENT_RETRY_MS = 15_000;

export function createInfoSource(deps: InfoDeps, opts: { retryMs?: number } = {}): InfoSource {
  let pending: Promise<Static> | undefined;
  /** When the settled answer holds a transient capability: the time to probe again; else undefined. */
  let retryAt: number | undefined;
  let retrying = false;

  const compute = async (): Promise<Static> => {
    const started = performance.now();
    const [facts, tools, ...probed] = await Promise.all([
      hostFacts(deps.env, deps.runner),
      probeToolVersions(deps.runner),
      ...deps.probes.map((p) =>
        p().catch((err: unknown) => {
          deps.log.error({ err }, 'capability probe failed');
          return [] as CapabilityReport[];
        }),
      ),
    ]);
    const capabilities = probed.flat();
    const transient = capabilities.filter(isTransient);
    retryAt = transient.length > 0 ? Date.now() + (opts.retryMs ?? TRANSIENT_RETRY_MS) : undefined;
    if (transient.length > 0) deps.log.warn({ capabilities: transient.map((c) => `${c.kind}/${c.variant}: ${c.reason}`) }, 'capability probes failed for a reason that may pass; probing again later');
    deps.log.info({ ms: Math.round(performance.now() - started), capabilities: capabilities.length }, 'host facts and capabilities probed');
    return { facts, tools, capabilities };
  };

  return {
    async getInfo(o = {}) {
      if (pending === undefined || o.refresh === true) {
        const p = compute();
        pending = p;
        p.catch(() => {
          if (pending === p) pending = undefined;
        });
      } else if (retryAt !== undefined && Date.now() >= retryAt && !retrying) {
        // Probe again in the background; callers get the answer they had until it is in.
        retrying = true;
        compute().then((s) => {
          pending = Promise.resolve(s);
        }, (err: unknown) => deps.log.warn({ err }, 'probing capabilities again failed')).finally(() => {
          retrying = false;
        });
      }
      const s = await pending;
      const { env } = deps;
      return {
        name: env.name,
        agentVersion: AGENT_VERSION,
        kernel: s.facts.kernel,
        hostname: s.facts.hostname,
        namePrefix: env.prefix,
        underlayAddress: env.underlayAddress,
        cpu: { model: s.facts.cpu.model, cores: s.facts.cpu.cores, physicalCores: s.facts.cpu.physicalCores, speedGhz: s.facts.cpu.speedGhz },
        memoryBytes: s.facts.memoryBytes,
        nics: s.facts.nics.map((n) => ({ name: n.name, mac: n.mac, mtu: n.mtu, speedMbps: n.speedMbps, addresses: n.addresses })),
        capabilities: s.capabilities.map(toCapability),
        tools: s.tools.map((t) => ({ tool: t.tool, path: t.path, version: t.version })),
        startedAt: deps.startedAt,
        scopes: deps.scopes(),
      };
    },
  };
}
