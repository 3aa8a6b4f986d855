// Running `ip -batch` scripts: one process per namespace carries every line of work for it,
// and per-namespace scripts run a few at a time. Spawning one `ip` per step is the slow path
// (LAB-NOTES: 32 containers ~0.37 s that way, ~0.13 s batched); container-side work has to be
// one process per container namespace because `ip -batch` cannot switch namespaces by line.

import type { Runner } from '../runner/runner.js';

/** `ip` argv prefix targeting a namespace (undefined: the agent's own namespace). */
export function ipIn(netns: string | undefined): string[] {
  return netns === undefined ? ['ip'] : ['ip', '-n', netns];
}

/** Runs `lines` through one `ip -batch -` in `netns`. No-op without lines. */
export async function ipBatch(runner: Runner, netns: string | undefined, lines: readonly string[], signal?: AbortSignal): Promise<void> {
  if (lines.length === 0) return;
  await runner.run([...ipIn(netns), '-batch', '-'], { stdin: lines.join('\n') + '\n', timeoutMs: 120_000, ...(signal ? { signal } : {}) });
}

/** Runs one batch per namespace, at most `concurrency` at a time; rejects with the first failure after all settle. */
export async function ipBatches(runner: Runner, jobs: ReadonlyArray<{ netns: string; lines: readonly string[] }>, concurrency = 4, signal?: AbortSignal): Promise<void> {
  let next = 0;
  let failure: unknown;
  const worker = async (): Promise<void> => {
    while (next < jobs.length) {
      const job = jobs[next++]!;
      try {
        await ipBatch(runner, job.netns, job.lines, signal);
      } catch (e) {
        failure ??= e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, jobs.length) }, worker));
  if (failure !== undefined) throw failure;
}

export interface LinkInfo {
  readonly ifname: string;
  readonly ifindex: number;
  readonly kind: string | undefined;
  readonly master: string | undefined;
  readonly mtu: number;
  readonly address: string;
  readonly up: boolean;
}

/** Every link of a namespace, from one `ip -d -j link show`. */
export async function listLinks(runner: Runner, netns: string | undefined): Promise<Map<string, LinkInfo>> {
  const r = await runner.run([...ipIn(netns), '-d', '-j', 'link', 'show']);
  const rows = (r.stdout.trim() === '' ? [] : JSON.parse(r.stdout)) as Array<{
    ifname: string;
    ifindex: number;
    master?: string;
    mtu: number;
    address?: string;
    flags?: string[];
    linkinfo?: { info_kind?: string };
  }>;
  return new Map(
    rows.map((l) => [
      l.ifname,
      { ifname: l.ifname, ifindex: l.ifindex, kind: l.linkinfo?.info_kind, master: l.master, mtu: l.mtu, address: l.address ?? '', up: (l.flags ?? []).includes('UP') },
    ]),
  );
}

/** Names from `ip netns list`. */
export async function listNetns(runner: Runner): Promise<Set<string>> {
  const r = await runner.run(['ip', 'netns', 'list']);
  return new Set(
    r.stdout
      .split('\n')
      .map((l) => l.split(' ')[0] ?? '')
      .filter((n) => n !== ''),
  );
}
