// Where the CLI finds the controller: --api and --token-file, else $SECONET_API and
// $SECONET_TOKEN_FILE, else the running lab's state file.

import { readFileSync } from 'node:fs';
import { SeconetError } from '@seconet/core';
import { ApiClient } from './api-client.js';
import { readLabState } from './lab/lab-state.js';

export interface GlobalOptions {
  readonly json?: boolean;
  readonly api?: string;
  readonly tokenFile?: string;
}

export function readToken(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new SeconetError('INVALID_ARGUMENT', `--token-file ${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? 'error'})`, { field: 'tokenFile', cause: e });
  }
  const token = text.split('\n').map((l) => l.trim()).find((l) => l.length > 0 && !l.startsWith('#'));
  if (token === undefined) throw new SeconetError('INVALID_ARGUMENT', `--token-file ${file}: holds no token`, { field: 'tokenFile' });
  return token;
}

export function connect(g: GlobalOptions): ApiClient {
  const lab = g.api === undefined || g.tokenFile === undefined ? readLabState() : undefined;
  const api = g.api ?? process.env['SECONET_API'] ?? lab?.apiUrl;
  const tokenFile = g.tokenFile ?? process.env['SECONET_TOKEN_FILE'] ?? lab?.tokenFile;
  if (api === undefined || tokenFile === undefined) {
    throw new SeconetError('UNAVAILABLE', 'no controller to talk to: pass --api URL and --token-file FILE, or start the local lab with "seconet lab up"', { field: 'api' });
  }
  let url: URL;
  try {
    url = new URL(api);
  } catch {
    throw new SeconetError('INVALID_ARGUMENT', `--api ${JSON.stringify(api)} is not a URL (e.g. http://127.0.0.1:8080)`, { field: 'api' });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new SeconetError('INVALID_ARGUMENT', `--api ${api}: use http:// or https://`, { field: 'api' });
  return new ApiClient(url.toString(), readToken(tokenFile));
}
