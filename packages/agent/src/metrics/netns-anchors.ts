// Per-namespace interface counters without a process spawn per sample. /proc/net/dev shows
// only the reader's own namespace (proc(5)), and `ip -n NS -s -j link` costs a process per
// namespace per sample (tens of ms of CPU per second at 10 Hz with 8 namespaces). Instead one
// idle `sleep infinity` lives in each namespace while a stream reads it, and the sampler reads
// that process's /proc/<pid>/net/dev: a plain file read.
//
// An anchor keeps its namespace alive, so it must never outlive the namespace's name: before
// each sample `refresh` compares the inode of /run/netns/<name> with the anchor's
// /proc/<pid>/ns/net and stops anchors whose namespace was deleted, re-created or dropped from
// the wanted list. The anchors are children of the agent, stopped by PID when the stream ends,
// and killed by the kernel if the agent dies first (dieWithAgent).

import { readFileSync, statSync } from 'node:fs';
import type { Runner, Spawned } from '../runner/runner.js';
import { startPacer } from '@seconet/core';
import type { NetDevSource } from './sampler.js';
import { dieWithAgent } from '../workloads/die-with-agent.js';

interface Anchor {
  readonly netns: string;
  readonly label: string;
  readonly proc: Spawned;
  /** Inode of the namespace when the anchor entered it (undefined until confirmed). */
  nsIno: number | undefined;
}

const NETNS_DIR = '/run/netns';
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** Synchronous like the sampler's reads: a stat of nsfs and /proc never waits on a disk. */
function inode(path: string): number | undefined {
  try {
    return statSync(path).ino;
  } catch {
    return undefined;
  }
}

export class NetnsAnchors {
  private readonly anchors = new Map<string, Anchor>();
  /** Set by stopAll: a refresh still pacing its starts must not start anchors after it. */
  private stopped = false;

  constructor(private readonly runner: Runner, private readonly procRoot = '/proc') {}

  /** Brings the anchors in line with `wanted` (netns name -> label) and returns the readable sources. */
  async refresh(wanted: ReadonlyMap<string, string>): Promise<NetDevSource[]> {
    for (const [netns, a] of this.anchors) {
      const nsIno = inode(`${NETNS_DIR}/${netns}`);
      const gone = !wanted.has(netns) || nsIno === undefined || (a.nsIno !== undefined && a.nsIno !== nsIno);
      if (gone) {
        this.anchors.delete(netns);
        await a.proc.stop(200);
      }
    }
    // A 1,000-container scope is 1,000 anchors started at the stream's first sample: paced, or the
    // forks hold the event loop past the client's keepalive timeout (core's pacer.ts).
    const pacer = startPacer();
    for (const [netns, label] of wanted) {
      if (this.anchors.has(netns) || !NAME_RE.test(netns)) continue;
      if ((inode(`${NETNS_DIR}/${netns}`)) === undefined) continue;
      await pacer.next();
      if (this.stopped || this.anchors.has(netns)) continue;
      const proc = this.runner.spawn(dieWithAgent(['sleep', 'infinity']), { netns, stdio: 'ignore' });
      this.anchors.set(netns, { netns, label, proc, nsIno: undefined });
    }
    const sources: NetDevSource[] = [];
    for (const a of this.anchors.values()) {
      if (a.nsIno === undefined) {
        // Until `ip netns exec` has entered the namespace and exec'd sleep, the PID still
        // shows the agent's namespace: wait for the exec before trusting its net/dev.
        let comm = '';
        try {
          comm = readFileSync(`${this.procRoot}/${a.proc.pid}/comm`, 'utf8');
        } catch {
          /* not yet exec'd or gone */
        }
        if (comm.trim() !== 'sleep') continue;
        a.nsIno = inode(`${this.procRoot}/${a.proc.pid}/ns/net`);
        if (a.nsIno === undefined || a.nsIno !== (inode(`${NETNS_DIR}/${a.netns}`))) {
          this.anchors.delete(a.netns);
          await a.proc.stop(200);
          continue;
        }
      }
      sources.push({ netns: a.label, path: `${this.procRoot}/${a.proc.pid}/net/dev` });
    }
    return sources;
  }

  /** PIDs of the live anchors (for tests and logs). */
  pids(): number[] {
    return [...this.anchors.values()].map((a) => a.proc.pid);
  }

  async stopAll(): Promise<void> {
    this.stopped = true;
    const all = [...this.anchors.values()];
    this.anchors.clear();
    await Promise.all(all.map((a) => a.proc.stop(200)));
  }
}
