// Probes load real objects into a throwaway network namespace (never the host's or the root
// namespace), so "available" means "this kernel accepted it", not "the tool exists". The one
// helper every probe (tunnels, filters, OVS) uses.

import { randomBytes } from 'node:crypto';
import { objectName } from '@seconet/core';
import { holdingForProbe } from '../capabilities/in-flight.js';
import type { ProbeContext } from '../driver.js';

/** Runs `fn` in a fresh namespace that is deleted afterwards; a failed deletion is reported unless `fn` already failed. */
export async function withProbeNetns<T>(ctx: ProbeContext, fn: (netns: string) => Promise<T>): Promise<T> {
  const netns = objectName(ctx.env.prefix, 'z', ['probe', randomBytes(6).toString('hex')]);
  return holdingForProbe([netns], () => inProbeNetns(ctx, netns, fn));
}

async function inProbeNetns<T>(ctx: ProbeContext, netns: string, fn: (netns: string) => Promise<T>): Promise<T> {
  await ctx.runner.run(['ip', 'netns', 'add', netns]);
  let result: T;
  try {
    result = await fn(netns);
  } catch (e) {
    await ctx.runner.run(['ip', 'netns', 'del', netns]).catch(() => undefined);
    throw e;
  }
  await ctx.runner.run(['ip', 'netns', 'del', netns]);
  return result;
}
