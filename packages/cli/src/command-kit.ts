// The shared plumbing of every command: global options (--json, --api, --token-file), and an
// action wrapper that turns a returned code or a thrown error into the process exit code.

import type { Command } from 'commander';
import type { GlobalOptions } from './connection.js';
import { makeOut, reportError, type Out } from './output.js';

export function globals(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals<GlobalOptions>();
}

export function outFor(cmd: Command): Out {
  return makeOut(globals(cmd).json === true);
}

/** Wraps an action: its resolved number (default 0) or the thrown error's code becomes the exit code. */
export function act<A extends unknown[]>(fn: (...args: A) => Promise<number | void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    const cmd = args[args.length - 1] as Command;
    try {
      process.exitCode = (await fn(...args)) ?? 0;
    } catch (e) {
      process.exitCode = reportError(e, globals(cmd).json === true);
    }
  };
}

export function examples(lines: readonly string[]): string {
  return `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`;
}
