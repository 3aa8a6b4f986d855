// A loopback TCP port that was free a moment ago, for daemons that must be told their port before
// they start (lab Redis, lab agents, test agents). Ports are drawn at random *below* the kernel's
// ephemeral range (net.ipv4.ip_local_port_range): a port the kernel handed out with listen(0) is
// also what it hands out as the source port of the next outgoing connection, so between our
// close() and the daemon's bind() any connect() on the machine could take it (seen as a daemon
// that never listens). A random port outside that range can only be taken by another listener.

import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

const LOWEST = 10_000;

/** The kernel's ephemeral range, or Linux's default when it cannot be read. */
export function ephemeralPortRange(): readonly [number, number] {
  try {
    const [lo, hi] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (Number.isInteger(lo) && Number.isInteger(hi) && lo! > 0 && hi! >= lo!) return [lo!, hi!];
  } catch {
    // not Linux, or /proc not mounted: use the default below
  }
  return [32_768, 60_999];
}

function tryListen(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

/** A port on `host` that nothing listened on just now, outside the ephemeral range. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const [lo, hi] = ephemeralPortRange();
  // The widest span outside the ephemeral range: below it normally, above it if it starts low.
  const [from, to] = lo - LOWEST >= 65_535 - hi ? [LOWEST, lo - 1] : [hi + 1, 65_535];
  for (let i = 0; i < 200; i++) {
    const port = from + Math.floor(Math.random() * (to - from + 1));
    if (await tryListen(port, host)) return port;
  }
  throw new Error(`no free TCP port on ${host} in ${from}-${to} after 200 tries`);
}

/** Several distinct free ports. */
export async function freePorts(n: number, host = '127.0.0.1'): Promise<number[]> {
  const out = new Set<number>();
  while (out.size < n) out.add(await freePort(host));
  return [...out];
}
