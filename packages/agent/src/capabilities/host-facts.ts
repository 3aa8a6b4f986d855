// Static facts about the host for GetInfo: CPU, memory, kernel, and the NICs of the namespace
// the agent acts in. systeminformation is fine for these one-off facts (it shells out and is
// slow, so never for sampling). NICs come from `ip -j addr` in env.hostNetns, because in the
// lab the agent process sits in the root namespace while its host is a namespace; the
// agent's own objects (veths, bridges, tunnels with its prefix) are left out.

import { hostname, release } from 'node:os';
import si from 'systeminformation';
import type { HostEnv } from '../host-env.js';
import type { Runner } from '../runner/runner.js';

export interface NicFacts {
  readonly name: string;
  readonly mac: string;
  readonly mtu: number;
  readonly speedMbps: number;
  readonly addresses: string[];
}

export interface HostFacts {
  readonly kernel: string;
  readonly hostname: string;
  readonly cpu: { model: string; cores: number; physicalCores: number; speedGhz: number };
  readonly memoryBytes: number;
  readonly nics: NicFacts[];
}

interface IpAddrJson {
  ifname?: string;
  address?: string;
  mtu?: number;
  addr_info?: Array<{ family?: string; local?: string; prefixlen?: number }>;
}

export async function listNics(env: HostEnv, runner: Runner): Promise<NicFacts[]> {
  const r = await runner.run(['ip', '-j', 'addr', 'show'], { netns: env.hostNetns, timeoutMs: 10_000 });
  const links = JSON.parse(r.stdout || '[]') as IpAddrJson[];
  const speeds = new Map<string, number>();
  if (env.hostNetns === undefined) {
    const ifs = await si.networkInterfaces().catch(() => []);
    for (const i of Array.isArray(ifs) ? ifs : [ifs]) if (typeof i.speed === 'number') speeds.set(i.iface, i.speed);
  }
  return links
    .filter((l) => typeof l.ifname === 'string' && l.ifname !== 'lo' && !l.ifname.startsWith(env.prefix))
    .map((l) => ({
      name: l.ifname!,
      mac: l.address ?? '',
      mtu: l.mtu ?? 0,
      speedMbps: speeds.get(l.ifname!) ?? 0,
      addresses: (l.addr_info ?? []).filter((a) => a.local !== undefined).map((a) => `${a.local}/${a.prefixlen ?? 0}`),
    }));
}

export async function hostFacts(env: HostEnv, runner: Runner): Promise<HostFacts> {
  const [cpu, mem, nics] = await Promise.all([si.cpu(), si.mem(), listNics(env, runner)]);
  return {
    kernel: release(),
    hostname: hostname(),
    cpu: {
      model: [cpu.manufacturer, cpu.brand].filter((s) => s && s.length > 0).join(' '),
      cores: cpu.cores,
      physicalCores: cpu.physicalCores,
      speedGhz: cpu.speedMax > 0 ? cpu.speedMax : cpu.speed,
    },
    memoryBytes: mem.total,
    nics,
  };
}
