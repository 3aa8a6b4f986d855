// Sysctls the filters and the OVS solution need in the host namespace (bridge-nf-call-iptables,
// ip_forward). A sysctl is journaled with its previous value before it is written, and only when
// it differs, so teardown restores exactly what this agent changed.

import { SeconetError } from '@seconet/core';
import type { DriftReport, DriverContext } from '../driver.js';

/** br_netfilter: bridged IPv4 traverses the netfilter (iptables and inet) hooks. */
export const BRIDGE_NF = 'net.bridge.bridge-nf-call-iptables';

const KEY_RE = /^[a-z0-9_]+(\.[a-z0-9_-]+)+$/;

/** Sets `key` to `value` in the host namespace; returns true when it changed something. */
export async function ensureHostSysctl(ctx: DriverContext, key: string, value: string, restore: boolean): Promise<boolean> {
  if (!KEY_RE.test(key) || !/^[0-9]+$/.test(value)) throw new SeconetError('INTERNAL', `bad sysctl ${key}=${value}`);
  const netns = ctx.env.hostNetns;
  const cur = (await ctx.runner.run(['sysctl', '-n', key], { netns })).stdout.trim();
  if (cur === value) return false;
  await ctx.journal.record({ type: 'sysctl', key, previous: cur, netns, restore });
  await ctx.runner.run(['sysctl', '-q', '-w', `${key}=${value}`], { netns });
  return true;
}

/** A drift entry when `key` in the host namespace is not `value`. */
export async function hostSysctlDrift(ctx: DriverContext, key: string, value: string): Promise<DriftReport[]> {
  const cur = (await ctx.runner.run(['sysctl', '-n', key], { netns: ctx.env.hostNetns })).stdout.trim();
  return cur === value ? [] : [{ object: `sysctl ${key}`, expected: value, observed: cur }];
}
