// Reads an experiment spec file for submission. The server parses and validates it (one
// validator for every surface); the CLI only picks the content type: JSON for .json, YAML
// (of which JSON is a subset) otherwise; "-" reads stdin. With --duration / --repetitions the
// CLI rewrites the document first (core's applySpecOverrides) and sends it as JSON; the server
// still validates what it receives.

import { readFileSync } from 'node:fs';
import { applySpecOverrides, checkSpecOverrides, parseSpecDocument, SeconetError } from '@seconet/core';

export interface SpecFile {
  readonly text: string;
  readonly contentType: string;
}

/** The command options that shorten a spec for a smoke run, as commander hands them over. */
export interface OverrideOptions {
  readonly duration?: string;
  readonly repetitions?: string;
}

export const DURATION_HELP = 'replace every workload\'s duration with this many seconds (a latency-basic count goes with it), e.g. for a smoke run';
export const REPETITIONS_HELP = 'run each cell and workload exactly N times (repetitions min = max = N)';

export function readSpecFile(file: string, overrides: OverrideOptions = {}): SpecFile {
  // Bad option values are refused before the file is read or anything is started.
  const o = checkSpecOverrides(overrides);
  let text: string;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (e) {
    throw new SeconetError('INVALID_ARGUMENT', `${file}: cannot read the spec (${(e as NodeJS.ErrnoException).code ?? 'error'})`, { field: 'file', cause: e });
  }
  if (text.trim().length === 0) throw new SeconetError('INVALID_SPEC', `${file}: the spec file is empty`, { field: 'file' });
  const json = file.endsWith('.json');
  if (o.duration === undefined && o.repetitions === undefined) return { text, contentType: json ? 'application/json' : 'application/yaml' };
  const doc = applySpecOverrides(parseSpecDocument(text, json ? 'json' : 'yaml'), o);
  return { text: JSON.stringify(doc), contentType: 'application/json' };
}
