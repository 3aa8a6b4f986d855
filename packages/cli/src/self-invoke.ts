// How to start this CLI again as a child process (lab daemons, tests): the same Node binary with
// the same loader flags, and the entry that matches how this process runs: src/main.ts under
// tsx in development and tests, dist/main.js once built. Test-runner instrumentation flags are
// dropped so daemons do not report into a test run they outlive.

import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';

const KEEP = /^--(import|conditions|loader|require|experimental-[a-z-]+|enable-source-maps|no-warnings)(=|$)/;

/** The Node flags that affect module loading, from `execArgv`. */
export function loaderFlags(execArgv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const a = execArgv[i]!;
    if (!KEEP.test(a)) continue;
    if (a.includes('=') || a === '--enable-source-maps' || a === '--no-warnings' || a.startsWith('--experimental-')) {
      if (!a.includes('@tapjs')) out.push(a);
      continue;
    }
    const v = execArgv[i + 1];
    i++;
    if (v !== undefined && !v.includes('@tapjs')) out.push(a, v);
  }
  return out;
}

/** The entry module of the CLI next to this file (main.ts in sources, main.js in dist). */
export function cliEntry(): string {
  const self = fileURLToPath(import.meta.url);
  return fileURLToPath(new URL(`./main${extname(self)}`, import.meta.url));
}

/** argv (absolute node path first) that runs `seconet <args...>` the way this process runs. */
export function selfArgv(args: readonly string[], execArgv: readonly string[] = process.execArgv): string[] {
  return [process.execPath, ...loaderFlags(execArgv), cliEntry(), ...args];
}
