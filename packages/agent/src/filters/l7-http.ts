// The l7-http filter: an HTTP policy enforced by a real L7 proxy in the path, the way CNIs send
// L7 traffic through a userspace proxy (Cilium's Envoy, Calico's application layer policy).
// Only `GET /` passes between an allowed pair; any other method or path gets 403 from the proxy.
//
// Two layers. L3/L4 is the iptables filter's chain, unchanged (default deny between guarded
// networks, the allowed pairs, the decoy rules): denied pairs stay denied below HTTP. L7 is one
// HAProxy per sink container of this host (a container that is the destination of an allowed
// pair), run by the agent in that container's namespace: a nat chain of ours in the
// container's PREROUTING redirects TCP to the container's address to HAProxy's port
// (L7_PROXY_PORT), HAProxy applies `http-request deny unless GET /` and forwards what passes to
// the original destination (`server 0.0.0.0`: the address and port the client connected to,
// which HAProxy reads back with SO_ORIGINAL_DST), i.e. the workload's server in the same
// namespace; its own connection leaves through OUTPUT, which the redirect does not see.
// Each configuration is written 0600 under the scope's run directory and validated with
// `haproxy -c` before HAProxy starts; HAProxy runs in the foreground (-db), journaled by PID and
// start time like the tunnel daemons, so Teardown and GC stop it by PID (and GC finds an
// unjournaled one by the configuration path on its command line, orphan-daemons.ts). Its CPU
// shows in the host metrics like any process of the host.

import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SeconetError, objectName, pollUntil, requireIPv4 } from '@seconet/core';
import type { CapabilityReport, ContainerHandle, DriftReport, DriverContext, EnsureResult, FilterDriver, NetworkView, ProbeContext } from '../driver.js';
import type { FilterSpec__Output } from '../gen/seconet/agent/v1/FilterSpec.js';
import type { OwnedObject } from '../journal/objects.js';
import { hostWaitMs } from '../host-env.js';
import { daemonDrift, ensureDaemon, logTail, scopeRunDir, writePrivateFile, type DaemonNote } from '../tunnels/daemons.js';
import { IptablesFilter } from './iptables.js';
import { errorText, toolVersion } from './probe-netns.js';

/** HAProxy's listening port in each sink container; workload ports stay below it. */
export const L7_PROXY_PORT = 15001;
const KIND = 'l7-http';
/** Concurrent connections one proxy takes (the studies use 100). */
export const L7_MAX_CONNECTIONS = 4000;

export function l7Chain(prefix: string, scope: string): string {
  return objectName(prefix, 'f', [scope, 'l7']);
}

/** HAProxy's configuration for one sink container. */
export function haproxyConfig(address: string): string {
  const addr = requireIPv4('state.containers.address', address);
  return [
    'global',
    // Two descriptors per proxied connection: 4000 stays within a 10,000 descriptor limit.
    `  maxconn ${L7_MAX_CONNECTIONS}`,
    'defaults',
    `  maxconn ${L7_MAX_CONNECTIONS}`,
    '  mode http',
    '  timeout connect 5s',
    '  timeout client 60s',
    '  timeout server 60s',
    'frontend l7',
    `  bind ${addr}:${L7_PROXY_PORT}`,
    '  http-request deny deny_status 403 unless { method GET } { path / }',
    '  default_backend sink',
    'backend sink',
    // 0.0.0.0 without a port: the address and port the client connected to (before the redirect).
    '  server sink 0.0.0.0',
    '',
  ].join('\n');
}

/** The jump from the container's PREROUTING (argv after `-A PREROUTING`, in iptables-save's order). */
export function l7Jump(chain: string, address: string): string[] {
  return ['-d', `${address}/32`, '-p', 'tcp', '-m', 'comment', '--comment', chain, '-j', chain];
}

/** iptables-restore input: the nat chain that sends TCP to `address` to HAProxy (not HAProxy's own port). */
export function l7Restore(chain: string, address: string): string {
  return [
    '*nat',
    `:${chain} - [0:0]`,
    `-A PREROUTING ${l7Jump(chain, address).join(' ')}`,
    `-A ${chain} -p tcp -m tcp --dport ${L7_PROXY_PORT} -j RETURN`,
    `-A ${chain} -p tcp -j REDIRECT --to-ports ${L7_PROXY_PORT}`,
    'COMMIT',
    '',
  ].join('\n');
}

/** The sink containers of this host: destinations of an allowed pair. */
export function sinkContainers(spec: FilterSpec__Output, view: NetworkView): ContainerHandle[] {
  const sinks = new Set(spec.allow.map((a) => a.dst));
  return view.containers.filter((c) => sinks.has(c.spec.address));
}

const noteKey = (container: string): string => `filter.${KIND}.${container}`;
const digestOf = (text: string): string => createHash('sha256').update(text).digest('hex').slice(0, 32);

export class L7HttpFilter implements FilterDriver {
  readonly kind = KIND;
  private readonly l4 = new IptablesFilter();

  async probe(ctx: ProbeContext): Promise<CapabilityReport[]> {
    const version = await toolVersion(ctx, ['haproxy', '-v']);
    const base = { category: 'filter', kind: this.kind, variant: 'userspace', version } as const;
    if (version === '') return [{ ...base, available: false, reason: 'haproxy is not installed: apt-get install haproxy' }];
    const l4 = (await this.l4.probe(ctx))[0];
    if (l4 === undefined || !l4.available) return [{ ...base, available: false, reason: `its L3/L4 layer is the iptables filter, which is unavailable: ${l4?.reason ?? 'not probed'}` }];
    // A configuration of the shape ensure() writes must pass HAProxy's own check.
    const dir = await mkdtemp(join(tmpdir(), 'seconet-l7-probe-'));
    try {
      const cfg = join(dir, 'probe.cfg');
      await writeFile(cfg, haproxyConfig('198.19.0.2'), { mode: 0o600 });
      await ctx.runner.run(['haproxy', '-c', '-q', '-f', cfg]);
      return [{ ...base, available: true, reason: '' }];
    } catch (e) {
      return [{ ...base, available: false, reason: `haproxy refused the proxy configuration: ${errorText(e)}` }];
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  async ensure(ctx: DriverContext, spec: FilterSpec__Output, view: NetworkView): Promise<EnsureResult> {
    const l4 = await this.l4.ensure(ctx, spec, view);
    const version = await toolVersion(ctx, ['haproxy', '-v']);
    let changed = l4.changed;
    const sinks = sinkContainers(spec, view);
    const chain = l7Chain(ctx.env.prefix, ctx.scope);
    const dir = sinks.length > 0 ? await scopeRunDir(ctx, KIND) : '';
    for (const c of sinks) {
      const cfg = join(dir, `${c.spec.name}.cfg`);
      const text = haproxyConfig(c.spec.address);
      await writePrivateFile(ctx, cfg, text);
      try {
        await ctx.runner.run(['haproxy', '-c', '-q', '-f', cfg]);
      } catch (e) {
        throw new SeconetError('COMMAND_FAILED', `state.filter: haproxy refused the configuration ${cfg} of container ${c.spec.name}: ${errorText(e)}`, { field: 'state.filter', cause: e });
      }
      const started = await ensureDaemon(ctx, {
        key: noteKey(c.spec.name),
        digest: digestOf(text),
        argv: ['haproxy', '-db', '-f', cfg],
        opts: { what: `haproxy ${c.spec.name}`, logFile: join(dir, `${c.spec.name}.log`), netns: c.netns },
      });
      if (started) await this.waitListening(ctx, c, join(dir, `${c.spec.name}.log`));
      const obj: OwnedObject = { type: 'iptables-chain', table: 'nat', chain, jumps: [{ from: 'PREROUTING', rule: l7Jump(chain, c.spec.address) }], netns: c.netns };
      await ctx.journal.record(obj);
      const loaded = await ctx.runner.run(['iptables-save', '-t', 'nat'], { netns: c.netns });
      if (!loaded.stdout.includes(`-A PREROUTING ${l7Jump(chain, c.spec.address).join(' ')}`)) {
        await ctx.runner.run(['iptables-restore', '-w', '--noflush'], { netns: c.netns, stdin: l7Restore(chain, c.spec.address) });
        changed = true;
      }
      changed ||= started;
    }
    return { changed, variant: 'userspace', version };
  }

  /** HAProxy is ready when it listens on its port in the container; one that exits says why in its log. */
  private async waitListening(ctx: DriverContext, c: ContainerHandle, logFile: string): Promise<void> {
    const ms = hostWaitMs(ctx.env, 5000);
    const listening = async (): Promise<boolean> => {
      const r = await ctx.runner.run(['ss', '-Hltn', `sport = :${L7_PROXY_PORT}`], { netns: c.netns }).catch(() => ({ stdout: '' }));
      return r.stdout.trim() !== '';
    };
    if (!(await pollUntil(listening, ms, 25))) {
      throw new SeconetError('COMMAND_FAILED', `haproxy ${c.spec.name} did not listen on ${c.spec.address}:${L7_PROXY_PORT} within ${ms} ms: ${await logTail(logFile)}`);
    }
  }

  async check(ctx: DriverContext, spec: FilterSpec__Output, view: NetworkView): Promise<DriftReport[]> {
    const drifts = await this.l4.check(ctx, spec, view);
    const chain = l7Chain(ctx.env.prefix, ctx.scope);
    for (const c of sinkContainers(spec, view)) {
      drifts.push(...daemonDrift(ctx.journal.note(noteKey(c.spec.name)) as DaemonNote | undefined, `haproxy ${c.spec.name}`));
      const saved = await ctx.runner.run(['iptables-save', '-t', 'nat'], { netns: c.netns }).catch(() => ({ stdout: '' }));
      if (!saved.stdout.includes(`-A PREROUTING ${l7Jump(chain, c.spec.address).join(' ')}`)) drifts.push({ object: `iptables nat redirect to haproxy in ${c.netns}`, expected: 'present', observed: 'missing' });
    }
    return drifts;
  }
}
