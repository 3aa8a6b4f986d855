// The soak's fault injector: on a seeded schedule (mulberry32), one fault at a time at a random
// moment, each logged with its time, target, the sweep's phase when it hit, and how long the lab
// took to be whole again. Every process is found by the PID the lab's state file records (or, for
// workload tools, by the network namespace it runs in), never by program name.

import { readdirSync, readlinkSync, statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Runner } from '@seconet/agent';
import { readLabState, type LabState } from '../../packages/cli/src/lab/lab-state.js';

export const FAULT_KINDS = ['agent-kill', 'controller-kill', 'redis-restart', 'redis-pause', 'underlay-cut', 'agent-freeze', 'workload-kill'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface FaultRecord {
  readonly n: number;
  readonly kind: FaultKind;
  /** ISO time the fault hit. */
  readonly at: string;
  readonly target: string;
  /** What the sweep was doing: runs in flight, or none (configuring, storing, idle). */
  readonly phase: string;
  /** How long the fault lasted (pause, freeze, cut), ms. */
  readonly heldMs: number;
  /** From the end of the fault until the lab was whole again (every daemon up, API and agents healthy), ms; -1 when it was not within the limit. */
  readonly recoveredMs: number;
  readonly survived: boolean;
}

export interface InjectorDeps {
  readonly runner: Runner;
  readonly labDir: string;
  readonly rng: () => number;
  readonly kinds: readonly FaultKind[];
  /** The lab is whole: every daemon alive, API up, agents healthy. */
  readonly whole: () => Promise<boolean>;
  /** A one-word description of what the sweep does right now. */
  readonly phase: () => string;
  readonly log: (line: string) => void;
  /** How long a Redis pause lasts: longer than a lock renewal (default 7 s). */
  readonly pauseMs?: number;
  /** How long an agent stays frozen: past the controller's health deadline (default 8 s). */
  readonly freezeMs?: number;
  /** How long the underlay stays cut (default 3 s). */
  readonly cutMs?: number;
  readonly recoveryLimitMs?: number;
}

function state(dir: string): LabState {
  const s = readLabState(dir);
  if (s === undefined) throw new Error(`no lab in ${dir}`);
  return s;
}

function signal(pid: number | undefined, sig: NodeJS.Signals): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false;
  }
}

/** PIDs of processes inside the container namespaces of the lab's hosts (by namespace inode). */
export function containerProcesses(s: LabState): number[] {
  const prefixes = s.hosts.map((h) => h.prefix);
  const inodes = new Set<number>();
  let names: string[] = [];
  try {
    names = readdirSync('/run/netns');
  } catch {
    return [];
  }
  for (const n of names) {
    if (!prefixes.some((p) => n.startsWith(p))) continue;
    try {
      inodes.add(statSync(`/run/netns/${n}`).ino);
    } catch {
      /* removed meanwhile */
    }
  }
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const ino = Number(/\[(\d+)\]/.exec(readlinkSync(`/proc/${e}/ns/net`))?.[1]);
      if (inodes.has(ino)) out.push(Number(e));
    } catch {
      /* gone */
    }
  }
  return out;
}

export class FaultInjector {
  readonly records: FaultRecord[] = [];
  readonly skipped: Array<{ kind: FaultKind; at: string; reason: string }> = [];
  private readonly frozen = new Set<number>();
  private readonly cut = new Set<string>();

  constructor(private readonly d: InjectorDeps) {}

  private pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.d.rng() * xs.length)]!;
  }

  private bag: FaultKind[] = [];

  /** The kinds in a seeded shuffle, all of them before any repeats: every kind is hit. */
  private nextKind(): FaultKind {
    if (this.bag.length === 0) {
      this.bag = [...this.d.kinds];
      for (let i = this.bag.length - 1; i > 0; i--) {
        const j = Math.floor(this.d.rng() * (i + 1));
        [this.bag[i], this.bag[j]] = [this.bag[j]!, this.bag[i]!];
      }
    }
    return this.bag.pop()!;
  }

  /** Injects one fault of the next kind; returns its record, or undefined when it found nothing to hit. */
  async injectOne(): Promise<FaultRecord | undefined> {
    const kind = this.nextKind();
    const s = state(this.d.labDir);
    const phase = this.d.phase();
    const at = new Date().toISOString();
    const t0 = Date.now();
    let target = '';
    let ok = false;
    switch (kind) {
      case 'agent-kill': {
        const h = this.pick(s.hosts);
        target = `agent ${h.name} pid ${h.agent?.pid}`;
        ok = signal(h.agent?.pid, 'SIGKILL');
        break;
      }
      case 'controller-kill':
        target = `controller pid ${s.controller?.pid}`;
        ok = signal(s.controller?.pid, 'SIGKILL');
        break;
      case 'redis-restart': {
        const sig = this.d.rng() < 0.5 ? 'SIGKILL' : 'SIGTERM';
        target = `redis pid ${s.redis?.pid} (${sig})`;
        ok = signal(s.redis?.pid, sig);
        break;
      }
      case 'redis-pause': {
        const pid = s.redis?.pid;
        target = `redis pid ${pid}`;
        ok = this.hold(pid, this.d.pauseMs ?? 7000);
        if (ok) await sleep(this.d.pauseMs ?? 7000);
        this.release(pid);
        break;
      }
      case 'agent-freeze': {
        const h = this.pick(s.hosts);
        const pid = h.agent?.pid;
        target = `agent ${h.name} pid ${pid}`;
        ok = this.hold(pid, this.d.freezeMs ?? 8000);
        if (ok) await sleep(this.d.freezeMs ?? 8000);
        this.release(pid);
        break;
      }
      case 'underlay-cut': {
        const h = this.pick(s.hosts);
        const port = `u${s.hosts.indexOf(h) + 1}`;
        target = `underlay of ${h.name} (${s.switchNetns} ${port})`;
        try {
          await this.d.runner.run(['ip', '-n', s.switchNetns, 'link', 'set', port, 'down']);
          this.cut.add(`${s.switchNetns} ${port}`);
          ok = true;
          await sleep(this.d.cutMs ?? 3000);
        } finally {
          await this.restoreCuts();
        }
        break;
      }
      case 'workload-kill': {
        let pids: number[] = [];
        for (let i = 0; i < 50 && pids.length === 0; i++) {
          pids = containerProcesses(s);
          if (pids.length === 0) await sleep(100);
        }
        if (pids.length > 0) {
          const pid = this.pick(pids);
          target = `workload tool pid ${pid} in a container`;
          ok = signal(pid, 'SIGKILL');
        }
        break;
      }
    }
    if (!ok) {
      this.skipped.push({ kind, at, reason: target === '' ? 'nothing to hit' : `could not signal ${target}` });
      return undefined;
    }
    const heldMs = Date.now() - t0;
    const limit = this.d.recoveryLimitMs ?? 90_000;
    const r0 = Date.now();
    let survived = false;
    await sleep(300);
    while (Date.now() - r0 < limit) {
      if (await this.d.whole().catch(() => false)) {
        survived = true;
        break;
      }
      await sleep(250);
    }
    const rec: FaultRecord = { n: this.records.length + 1, kind, at, target, phase, heldMs, recoveredMs: survived ? Date.now() - r0 : -1, survived };
    this.records.push(rec);
    this.d.log(`fault ${rec.n} ${kind} on ${target} during ${phase}: ${survived ? `whole again after ${rec.recoveredMs} ms` : 'NOT recovered'}`);
    return rec;
  }

  private hold(pid: number | undefined, _ms: number): boolean {
    if (!signal(pid, 'SIGSTOP')) return false;
    this.frozen.add(pid!);
    return true;
  }

  private release(pid: number | undefined): void {
    if (pid === undefined) return;
    signal(pid, 'SIGCONT');
    this.frozen.delete(pid);
  }

  private async restoreCuts(): Promise<void> {
    for (const c of [...this.cut]) {
      const [ns, port] = c.split(' ');
      await this.d.runner.run(['ip', '-n', ns!, 'link', 'set', port!, 'up']).catch(() => undefined);
      this.cut.delete(c);
    }
  }

  /** Undoes whatever a fault still holds (on abort): frozen processes continue, cut links come up. */
  async restore(): Promise<void> {
    for (const pid of [...this.frozen]) this.release(pid);
    await this.restoreCuts();
  }
}
