// What the container benchmarks compare the agent against: a runner that counts the processes a
// step spawns (the figure that does not depend on machine load), and the bridge setup done the
// way a script without batching would, one `ip` process per object.

import { performance } from 'node:perf_hooks';
import { nthHost } from '@seconet/core';
import type { HostEnv } from '../../packages/agent/src/host-env.js';
import type { OwnedObject } from '../../packages/agent/src/journal/objects.js';
import { containerNetns, hostVeth } from '../../packages/agent/src/names.js';
import type { RunOptions, RunResult, Runner, SpawnOptions, Spawned } from '../../packages/agent/src/runner/runner.js';

/** Counts the processes each step spawns; with `trace`, keeps what each took. */
export class CountingRunner implements Runner {
  count = 0;
  trace: Array<{ what: string; ms: number }> = [];
  constructor(private readonly inner: Runner, private readonly tracing = false) {}
  async run(argv: readonly string[], opts?: RunOptions): Promise<RunResult> {
    this.count++;
    const t0 = performance.now();
    const r = await this.inner.run(argv, opts);
    if (this.tracing) this.trace.push({ what: `${argv.slice(0, 3).join(' ')}${opts?.stdin ? ` (${opts.stdin.split('\n').length - 1} lines)` : ''}`, ms: performance.now() - t0 });
    return r;
  }
  spawn(argv: readonly string[], opts?: SpawnOptions): Spawned {
    this.count++;
    return this.inner.spawn(argv, opts);
  }
}

/**
 * A bridge with `n` containers (namespace, veth, bridge port, address, default route), one `ip`
 * process per object, in order. `record` sees each object before it is made (a journal).
 */
export async function perObjectBridge(
  runner: Runner,
  env: HostEnv,
  scope: string,
  n: number,
  o: { bridge: string; cidr: string; prefixLen: number; record?: (objs: OwnedObject[]) => Promise<void> },
): Promise<void> {
  const h = env.hostNetns!;
  const gateway = nthHost(o.cidr, 1);
  await o.record?.([{ type: 'link', name: o.bridge }]);
  await runner.run(['ip', '-n', h, 'link', 'add', o.bridge, 'type', 'bridge']);
  await runner.run(['ip', '-n', h, 'addr', 'add', `${gateway}/${o.prefixLen}`, 'dev', o.bridge]);
  await runner.run(['ip', '-n', h, 'link', 'set', o.bridge, 'up']);
  for (let i = 1; i <= n; i++) {
    const ns = containerNetns(env.prefix, scope, `c${i}`);
    const v = hostVeth(env.prefix, scope, `c${i}`);
    await o.record?.([{ type: 'netns', name: ns }, { type: 'link', name: v }]);
    await runner.run(['ip', 'netns', 'add', ns]);
    await runner.run(['ip', '-n', h, 'link', 'add', v, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
    await runner.run(['ip', '-n', h, 'link', 'set', v, 'master', o.bridge]);
    await runner.run(['ip', '-n', h, 'link', 'set', v, 'up']);
    await runner.run(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    await runner.run(['ip', '-n', ns, 'link', 'set', 'eth0', 'up']);
    await runner.run(['ip', '-n', ns, 'addr', 'add', `${nthHost(o.cidr, i + 1)}/${o.prefixLen}`, 'dev', 'eth0']);
    await runner.run(['ip', '-n', ns, 'route', 'add', 'default', 'via', gateway]);
  }
}
