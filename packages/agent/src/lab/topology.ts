// The lab's hosts on one machine: each host is a network namespace whose eth0 joins an
// underlay bridge. The bridge lives in a switch namespace of its own, so the lab never touches
// the machine's root namespace; agents and the controller (in the root namespace) talk over
// loopback. Underlay addresses come from 198.18.0.0/24 (host i: 198.18.0.i).

import { randomBytes } from 'node:crypto';
import { shortHash, underlayAddress } from '@seconet/core';
import type { Runner } from '../runner/runner.js';
import { prefixesInUse } from '../server/state-lock.js';

export interface LabHost {
  readonly name: string;       // "h1", "h2", ...
  readonly index: number;      // 1-based
  readonly netns: string;      // the host namespace
  readonly underlayDev: string;
  readonly underlayAddress: string;
  /** Object-name prefix for this host's agent. */
  readonly prefix: string;
}

export interface LabTopology {
  readonly id: string;
  readonly switchNetns: string;
  readonly hosts: readonly LabHost[];
}

export const LAB_NETNS_PREFIX = 'snlb';

/**
 * A new lab id whose first `hosts` agent prefixes differ from each other and from every prefix
 * a live agent holds on this machine. With only 1,296 prefixes, two labs running at once (tests
 * run two files at a time) would otherwise meet now and then, and the second lab's agent would
 * refuse to start on the first one's prefix (and share its object names).
 */
export function randomLabId(hosts = 4): string {
  const taken = prefixesInUse();
  for (;;) {
    const id = randomBytes(4).toString('hex').slice(0, 6);
    const prefixes = Array.from({ length: hosts }, (_, i) => labPrefix(id, i + 1));
    if (new Set(prefixes).size === hosts && prefixes.every((p) => !taken.has(p))) return id;
  }
}

/** Agent prefix "sn" + 2 characters derived from the lab id and host index, never "lb". */
export function labPrefix(id: string, index: number): string {
  for (let salt = 0; ; salt++) {
    const p = `sn${shortHash([id, String(index), String(salt)], 2)}`;
    if (p !== 'snlb') return p;
  }
}

export function describeLab(id: string, hosts: number): LabTopology {
  if (!/^[a-z0-9]{1,6}$/.test(id)) throw new Error(`lab id ${JSON.stringify(id)}: use 1-6 lowercase letters or digits`);
  if (!Number.isInteger(hosts) || hosts < 1 || hosts > 32) throw new Error(`lab hosts ${hosts}: use 1-32`);
  return {
    id,
    switchNetns: `${LAB_NETNS_PREFIX}${id}sw`,
    hosts: Array.from({ length: hosts }, (_, i) => ({
      name: `h${i + 1}`,
      index: i + 1,
      netns: `${LAB_NETNS_PREFIX}${id}h${i + 1}`,
      underlayDev: 'eth0',
      underlayAddress: underlayAddress(i + 1),
      prefix: labPrefix(id, i + 1),
    })),
  };
}

/** Creates the switch and host namespaces; on failure removes what it made. */
export async function createLab(runner: Runner, id: string, hosts: number): Promise<LabTopology> {
  const topo = describeLab(id, hosts);
  try {
    await runner.run(['ip', 'netns', 'add', topo.switchNetns]);
    const sw = ['-n', topo.switchNetns];
    const lines: string[] = [
      'link set lo up',
      'link add br0 type bridge',
      'link set br0 up',
    ];
    for (const h of topo.hosts) await runner.run(['ip', 'netns', 'add', h.netns]);
    for (const h of topo.hosts) {
      lines.push(`link add u${h.index} type veth peer name ${h.underlayDev} netns ${h.netns}`);
      lines.push(`link set u${h.index} master br0 up`);
    }
    await runner.run(['ip', ...sw, '-batch', '-'], { stdin: lines.join('\n') + '\n' });
    for (const h of topo.hosts) {
      await runner.run(['ip', '-n', h.netns, '-batch', '-'], {
        stdin: ['link set lo up', `addr add ${h.underlayAddress}/24 dev ${h.underlayDev}`, `link set ${h.underlayDev} up`].join('\n') + '\n',
      });
    }
    return topo;
  } catch (e) {
    await destroyLab(runner, topo);
    throw e;
  }
}

/** Removes the lab's namespaces (their links go with them). Succeeds when already gone. */
export async function destroyLab(runner: Runner, topo: Pick<LabTopology, 'switchNetns' | 'hosts'>): Promise<void> {
  for (const ns of [...topo.hosts.map((h) => h.netns), topo.switchNetns]) {
    await runner.run(['ip', 'netns', 'del', ns]).catch(() => undefined);
  }
}

/** Lab namespaces left on the machine (a crashed lab or test), for `lab up` to clean first. */
export async function listLabNamespaces(runner: Runner, id?: string): Promise<string[]> {
  const r = await runner.run(['ip', 'netns', 'list']);
  return r.stdout
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter((n) => n.startsWith(LAB_NETNS_PREFIX + (id ?? '')));
}
