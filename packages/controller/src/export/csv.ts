// Long-format result rows as CSV (RFC 4180: CRLF line ends, fields with a comma, quote, CR or LF
// quoted, quotes doubled) and JSON: one row per run x pair x metric, the columns of ResultRow
// in a fixed order, so pandas (`read_csv`) and R (`read.csv`) load them without options.

import { SeconetError, type ResultRow } from '@seconet/core';

/** Column order of the exports: ResultRow's documented order (the same as the API's CSV). */
export const RESULT_COLUMNS = [
  'experiment', 'cell', 'run', 'repetition', 'workload', 'workload_kind', 'engine', 'payload', 'protocol',
  'network', 'tunnel', 'tunnel_variant', 'filter', 'filter_variant', 'rules', 'containers', 'placement',
  'pair', 'flow', 'metric', 'value', 'unit', 'validity', 'recipe', 'rule_match', 'host_kind', 'kernel_release',
] as const satisfies ReadonlyArray<keyof ResultRow>;

/** Columns added after the first exports: a CSV without them still reads (as ""). */
const LATER_COLUMNS = new Set<string>(['validity', 'recipe', 'rule_match', 'host_kind', 'kernel_release']);

const NUMERIC = new Set<string>(['repetition', 'rules', 'containers', 'value', 'payload']);

export function csvField(v: unknown): string {
  const s = typeof v === 'number' ? (Number.isFinite(v) ? String(v) : '') : String(v ?? '');
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCsv(rows: readonly ResultRow[]): string {
  const lines = [RESULT_COLUMNS.join(',')];
  for (const r of rows) lines.push(RESULT_COLUMNS.map((c) => csvField(r[c])).join(','));
  return lines.join('\r\n') + '\r\n';
}

/** RFC 4180 records (quoted fields may hold commas, quotes and line breaks). */
export function parseCsvRecords(text: string): string[][] {
  const out: string[][] = [];
  let rec: string[] = [];
  let field = '';
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
      } else field += ch;
      i++;
      continue;
    }
    if (ch === '"' && field === '') quoted = true;
    else if (ch === ',') {
      rec.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      rec.push(field);
      field = '';
      out.push(rec);
      rec = [];
      if (ch === '\r' && text[i + 1] === '\n') i++;
    } else field += ch;
    i++;
  }
  if (field !== '' || rec.length > 0) {
    rec.push(field);
    out.push(rec);
  }
  return out;
}

/** The inverse of toCsv. */
export function fromCsv(text: string): ResultRow[] {
  const [head, ...records] = parseCsvRecords(text);
  if (!head) return [];
  const missing = RESULT_COLUMNS.filter((c) => !head.includes(c) && !LATER_COLUMNS.has(c));
  if (missing.length > 0) throw new SeconetError('INVALID_ARGUMENT', `CSV lacks the columns ${missing.join(', ')}`, { field: 'csv' });
  return records
    .filter((r) => !(r.length === 1 && r[0] === ''))
    .map((r) => {
      const o: Record<string, string | number> = {};
      for (const c of LATER_COLUMNS) o[c] = '';
      head.forEach((c, i) => {
        const v = r[i] ?? '';
        o[c] = NUMERIC.has(c) ? (v === '' ? NaN : Number(v)) : v;
      });
      return o as unknown as ResultRow;
    });
}

/** A JSON array of row objects with the export columns in order. */
export function toJson(rows: readonly ResultRow[]): string {
  return JSON.stringify(rows.map((r) => Object.fromEntries(RESULT_COLUMNS.map((c) => [c, r[c]]))));
}
