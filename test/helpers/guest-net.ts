// Network checks inside full-kernel guests, shared by the fullkernel tests: one ping (optionally
// from a source address, with a payload size and don't-fragment), pings until one answers, and a
// device's MTU and packet counters.
import type { GuestRunner } from '../../packages/agent/src/fullkernel/guest-runner.js';

export interface PingOptions {
  readonly src?: string | undefined;
  readonly size?: number;
  readonly df?: boolean;
}

/** One echo request; true when it was answered. */
export async function ping(r: GuestRunner, to: string, o: PingOptions = {}): Promise<boolean> {
  const argv = ['ping', '-n', '-q', '-c', '1', '-W', '2'];
  if (o.size !== undefined) argv.push('-s', String(o.size));
  if (o.df === true) argv.push('-M', 'do');
  if (o.src !== undefined) argv.push('-I', o.src);
  argv.push(to);
  const res = await r.run(argv, { okCodes: [0, 1, 2], timeoutMs: 15_000 });
  return /\b[1-9]\d* received/.test(res.stdout);
}

/** Pings until one is answered or `timeoutMs` (scaled to the guest's speed) has passed. */
export async function pingEventually(r: GuestRunner, to: string, o: PingOptions = {}, timeoutMs = 30_000): Promise<boolean> {
  const deadline = Date.now() + r.scaled(timeoutMs);
  while (Date.now() < deadline) if (await ping(r, to, o)) return true;
  return false;
}

/** The device's MTU and packet counters, or undefined when it does not exist. */
export async function link(r: GuestRunner, dev: string): Promise<{ mtu: number; tx: number; rx: number } | undefined> {
  const res = await r.run(['ip', '-s', '-j', 'link', 'show', 'dev', dev], { okCodes: [0, 1] });
  if (res.exitCode !== 0) return undefined;
  const l = (JSON.parse(res.stdout) as Array<{ mtu: number; stats64: { tx: { packets: number }; rx: { packets: number } } }>)[0]!;
  return { mtu: l.mtu, tx: l.stats64.tx.packets, rx: l.stats64.rx.packets };
}
