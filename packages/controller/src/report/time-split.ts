// Where an experiment's wall time went, computed from stored timestamps only: the experiment's
// start and end (or, while it runs, its last event) and the engine's `phase` events, one per
// interval of work (start and end as ISO timestamps). Measuring is the runs' measurement windows
// (sinks up, traffic, barrier until every pair reported); setup is Apply and the pre-flight
// isolation proof; teardown removes a cell's scope; storing is the host-sample flush, aggregation
// and the exactly-once write; waiting is the rest (queue pickup after a resume, host records,
// health waits, decisions, failed attempts, retries). The five values sum to the wall time.

import type { ProgressEvent } from '../service.js';

export const PHASE_SPLIT = { measure: 'measuring', apply: 'setup', preflight: 'setup', teardown: 'teardown', store: 'storing' } as const;

export interface TimeSplit {
  /** Experiment start (first time it ran) to its end, or to its last event while it runs. */
  readonly wallS: number;
  readonly measuringS: number;
  readonly setupS: number;
  readonly teardownS: number;
  readonly storingS: number;
  /** wallS minus the other four (never negative). */
  readonly waitingS: number;
  /** Share of wallS in percent, per part. */
  readonly percent: { readonly measuring: number; readonly setup: number; readonly teardown: number; readonly storing: number; readonly waiting: number };
  /** Measurement windows counted (one per measured run attempt). */
  readonly windows: number;
  /** False while the experiment runs (the wall ends at its last event). */
  readonly final: boolean;
}

export interface PhaseEventData {
  readonly phase: keyof typeof PHASE_SPLIT;
  /** ISO timestamps. */
  readonly start: string;
  readonly end: string;
}

const ms = (iso: string | undefined): number => (iso === undefined ? NaN : Date.parse(iso));
const round = (x: number, digits: number): number => Number(x.toFixed(digits));

/** Undefined when the experiment has not started. */
export function computeTimeSplit(experiment: { readonly startedAt?: string | undefined; readonly finishedAt?: string | undefined }, events: readonly ProgressEvent[]): TimeSplit | undefined {
  const start = ms(experiment.startedAt);
  if (!Number.isFinite(start)) return undefined;
  const final = experiment.finishedAt !== undefined;
  let end = ms(experiment.finishedAt);
  if (!final) end = Math.max(start, ...events.map((e) => ms(e.at)).filter(Number.isFinite));
  const sums = { measuring: 0, setup: 0, teardown: 0, storing: 0 };
  let windows = 0;
  for (const e of events) {
    if (e.type !== 'phase') continue;
    const d = e.data as Partial<PhaseEventData>;
    const part = d.phase !== undefined ? PHASE_SPLIT[d.phase] : undefined;
    const a = ms(d.start);
    const b = ms(d.end);
    if (part === undefined || !Number.isFinite(a) || !Number.isFinite(b)) continue;
    // Clipped to the wall: an interval of an earlier attempt before a resume still counts in full
    // (the experiment's start is its first start), one past the end cannot exist.
    const s = Math.max(0, Math.min(b, end) - Math.max(a, start));
    sums[part] += s;
    if (part === 'measuring') windows++;
  }
  const wall = Math.max(0, end - start);
  const busy = sums.measuring + sums.setup + sums.teardown + sums.storing;
  const waiting = Math.max(0, wall - busy);
  const pct = (x: number): number => (wall > 0 ? round((100 * x) / wall, 2) : 0);
  return {
    wallS: round(wall / 1000, 3),
    measuringS: round(sums.measuring / 1000, 3),
    setupS: round(sums.setup / 1000, 3),
    teardownS: round(sums.teardown / 1000, 3),
    storingS: round(sums.storing / 1000, 3),
    waitingS: round(waiting / 1000, 3),
    percent: { measuring: pct(sums.measuring), setup: pct(sums.setup), teardown: pct(sums.teardown), storing: pct(sums.storing), waiting: pct(waiting) },
    windows,
    final,
  };
}

/** [part, seconds, percent, what it covers] in report order. */
export function timeSplitRows(t: TimeSplit): Array<[string, number, number, string]> {
  return [
    ['measuring', t.measuringS, t.percent.measuring, 'measurement windows: sinks up, traffic, barrier until every pair reported'],
    ['setup', t.setupS, t.percent.setup, 'Apply and the pre-flight isolation proof'],
    ['teardown', t.teardownS, t.percent.teardown, 'removing a cell\'s scope'],
    ['storing', t.storingS, t.percent.storing, 'host-sample flush, aggregation, the exactly-once write'],
    ['waiting', t.waitingS, t.percent.waiting, 'the rest: host records, health waits, decisions, failed attempts and retries'],
  ];
}

/** The time split as a Markdown table. */
export function timeSplitMarkdown(t: TimeSplit): string {
  const lines = ['| part | seconds | share |', '|---|---|---|'];
  for (const [part, sec, pct] of timeSplitRows(t)) lines.push(`| ${part} | ${sec.toFixed(1)} | ${pct.toFixed(1)} % |`);
  lines.push(`| wall | ${t.wallS.toFixed(1)} | 100 % |`);
  return lines.join('\n');
}
