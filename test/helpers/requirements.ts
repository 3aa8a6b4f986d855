// What a test needs from the machine, checked in one place. A test that cannot run here says
// why and skips; under CI (CI=true) the machine is set up by scripts/setup.sh, which installs
// every tool the suite uses and runs as root, so a missing tool or root is a broken CI machine:
// the test FAILS with the same reason instead of passing as a skip nobody reads.
//
// Skips that stay skips everywhere (the kernel lacks a module, a tool is not packaged for
// Debian) are written as tap's `{ skip: reason }` option with the reason; they are not this
// helper's business.
//
// Call at the top of a test body, before any assertion:
//   if (!requireRoot(t, 'network namespaces')) return;
//   if (!requireTool(t, 'ITGSend', 'the D-ITG workloads')) return;

import { accessSync, constants } from 'node:fs';
import { findTool } from '../../packages/agent/src/runner/tools.js';

/** The part of a tap test these helpers use. */
export interface Gate {
  plan(n: number, comment?: string): void;
  fail(message: string): unknown;
}

/** True when missing requirements fail instead of skip: CI=true (or 1/yes), as CI providers set it. */
export function strictRequirements(env: NodeJS.ProcessEnv = process.env): boolean {
  return /^(1|true|yes)$/i.test(env['CI'] ?? '');
}

/**
 * The primitive: `problem` undefined means the test can run (true). Otherwise the test is
 * skipped with `problem` as its reason, or, under CI, fails with it (false either way: return).
 * `optional` names an environment switch of scripts/setup.sh that turned the install off; a
 * requirement switched off there stays a skip under CI.
 */
export function requirement(t: Gate, problem: string | undefined, opts: { readonly optional?: string | undefined; readonly env?: NodeJS.ProcessEnv } = {}): boolean {
  if (problem === undefined) return true;
  const env = opts.env ?? process.env;
  const optedOut = opts.optional !== undefined && env[opts.optional] === '0';
  if (strictRequirements(env) && !optedOut) {
    t.fail(`${problem} (CI=true: CI machines are set up as root by scripts/setup.sh, so this is a failure, not a skip)`);
  } else {
    t.plan(0, problem);
  }
  return false;
}

/** Tools whose install scripts/setup.sh can be told to leave out, with the switch that does it. */
const SETUP_SWITCHES: Readonly<Record<string, string>> = { chromium: 'SECONET_SETUP_BROWSER' };

/** Path of a tool (a name looked up like the agent does, or an absolute path), or null. */
export function toolAt(tool: string): string | null {
  if (!tool.startsWith('/')) return findTool(tool);
  try {
    accessSync(tool, constants.X_OK);
    return tool;
  } catch {
    return null;
  }
}

/** Needs `tool` (name or absolute path) for `why`; see requirement(). */
export function requireTool(t: Gate, tool: string, why: string, env: NodeJS.ProcessEnv = process.env): boolean {
  const name = tool.slice(tool.lastIndexOf('/') + 1);
  return requirement(t, toolAt(tool) === null ? `${tool} is not installed; needed for ${why}` : undefined, { optional: SETUP_SWITCHES[name], env });
}

/** Needs every tool in `tools`; the first missing one is reported. */
export function requireTools(t: Gate, tools: readonly string[], why: string, env: NodeJS.ProcessEnv = process.env): boolean {
  const missing = tools.find((x) => toolAt(x) === null);
  return missing === undefined ? true : requireTool(t, missing, why, env);
}

export const isRoot = process.getuid?.() === 0;

/** Needs root for `why` (network namespaces, bpffs, daemons); see requirement(). */
export function requireRoot(t: Gate, why: string, env: NodeJS.ProcessEnv = process.env, root: boolean = isRoot): boolean {
  return requirement(t, root ? undefined : `needs root for ${why}`, { env });
}
