// Filter probes load a real rule set into a throwaway network namespace (never the host's or
// the root namespace), so "available" means "this kernel accepted it", not "the tool exists".

import { randomBytes } from 'node:crypto';
import { objectName } from '@seconet/core';
import type { ProbeContext } from '../driver.js';

export async function withProbeNetns<T>(ctx: ProbeContext, fn: (netns: string) => Promise<T>): Promise<T> {
  const netns = objectName(ctx.env.prefix, 'f', ['probe', randomBytes(6).toString('hex')]);
  await ctx.runner.run(['ip', 'netns', 'add', netns]);
  try {
    return await fn(netns);
  } finally {
    await ctx.runner.run(['ip', 'netns', 'del', netns]).catch(() => undefined);
  }
}

/** The first line of a tool's version output, or "" when the tool is missing. */
export async function toolVersion(ctx: ProbeContext, argv: readonly string[]): Promise<string> {
  try {
    const r = await ctx.runner.run(argv, { timeoutMs: 5000 });
    return (r.stdout || r.stderr).trim().split('\n')[0]?.trim() ?? '';
  } catch {
    return '';
  }
}

export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
