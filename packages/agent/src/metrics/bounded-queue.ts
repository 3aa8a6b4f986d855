// The slow-reader policy of StreamMetrics: a queue of at most `capacity` samples. When it is
// full, a new sample is merged into the newest queued one (time-weighted, so rates stay
// rates and no second of the run goes unaccounted) until that one covers `maxMerge + 1`
// intervals; after that the oldest sample is dropped. Memory is bounded by `capacity`
// whatever the reader does; `merged` and `dropped` tell the reader what happened.

import type { MetricsSample } from '../gen/seconet/agent/v1/MetricsSample.js';
import type { CpuTimes } from '../gen/seconet/agent/v1/CpuTimes.js';
import type { InterfaceRates } from '../gen/seconet/agent/v1/InterfaceRates.js';

const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v ?? 0) || 0);

function mergeCpu(a: CpuTimes | null | undefined, b: CpuTimes | null | undefined, wa: number, wb: number): CpuTimes | null {
  if (!a || !b) return b ?? a ?? null;
  const w = (k: keyof Omit<CpuTimes, 'name'>): number => (num(a[k]) * wa + num(b[k]) * wb) / (wa + wb);
  return { name: b.name ?? a.name ?? '', usr: w('usr'), sys: w('sys'), idle: w('idle'), wai: w('wai'), hiq: w('hiq'), siq: w('siq'), stl: w('stl') };
}

/** Merges `b` (the later sample) into `a`: rates weighted by the time each covers, gauges from `b`. */
export function mergeSamples(a: MetricsSample, b: MetricsSample): MetricsSample {
  const wa = num(a.intervalS);
  const wb = num(b.intervalS);
  const tw = wa + wb || 1;
  const avg = (x: unknown, y: unknown): number => (num(x) * wa + num(y) * wb) / tw;
  const coresA = new Map((a.cores ?? []).map((c) => [c.name ?? '', c]));
  const ifKey = (i: InterfaceRates): string => `${i.netns ?? ''}\u0000${i.name ?? ''}`;
  const ifA = new Map((a.interfaces ?? []).map((i) => [ifKey(i), i]));
  const ifB = new Map((b.interfaces ?? []).map((i) => [ifKey(i), i]));
  const interfaces: InterfaceRates[] = [];
  for (const key of new Set([...ifA.keys(), ...ifB.keys()])) {
    const x = ifA.get(key);
    const y = ifB.get(key);
    const ref = (y ?? x)!;
    interfaces.push({
      netns: ref.netns ?? '',
      name: ref.name ?? '',
      rxBytesPerS: avg(x?.rxBytesPerS, y?.rxBytesPerS),
      txBytesPerS: avg(x?.txBytesPerS, y?.txBytesPerS),
      rxPacketsPerS: avg(x?.rxPacketsPerS, y?.rxPacketsPerS),
      txPacketsPerS: avg(x?.txPacketsPerS, y?.txPacketsPerS),
    });
  }
  return {
    timestamp: b.timestamp ?? a.timestamp ?? 0,
    intervalS: wa + wb,
    cpu: mergeCpu(a.cpu, b.cpu, wa, wb),
    cores: (b.cores ?? []).map((c) => mergeCpu(coresA.get(c.name ?? ''), c, wa, wb) ?? c),
    memory: b.memory ?? a.memory ?? null,
    interruptsPerS: avg(a.interruptsPerS, b.interruptsPerS),
    contextSwitchesPerS: avg(a.contextSwitchesPerS, b.contextSwitchesPerS),
    interfaces,
    dropped: 0,
    merged: num(a.merged) + num(b.merged) + 1,
    agentCpu: avg(a.agentCpu, b.agentCpu),
  };
}

export class BoundedSampleQueue {
  private readonly items: MetricsSample[] = [];
  private droppedTotal = 0;

  constructor(readonly capacity: number, readonly maxMerge = 9) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`queue capacity ${capacity} must be a positive integer`);
  }

  get length(): number {
    return this.items.length;
  }

  get dropped(): number {
    return this.droppedTotal;
  }

  push(s: MetricsSample): void {
    if (this.items.length < this.capacity) {
      this.items.push(s);
      return;
    }
    const last = this.items[this.items.length - 1]!;
    if (num(last.merged) < this.maxMerge) {
      this.items[this.items.length - 1] = mergeSamples(last, s);
      return;
    }
    this.items.shift();
    this.droppedTotal++;
    this.items.push(s);
  }

  /** The oldest sample, stamped with the drop count so far. */
  shift(): MetricsSample | undefined {
    const s = this.items.shift();
    return s === undefined ? undefined : { ...s, dropped: this.droppedTotal };
  }
}
