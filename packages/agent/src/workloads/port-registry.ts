// The ports workload sinks hold, per network namespace, in this agent process. The controller
// hands out a port per pair, unique per sink container; two calls that still collide (a
// stale run, a controller bug) get CONFLICT before anything starts, instead of a tool failing
// half-way with "address in use". Ports are released when the call's processes are stopped.

import { SeconetError } from '@seconet/core';

export interface PortClaim {
  readonly netns: string;
  readonly port: number;
  readonly field: string;
}

export class PortRegistry {
  private readonly held = new Map<string, string>();

  private static key(netns: string, port: number): string {
    return `${netns}:${port}`;
  }

  /** Claims all ports or none; CONFLICT names the field of the first port already held. */
  claim(claims: readonly PortClaim[], owner: string): () => void {
    const taken: string[] = [];
    for (const c of claims) {
      const k = PortRegistry.key(c.netns, c.port);
      const by = this.held.get(k);
      if (by !== undefined) {
        for (const t of taken) this.held.delete(t);
        throw new SeconetError('CONFLICT', `${c.field}: port ${c.port} in namespace ${c.netns} is in use by workload ${by}; give every pair on a sink container its own port (D-ITG uses the port and the next flow-count ports)`, { field: c.field, details: { netns: c.netns, port: c.port } });
      }
      this.held.set(k, owner);
      taken.push(k);
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      for (const t of taken) this.held.delete(t);
    };
  }

  isHeld(netns: string, port: number): boolean {
    return this.held.has(PortRegistry.key(netns, port));
  }
}

/** The agent process's registry. */
export const sinkPorts = new PortRegistry();
