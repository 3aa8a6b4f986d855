// Filter probes load a real rule set into a throwaway network namespace (never the host's or
// the root namespace), so "available" means "this kernel accepted it", not "the tool exists".

import { randomBytes } from 'node:crypto';
import { objectName } from '@seconet/core';
import type { ProbeContext } from '../driver.js';
import { installedTool } from '../runner/tool-version.js';

export async function withProbeNetns<T>(ctx: ProbeContext, fn: (netns: string) => Promise<T>): Promise<T> {
  const netns = objectName(ctx.env.prefix, 'f', ['probe', randomBytes(6).toString('hex')]);
  await ctx.runner.run(['ip', 'netns', 'add', netns]);
  try {
    return await fn(netns);
  } finally {
    await ctx.runner.run(['ip', 'netns', 'del', netns]).catch(() => undefined);
  }
}

/** The first line of a tool's version output (or why it could not be read), "" when the tool is not installed. */
export async function toolVersion(ctx: ProbeContext, argv: readonly [string, ...string[]]): Promise<string> {
  const t = await installedTool(ctx.runner, argv[0], { argv, re: /^\s*(\S.*)$/m, okCodes: [0] });
  return t.installed ? t.version : '';
}

export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
