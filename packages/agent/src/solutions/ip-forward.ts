// IPv4 forwarding in the host namespace, which every solution needs for cross-host traffic.
// Journaled as a sysctl object with restore=false: forwarding is shared by every scope on the
// host, so restoring the old value at one scope's teardown would cut off the others.

import type { DriverContext } from '../driver.js';

export const IP_FORWARD = 'net.ipv4.ip_forward';

/** Enables net.ipv4.ip_forward in the host namespace; returns true when it changed. */
export async function ensureIpForward(ctx: DriverContext): Promise<boolean> {
  const ns = ctx.env.hostNetns === undefined ? {} : { netns: ctx.env.hostNetns };
  const cur = (await ctx.runner.run(['sysctl', '-n', IP_FORWARD], ns)).stdout.trim();
  await ctx.journal.record({ type: 'sysctl', key: IP_FORWARD, previous: cur, restore: false });
  if (cur === '1') return false;
  await ctx.runner.run(['sysctl', '-q', '-w', `${IP_FORWARD}=1`], ns);
  return true;
}
