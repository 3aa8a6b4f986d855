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
  };
}

interface Static {
  facts: HostFacts;
  tools: ToolVersionInfo[];
  capabilities: CapabilityReport[];
}

export function createInfoSource(deps: InfoDeps): InfoSource {
  let pending: Promise<Static> | undefined;

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
    deps.log.info({ ms: Math.round(performance.now() - started), capabilities: probed.flat().length }, 'host facts and capabilities probed');
    return { facts, tools, capabilities: probed.flat() };
  };

  return {
    async getInfo(opts = {}) {
      if (pending === undefined || opts.refresh === true) {
        const p = compute();
        pending = p;
        p.catch(() => {
          if (pending === p) pending = undefined;
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
