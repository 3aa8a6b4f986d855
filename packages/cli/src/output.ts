// How every command speaks: human text on stdout, or one JSON document with --json for scripts;
// errors as "seconet: CODE: message" on stderr (or the JSON error body on stdout with --json);
// the exit status from the error registry (0 only on success).

import { ErrorCodes, isSeconetError } from '@seconet/core';

export interface Out {
  readonly json: boolean;
  /** Human text (suppressed with --json). */
  info(text: string): void;
  /** The command's result: JSON with --json, else `human` (or nothing). */
  result(value: unknown, human?: string): void;
}

export function makeOut(json: boolean): Out {
  return {
    json,
    info: (text) => {
      if (!json) process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
    },
    result: (value, human) => {
      if (json) process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
      else if (human !== undefined) process.stdout.write(human.endsWith('\n') ? human : `${human}\n`);
    },
  };
}

/** Prints an error the way scripts expect and returns the exit code. */
export function reportError(e: unknown, json: boolean): number {
  if (isSeconetError(e)) {
    if (json) process.stdout.write(`${JSON.stringify({ error: e.toJSON() })}\n`);
    process.stderr.write(`seconet: ${e.code}: ${e.message}\n`);
    return ErrorCodes[e.code].exit;
  }
  const msg = e instanceof Error ? e.message : String(e);
  if (json) process.stdout.write(`${JSON.stringify({ error: { code: 'INTERNAL', message: msg } })}\n`);
  process.stderr.write(`seconet: INTERNAL: ${msg}\n`);
  if (process.env['SECONET_DEBUG'] === '1' && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
  return ErrorCodes.INTERNAL.exit;
}

/** "done/total" of an experiment's runs; failed runs are part of done (see Progress). */
export function runsText(p: { readonly runsDone: number; readonly runsTotal: number }): string {
  return `${p.runsDone}/${p.runsTotal}`;
}

export function table(rows: ReadonlyArray<readonly string[]>): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n');
}
