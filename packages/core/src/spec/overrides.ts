// Shortening a spec for a smoke run (`seconet run FILE --duration S --repetitions N`): the
// overrides rewrite the document as written, before it is submitted, so the controller's one
// validator still judges the result and the experiment stored is exactly what ran. Every
// workload entry's duration is replaced (a latency-basic `count` is dropped with it, since
// count x interval is its duration); repetitions become a fixed count, min = max = N, and a
// reference cell's fixed repetitions follow. Anything the overrides do not understand (not a
// mapping, workloads not a list) is left as it is for the validator to name.

import { SeconetError } from '../errors.js';
import { LIMITS } from './schema.js';

export interface SpecOverrides {
  /** Seconds of traffic per run, replacing every workload's own. */
  readonly duration?: number;
  /** Fixed repetitions per (cell, workload): min = max = this. */
  readonly repetitions?: number;
}

type Raw = Record<string, unknown>;

const isMap = (v: unknown): v is Raw => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * Checks override values the way a CLI option is checked: `option` is the name to show
 * (`--duration`), the message says the range and an example that works.
 * @throws SeconetError INVALID_ARGUMENT with `field` the option's name without dashes.
 */
export function checkSpecOverrides(o: { readonly duration?: unknown; readonly repetitions?: unknown }, names: { duration: string; repetitions: string } = { duration: '--duration', repetitions: '--repetitions' }): SpecOverrides {
  const out: { duration?: number; repetitions?: number } = {};
  if (o.duration !== undefined) {
    const raw = String(o.duration);
    const d = raw.trim() === '' ? Number.NaN : Number(raw);
    if (!Number.isFinite(d) || d < LIMITS.durationMin || d > LIMITS.durationMax) {
      throw new SeconetError('INVALID_ARGUMENT', `${names.duration} ${JSON.stringify(raw)}: give seconds of traffic per run, ${LIMITS.durationMin} to ${LIMITS.durationMax} (for example ${names.duration} 2)`, { field: names.duration.replace(/^-+/, '') });
    }
    out.duration = d;
  }
  if (o.repetitions !== undefined) {
    const raw = String(o.repetitions);
    const n = /^\s*\d+\s*$/.test(raw) ? Number(raw) : Number.NaN;
    if (!Number.isInteger(n) || n < 1 || n > LIMITS.repetitionsMax) {
      throw new SeconetError('INVALID_ARGUMENT', `${names.repetitions} ${JSON.stringify(raw)}: give a whole number of repetitions per cell and workload, 1 to ${LIMITS.repetitionsMax} (for example ${names.repetitions} 1)`, { field: names.repetitions.replace(/^-+/, '') });
    }
    out.repetitions = n;
  }
  return out;
}

function withDuration(entry: unknown, duration: number): unknown {
  if (typeof entry === 'string') return { [entry]: { duration } };
  if (!isMap(entry)) return entry;
  if ('kind' in entry) {
    const out: Raw = { ...entry, duration };
    delete out['count'];
    return out;
  }
  const keys = Object.keys(entry);
  if (keys.length !== 1) return entry;
  const kind = keys[0]!;
  const params = entry[kind];
  if (params !== null && params !== undefined && !isMap(params)) return entry;
  const next: Raw = { ...(params ?? {}), duration };
  delete next['count'];
  return { [kind]: next };
}

/** The document with the overrides applied (a new object; the input is not changed). */
export function applySpecOverrides(doc: unknown, o: SpecOverrides): unknown {
  if (!isMap(doc)) return doc;
  const out: Raw = { ...doc };
  if (o.duration !== undefined && Array.isArray(doc['workloads'])) {
    out['workloads'] = (doc['workloads'] as unknown[]).map((w) => withDuration(w, o.duration!));
  }
  if (o.repetitions !== undefined) {
    const n = o.repetitions;
    out['repetitions'] = { ...(isMap(doc['repetitions']) ? doc['repetitions'] : {}), min: n, max: n };
    const opts = doc['options'];
    if (isMap(opts) && isMap(opts['referenceCell'])) out['options'] = { ...opts, referenceCell: { ...opts['referenceCell'], repetitions: n } };
  }
  return out;
}
