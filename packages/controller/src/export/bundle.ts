// The results bundle: everything a report needs (spec, cells and verdicts, runs, rows, series,
// host samples, decisions, hosts' kernels and versions, optionally raw tool outputs) in one
// gzip'd JSON file, `<name>.seconet.json.gz`, so `seconet report --bundle FILE` renders the
// same report on another machine. Non-finite numbers (an undefined interval is ±Infinity) are
// tagged so they survive JSON. Written to a temporary file and renamed, so a crash never
// leaves half a bundle; reading bounds the inflated size and checks the format tag.

import { randomBytes } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import { SeconetError } from '@seconet/core';
import type { ReportData } from '../report/types.js';

export const BUNDLE_FORMAT = 'seconet-results-bundle';
export const BUNDLE_VERSION = 1;
export const BUNDLE_SUFFIX = '.seconet.json.gz';
const MAX_INFLATED = 1024 * 1024 * 1024;

export interface RawOutput {
  readonly run: string;
  readonly pair: string;
  readonly tool: string;
  readonly argv?: readonly string[];
  readonly text: string;
}

export type BundleData = ReportData & { readonly rawOutputs?: readonly RawOutput[] };

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

function replacer(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? { $num: String(value) } : value;
}

function reviver(_key: string, value: unknown): unknown {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const keys = Object.keys(value);
    if (keys.length === 1 && keys[0] === '$num') return Number((value as { $num: string }).$num);
  }
  return value;
}

export async function encodeBundle(data: BundleData): Promise<Buffer> {
  const doc = { format: BUNDLE_FORMAT, version: BUNDLE_VERSION, ...data };
  return gzipAsync(Buffer.from(JSON.stringify(doc, replacer)), { level: 6 });
}

export async function decodeBundle(buf: Buffer, source = 'bundle'): Promise<BundleData> {
  let text: string;
  try {
    text = (await gunzipAsync(buf, { maxOutputLength: MAX_INFLATED })).toString('utf8');
  } catch (e) {
    throw new SeconetError('INVALID_ARGUMENT', `${source} is not a gzip'd seconet results bundle (${(e as Error).message})`, { field: 'bundle', cause: e });
  }
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(text, reviver) as Record<string, unknown>;
  } catch (e) {
    throw new SeconetError('INVALID_ARGUMENT', `${source} holds no valid JSON: ${(e as Error).message}`, { field: 'bundle', cause: e });
  }
  if (doc['format'] !== BUNDLE_FORMAT) throw new SeconetError('INVALID_ARGUMENT', `${source} is not a seconet results bundle (format ${JSON.stringify(doc['format'])})`, { field: 'bundle' });
  if (doc['version'] !== BUNDLE_VERSION) throw new SeconetError('INVALID_ARGUMENT', `${source} is bundle version ${String(doc['version'])}; this seconet reads version ${BUNDLE_VERSION}: use a matching seconet`, { field: 'bundle' });
  for (const k of ['cells', 'skipped', 'runs', 'rows', 'series', 'hostSamples', 'decisions', 'hosts']) {
    if (!Array.isArray(doc[k])) throw new SeconetError('INVALID_ARGUMENT', `${source} lacks the list '${k}'`, { field: `bundle.${k}` });
  }
  const ex = doc['experiment'] as Record<string, unknown> | undefined;
  if (!ex || typeof ex['id'] !== 'string' || typeof ex['name'] !== 'string') throw new SeconetError('INVALID_ARGUMENT', `${source} lacks the experiment's id and name`, { field: 'bundle.experiment' });
  delete doc['format'];
  delete doc['version'];
  return doc as unknown as BundleData;
}

/** Writes `data` to `file` (conventionally ending in .seconet.json.gz), atomically, 0600 like the rest of the data directory. */
export async function writeBundle(data: BundleData, file: string): Promise<void> {
  const buf = await encodeBundle(data);
  const tmp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, buf, { mode: 0o600, flag: 'wx' });
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

export async function readBundle(file: string): Promise<BundleData> {
  let buf: Buffer;
  try {
    buf = await readFile(file);
  } catch (e) {
    throw new SeconetError('NOT_FOUND', `cannot read the bundle ${file}: ${(e as Error).message}`, { field: 'bundle', cause: e });
  }
  return decodeBundle(buf, file);
}
