// Result rows as CSV (RFC 4180): the header is the ResultRow columns in their documented order.

import type { ResultRow } from '@seconet/core';

export const RESULT_COLUMNS = [
  'experiment', 'cell', 'run', 'repetition', 'workload', 'workload_kind', 'engine', 'payload', 'protocol',
  'network', 'tunnel', 'tunnel_variant', 'filter', 'filter_variant', 'rules', 'containers', 'placement',
  'pair', 'flow', 'metric', 'value', 'unit',
] as const satisfies ReadonlyArray<keyof ResultRow>;

function cell(v: unknown): string {
  const s = String(v ?? '');
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function rowsToCsv(rows: readonly ResultRow[]): string {
  const lines = [RESULT_COLUMNS.join(',')];
  for (const r of rows) lines.push(RESULT_COLUMNS.map((c) => cell(r[c])).join(','));
  return lines.join('\r\n') + '\r\n';
}
