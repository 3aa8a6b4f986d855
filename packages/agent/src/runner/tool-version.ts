// The one reader of external tools' versions. Whether a tool is installed is a file lookup
// (findTool: no process runs), so a slow or failing version command never makes an installed
// tool look missing. The version itself is read from the tool's output or, for tools without
// a version flag or whose flag does more than print (swanctl talks to charon), from the
// Debian package database. A read that fails keeps its cause (timed out, refused, exit code)
// and is not cached: the next probe tries again. Successful reads are cached per runner (a
// guest runner and the machine's runner may see different tools).

import { accessSync, constants } from 'node:fs';
import { CommandError, type CommandFailureKind } from './errors.js';
import type { Runner } from './runner.js';
import { findTool } from './tools.js';

export interface VersionSource {
  /** Command whose output carries the version (argv[0] is the tool). */
  readonly argv?: readonly string[];
  /** Debian package whose version stands for the tool's (read with dpkg-query, no tool runs). */
  readonly dpkg?: string;
  /** Version = first capture group of the first match in stdout + stderr; default: the first version-looking word. */
  readonly re?: RegExp;
  /** Instead of `re`: turns the output into the version ('' when there is none). */
  readonly parse?: (text: string) => string;
  /** Exit codes after which the output still holds the version (default 0, 1, 2). */
  readonly okCodes?: readonly number[];
  /** Default 10 s. */
  readonly timeoutMs?: number;
}

export type VersionRead =
  | { readonly ok: true; readonly version: string }
  | { readonly ok: false; readonly kind: CommandFailureKind | 'NotInstalled'; readonly reason: string };

export type InstalledTool =
  | { readonly installed: true; readonly path: string; readonly version: string; readonly read: VersionRead }
  | { readonly installed: false };

/** The file exists and may be executed (no process started). */
export function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

const DEFAULT_PATTERNS = [/(?:version|v)\s*(\d+\.\d+(?:\.\d+)*)/i, /(\d+\.\d+(?:\.\d+)*)/];

/** The version in a tool's output: `re`'s first group, or the first version-looking word; '' when none. */
export function parseVersionText(text: string, re?: RegExp): string {
  for (const p of re ? [re] : DEFAULT_PATTERNS) {
    const m = p.exec(text);
    if (m) return (m[1] ?? m[0]).trim();
  }
  return '';
}

function describe(e: unknown): { kind: CommandFailureKind; reason: string } {
  if (e instanceof CommandError) return { kind: e.kind, reason: e.message };
  const kind = (e as { kind?: unknown }).kind;
  return { kind: typeof kind === 'string' ? (kind as CommandFailureKind) : 'Failed', reason: e instanceof Error ? e.message : String(e) };
}

function sourceArgv(source: VersionSource): readonly string[] {
  if (source.dpkg !== undefined) return ['dpkg-query', '-W', '-f', '${Version}', source.dpkg];
  if (source.argv === undefined || source.argv.length === 0) throw new Error('a version source needs argv or dpkg');
  return source.argv;
}

async function readOnce(runner: Runner, source: VersionSource): Promise<VersionRead> {
  const argv = sourceArgv(source);
  const timeoutMs = source.timeoutMs ?? 10_000;
  try {
    if (source.dpkg !== undefined) {
      const r = await runner.run(argv, { timeoutMs, okCodes: [0, 1] });
      if (r.exitCode !== 0 || r.stdout.trim() === '') return { ok: false, kind: 'NotInstalled', reason: `Debian package ${source.dpkg} is not installed (${argv.join(' ')}: ${r.stderr.trim() || `exit ${r.exitCode}`})` };
      const version = parseVersionText(r.stdout.trim(), source.re ?? /^(.+)$/);
      return { ok: true, version };
    }
    const r = await runner.run(argv, { timeoutMs, okCodes: source.okCodes ?? [0, 1, 2] });
    const text = `${r.stdout}\n${r.stderr}`;
    const version = source.parse ? source.parse(text) : parseVersionText(text, source.re);
    if (version === '') return { ok: false, kind: 'Failed', reason: `${argv.join(' ')} printed no version (exit ${r.exitCode}): ${`${r.stdout}\n${r.stderr}`.trim().split('\n')[0] ?? ''}` };
    return { ok: true, version };
  } catch (e) {
    return { ok: false, ...describe(e) };
  }
}

const cache = new WeakMap<Runner, Map<string, Promise<VersionRead>>>();

/** Reads a version; successes are cached per runner and source, failures are not. */
export function readVersion(runner: Runner, source: VersionSource): Promise<VersionRead> {
  let perRunner = cache.get(runner);
  if (perRunner === undefined) cache.set(runner, (perRunner = new Map()));
  const key = JSON.stringify([source.dpkg, source.argv, source.re?.source, source.parse?.toString()]);
  const hit = perRunner.get(key);
  if (hit !== undefined) return hit;
  const p = readOnce(runner, source);
  perRunner.set(key, p);
  void p.then((r) => {
    if (!r.ok) perRunner.delete(key);
  });
  return p;
}

/** The version, or `unknown (<why>)` when it could not be read. */
export function versionText(read: VersionRead): string {
  return read.ok ? read.version || 'unknown' : `unknown (${read.reason})`;
}

/**
 * Whether `tool` is installed (a file lookup in the system directories, or `path` when it
 * lives elsewhere) and, when it is, its version (default source: `<tool> --version`).
 */
export async function installedTool(runner: Runner, tool: string, source: VersionSource = {}, path?: string): Promise<InstalledTool> {
  const found = path === undefined ? findTool(tool) : executable(path) ? path : null;
  if (found === null) return { installed: false };
  const read = await readVersion(runner, source.argv === undefined && source.dpkg === undefined ? { ...source, argv: [tool, '--version'] } : source);
  return { installed: true, path: found, version: versionText(read), read };
}

/** For tests: forget cached versions. */
export function resetVersionCache(runner: Runner): void {
  cache.delete(runner);
}
