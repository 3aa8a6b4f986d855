// Absolute paths of the external tools the agent runs. A tool is looked up once in the fixed
// system directories (never $PATH, which a caller could influence) and cached.

import { accessSync, constants } from 'node:fs';

const DIRS = ['/usr/sbin', '/usr/bin', '/sbin', '/bin', '/usr/local/sbin', '/usr/local/bin'];
const cache = new Map<string, string | null>();

/** Absolute path of a tool, or null when it is not installed. */
export function findTool(name: string): string | null {
  if (name.startsWith('/')) return name;
  if (!/^[A-Za-z0-9._+-]+$/.test(name)) throw new Error(`bad tool name ${JSON.stringify(name)}`);
  const hit = cache.get(name);
  if (hit !== undefined) return hit;
  let found: string | null = null;
  for (const d of DIRS) {
    try {
      accessSync(`${d}/${name}`, constants.X_OK);
      found = `${d}/${name}`;
      break;
    } catch {
      /* next */
    }
  }
  cache.set(name, found);
  return found;
}

/** Absolute path of a tool; throws a CommandError-compatible NotFound when missing. */
export function toolPath(name: string): string {
  const p = findTool(name);
  if (p === null) throw Object.assign(new Error(`tool ${name} is not installed (looked in ${DIRS.join(', ')})`), { kind: 'NotFound' as const, tool: name });
  return p;
}

/** For tests: forget cached lookups. */
export function resetToolCache(): void {
  cache.clear();
}
