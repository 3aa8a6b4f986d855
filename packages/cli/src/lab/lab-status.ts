// What `seconet lab status` reports and `lab up`/`run` decide on: whether every process the
// state file records still runs (PID, start time and command line), whether the API answers and
// whether every agent is healthy through it.

import { ApiClient } from '../api-client.js';
import { readToken } from '../connection.js';
import { AGENT_CMD, CONTROLLER_CMD, REDIS_CMD, SUPERVISOR_CMD } from './daemons.js';
import { labDir, type LabState } from './lab-state.js';
import { isOurs } from './processes.js';
import { QEMU_CMD } from './vm-lab.js';

export interface LabStatus {
  readonly running: boolean;
  readonly id?: string;
  readonly dir: string;
  readonly apiUrl?: string;
  readonly tokenFile?: string;
  readonly api?: boolean;
  readonly redis?: boolean;
  readonly controller?: boolean;
  readonly supervisor?: boolean;
  /** netns-lab, vm-kvm or vm-tcg. */
  readonly hostKind?: string;
  readonly hosts?: Array<{ name: string; netns: string; address: string; process: boolean; healthy: boolean | null; underlayAddress?: string | undefined; sshPort?: number | undefined; kernelRelease?: string | undefined }>;
}

export async function labStatus(state: LabState | undefined): Promise<LabStatus> {
  if (state === undefined) return { running: false, dir: labDir() };
  const api = new ApiClient(state.apiUrl, safeToken(state.tokenFile));
  const apiUp = await api.health();
  const agents = apiUp ? await api.agents().catch(() => []) : [];
  const hosts = state.hosts.map((h) => ({
    name: h.name,
    netns: h.netns,
    address: h.address,
    // A VM host's process is its QEMU guest; the agent inside answers through the API.
    process: state.vm !== undefined ? h.qemu !== undefined && isOurs(h.qemu, QEMU_CMD) : h.agent !== undefined && isOurs(h.agent, AGENT_CMD),
    healthy: agents.find((a) => a.name === h.name)?.healthy ?? null,
    ...(state.vm !== undefined ? { underlayAddress: h.underlayAddress, sshPort: h.sshPort, kernelRelease: h.kernelRelease } : {}),
  }));
  const redis = state.redis !== undefined && isOurs(state.redis, REDIS_CMD);
  const controller = state.controller !== undefined && isOurs(state.controller, CONTROLLER_CMD);
  return {
    running: apiUp && redis && controller && hosts.every((h) => h.process && h.healthy === true),
    id: state.id,
    dir: state.dir,
    apiUrl: state.apiUrl,
    tokenFile: state.tokenFile,
    hostKind: state.vm?.hostKind ?? 'netns-lab',
    api: apiUp,
    redis,
    controller,
    supervisor: state.supervisor !== undefined && isOurs(state.supervisor, SUPERVISOR_CMD),
    hosts,
  };
}

/** The lab's token; a lab that crashed before writing it gets a token no server accepts. */
function safeToken(file: string): string {
  try {
    return readToken(file);
  } catch {
    return 'no-token-file-yet';
  }
}
