// Running `ip -batch` scripts: one process per namespace carries every line of work for it,
// and per-namespace scripts run a few at a time. Spawning one `ip` per step is the slow path
// (LAB-NOTES: 32 containers ~0.37 s that way, ~0.13 s batched); container-side work has to be
// one process per container namespace because `ip -batch` cannot switch namespaces by line.
// containerBatches removes that process: the build compiles sn-nsconf (packages/agent/native),
// which enters each namespace with setns(2) and sends the same requests over rtnetlink, so a
// thousand container namespaces cost one process instead of a thousand.

import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { HostEnv } from '../host-env.js';
import type { Runner } from '../runner/runner.js';

/**
 * The helper the build compiles (`npm run native`), next to its source in the package's native/
 * folder. Empty when this module is bundled without a module URL (the full-kernel lab's CommonJS
 * guest driver): the helper is then not used.
 */
export const NSCONF_BINARY = typeof import.meta.url === 'string' ? fileURLToPath(new URL('../../native/sn-nsconf', import.meta.url)) : '';

/** The helper's path when it is built, else undefined (container namespaces then get one `ip -n` each). */
export function builtNsconf(): string | undefined {
  return NSCONF_BINARY !== '' && existsSync(NSCONF_BINARY) ? NSCONF_BINARY : undefined;
}

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

const V4 = String.raw`(?:\d{1,3}\.){3}\d{1,3}`;
const IF = String.raw`[A-Za-z0-9_.-]{1,15}`;
/** The `ip -batch` lines sn-nsconf understands (the same syntax, a subset of it). */
const NSCONF_LINES: readonly RegExp[] = [
  new RegExp(`^link set dev ${IF}(?: addrgenmode (?:none|eui64)| mtu \\d{2,5}| up| down)*$`),
  new RegExp(`^addr (?:add|replace) ${V4}/\\d{1,2} dev ${IF}$`),
  new RegExp(`^route (?:add|replace) (?:default|${V4}(?:/\\d{1,2})?)(?: via ${V4})? dev ${IF}(?: onlink)?(?: scope link)?$`),
  new RegExp(`^neigh (?:add|replace) ${V4} lladdr (?:[0-9a-f]{2}:){5}[0-9a-f]{2} dev ${IF} nud permanent$`),
];
const NETNS_NAME = /^[A-Za-z0-9_.-]{1,200}$/;

/** Whether sn-nsconf can carry `line` (otherwise the namespace's work goes through `ip`). */
export function nsconfAccepts(line: string): boolean {
  return NSCONF_LINES.some((re) => re.test(line));
}

/** The sn-nsconf script for `jobs`: `netns NAME` followed by that namespace's lines. */
export function nsconfScript(jobs: ReadonlyArray<{ netns: string; lines: readonly string[] }>): string {
  return jobs.flatMap((j) => (j.lines.length === 0 ? [] : [`netns ${j.netns}`, ...j.lines])).join('\n') + '\n';
}

/**
 * Per-container-namespace work: one sn-nsconf process for every namespace when the agent has
 * the helper (env.nsconf) and it understands every line, else one `ip -n NS -batch` per
 * namespace, `concurrency` at a time. Either way the first failure rejects, naming the
 * namespace and the line.
 */
export async function containerBatches(
  ctx: { runner: Runner; env: Pick<HostEnv, 'nsconf'> },
  jobs: ReadonlyArray<{ netns: string; lines: readonly string[] }>,
  concurrency = 4,
  signal?: AbortSignal,
): Promise<void> {
  const helper = ctx.env.nsconf;
  const work = jobs.filter((j) => j.lines.length > 0);
  if (work.length === 0) return;
  if (helper !== undefined && work.every((j) => NETNS_NAME.test(j.netns) && j.lines.every(nsconfAccepts))) {
    await ctx.runner.run([helper], { stdin: nsconfScript(work), timeoutMs: 120_000, ...(signal ? { signal } : {}) });
    return;
  }
  await ipBatches(ctx.runner, work, concurrency, signal);
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

/** Output kept of one link listing: room for the largest cell (1,021 containers per host) many times over. */
export const LINK_LISTING_MAX_BYTES = 64 << 20;

/** Every link of a namespace, from one `ip -d -j link show`. */
export async function listLinks(runner: Runner, netns: string | undefined): Promise<Map<string, LinkInfo>> {
  // About 1 KiB per link: a host namespace with a thousand container veths is past the default capture.
  const r = await runner.run([...ipIn(netns), '-d', '-j', 'link', 'show'], { maxOutputBytes: LINK_LISTING_MAX_BYTES });
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
