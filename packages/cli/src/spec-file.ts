// Reads an experiment spec file for submission. The server parses and validates it (one
// validator for every surface); the CLI only picks the content type: JSON for .json, YAML
// (of which JSON is a subset) otherwise; "-" reads stdin.

import { readFileSync } from 'node:fs';
import { SeconetError } from '@seconet/core';

export interface SpecFile {
  readonly text: string;
  readonly contentType: string;
}

export function readSpecFile(file: string): SpecFile {
  let text: string;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (e) {
    throw new SeconetError('INVALID_ARGUMENT', `${file}: cannot read the spec (${(e as NodeJS.ErrnoException).code ?? 'error'})`, { field: 'file', cause: e });
  }
  if (text.trim().length === 0) throw new SeconetError('INVALID_SPEC', `${file}: the spec file is empty`, { field: 'file' });
  return { text, contentType: file.endsWith('.json') ? 'application/json' : 'application/yaml' };
}
