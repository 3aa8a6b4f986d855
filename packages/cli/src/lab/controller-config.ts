// The controller configuration the lab writes for `seconet controller --config FILE`: its agents
// (one per lab host, mTLS with the lab PKI), its own Redis, its data directory and the REST API
// on loopback with the lab's token file.

import type { LabPki } from '@seconet/agent';
import { join } from 'node:path';
import type { LabHostRecord } from './lab-state.js';

export interface LabControllerConfigInput {
  readonly dir: string;
  readonly apiPort: number;
  readonly tokenFile: string;
  readonly redisPort: number;
  readonly pki: LabPki;
  readonly hosts: readonly LabHostRecord[];
  /** What the agents run on, for result provenance (default netns-lab). */
  readonly hostKind?: 'netns-lab' | 'vm-kvm' | 'vm-tcg';
}

/** A document for parseControllerConfig (packages/controller/src/config.ts). */
export function controllerConfig(i: LabControllerConfigInput): Record<string, unknown> {
  const tls = { ca: i.pki.ca.cert, cert: i.pki.controller.cert, key: i.pki.controller.key };
  return {
    redis: { url: `redis://127.0.0.1:${i.redisPort}`, prefix: 'seconet-lab' },
    store: { dir: join(i.dir, 'data') },
    agents: i.hosts.map((h) => ({ name: h.name, address: h.address, tls, hostKind: i.hostKind ?? 'netns-lab' })),
    api: { listen: `127.0.0.1:${i.apiPort}`, tokenFile: i.tokenFile },
    healthIntervalMs: 1000,
    logLevel: 'info',
  };
}
