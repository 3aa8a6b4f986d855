// Tunnel kind "ipsec": IKEv2 with a pre-shared key (strongSwan charon, configured through
// swanctl over its vici socket), ESP in tunnel mode, routed through a device that carries this
// host's overlay address and the routes to the peers' container networks. One charon per host
// and scope. Traffic selectors: this host's overlay /32 and container network against each
// peer's overlay /32 and routes. IKE proposal aes256-sha256-modp2048; ESP default aes256gcm16.
//
// Variants:
// - kernel: charon with kernel-netlink; the kernel's ESP (xfrm) SAs, bound by if_id to an xfrm
//   interface (`ip link add <dev> type xfrm dev <underlay> if_id <id>`) that carries the
//   overlay address. Needs CONFIG_INET_ESP and CONFIG_XFRM_INTERFACE.
// - userspace: charon with kernel-libipsec: ESP in UDP 4500 processed inside charon, packets
//   enter and leave through the TUN device charon creates ("ipsec<N>", its name is not
//   configurable). kernel-libipsec has no acquires for trap policies, so the driver initiates
//   every child SA itself (bounded; the peer's own ensure initiates too if this one was early).
//
// Running several charons on one machine (the lab): charon's pid file is /var/run/charon.pid,
// fixed at build time. Each charon therefore gets a private mount namespace in which the
// scope's run/ directory is bind-mounted over /run (a short-lived `unshare --mount` holder
// provides the namespace; `nsenter` starts charon in it and in the host's network namespace),
// and its own STRONGSWAN_CONF naming its vici socket. The PSK stays in a 0600 swanctl.conf.
//
// What charon makes itself and removes only on SIGTERM is journalled before charon can make it,
// so teardown and GC remove it after a SIGKILL too: its policy-routing rule (priority 220 ->
// table 220, IPv4 and IPv6, added by kernel-netlink at start whatever install_routes says), the
// routes kernel-libipsec puts in table 220 for each peer's traffic selectors, and in the kernel
// variant the xfrm policies (every local x remote selector, dir out/in/fwd, with the if_id) and
// the ESP SAs between the underlay addresses (SPIs are not known ahead: removed with
// `ip xfrm state deleteall src dst proto esp`).
//
// Overhead: ESP in UDP with an AEAD cipher is outer IPv4 20 + UDP 8 + ESP header 8 + IV 8 +
// padding 0-3 + trailer 2 + ICV 16 = 62-65 bytes; the paper gives ESP as 26-41 B (+28 = 69),
// so the kernel variant uses 73 as a safe bound. kernel-libipsec reads at most 1400 bytes from
// its TUN device (its fixed TUN MTU), so the userspace variant's device MTU is 1400 and its
// overhead is underlay MTU - 1400 = 100 bytes on a 1500-byte underlay.

import { readFile, mkdir, rm, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { SeconetError, objectName, parseCidr, pollUntil } from '@seconet/core';
import type { CapabilityReport, DriftReport, DriverContext, EnsureResult, NetworkView, ProbeContext, TunnelDriver } from '../driver.js';
import type { OwnedObject } from '../journal/objects.js';
import { hostWaitMs, type HostEnv } from '../host-env.js';
import type { TunnelSpec__Output } from '../gen/seconet/agent/v1/TunnelSpec.js';
import type { TunnelPeer__Output } from '../gen/seconet/agent/v1/TunnelPeer.js';
import { scopeId } from './p2p-link.js';
import { installedTool } from '../runner/tool-version.js';
import { withProbeNetns } from '../netns/probe-netns.js';
import {
  FIELD, HEX_RE, appliedNote, cachedProbe, chooseVariant, daemonAlive, daemonDrift, digest, dropStale, ipArgv, ipBatch, kernelRelease, linkDrift, logTail, noteKey, peerRouteLines, peerRouteObjects,
  probeFailure, probeTun, readLink, report, requireKeyText, requireOverlay, requirePeersInOverlay, routeDst, routeDrift, scopeRunDir, startDaemon, stopDaemon, validatePeers, writePrivateFile,
  type DaemonNote,
} from './common.js';

const KIND = 'ipsec';
export const IPSEC_KERNEL_OVERHEAD = 73;
/** kernel-libipsec's TUN device MTU (TUN_DEFAULT_MTU in its plugin): it reads no more per packet. */
export const LIBIPSEC_TUN_MTU = 1400;
export const IPSEC_USERSPACE_OVERHEAD = 1500 - LIBIPSEC_TUN_MTU;
export const CHARON = '/usr/lib/ipsec/charon';
const IKE_PROPOSAL = 'aes256-sha256-modp2048';
/** spec.cipher -> ESP proposal; AEAD only, so the overhead bound above holds. */
const ESP: Readonly<Record<string, string>> = {
  '': 'aes256gcm16',
  'aes-256-gcm': 'aes256gcm16',
  aes256gcm16: 'aes256gcm16',
  'aes-128-gcm': 'aes128gcm16',
  aes128gcm16: 'aes128gcm16',
  'chacha20-poly1305': 'chacha20poly1305',
  chacha20poly1305: 'chacha20poly1305',
};
const PLUGINS_COMMON = 'random nonce aes sha1 sha2 hmac gcm chapoly kdf openssl curve25519 gmp pem pkcs1 x509 socket-default vici';

/** charon's routing table and the priority of its rule to it (strongswan.conf charon.routing_table, routing_table_prio). */
export const CHARON_ROUTING_TABLE = 220;

/** The rules charon adds at start (one per family) and removes at a clean stop. */
export function charonRuleObjects(env: HostEnv): OwnedObject[] {
  return ([4, 6] as const).map((family): OwnedObject => ({ type: 'ip-rule', family, priority: CHARON_ROUTING_TABLE, table: CHARON_ROUTING_TABLE, netns: env.hostNetns }));
}

/** What charon installs per peer once a child SA is up (userspace: table 220 routes; kernel: xfrm policies and SAs). */
export function charonPeerObjects(env: HostEnv, spec: TunnelSpec__Output, view: NetworkView, variant: 'kernel' | 'userspace', ifId: number): OwnedObject[] {
  const overlay = requireOverlay(spec);
  const localTs = [`${overlay.address}/32`, routeDst(view.containerCidr)];
  const netns = env.hostNetns;
  return spec.peers.flatMap((p): OwnedObject[] => {
    const remoteTs = [`${p.overlayAddress}/32`, ...p.routes.map(routeDst)];
    if (variant === 'userspace') return remoteTs.map((dst): OwnedObject => ({ type: 'route', dst, table: CHARON_ROUTING_TABLE, netns }));
    const id = ['if_id', String(ifId)];
    const policies = localTs.flatMap((l) =>
      remoteTs.flatMap((r): OwnedObject[] => [
        { type: 'xfrm-policy', selector: ['src', l, 'dst', r, 'dir', 'out', ...id], netns },
        { type: 'xfrm-policy', selector: ['src', r, 'dst', l, 'dir', 'in', ...id], netns },
        { type: 'xfrm-policy', selector: ['src', r, 'dst', l, 'dir', 'fwd', ...id], netns },
      ]),
    );
    const states: OwnedObject[] = [
      { type: 'xfrm-state', selector: ['src', spec.localAddress, 'dst', p.underlayAddress, 'proto', 'esp'], netns },
      { type: 'xfrm-state', selector: ['src', p.underlayAddress, 'dst', spec.localAddress, 'proto', 'esp'], netns },
    ];
    return [...policies, ...states];
  });
}

export function ipsecXfrmDevice(prefix: string, scope: string): string {
  return objectName(prefix, 'i', [scope]);
}

/** The variant a spec will get when it is known without probing (forced, or probed before). */
let lastProbe: CapabilityReport[] | undefined;

function connName(p: TunnelPeer__Output): string {
  return `peer-${p.name}`;
}

export function strongswanConf(variant: 'kernel' | 'userspace'): string {
  const plugins = variant === 'userspace' ? `${PLUGINS_COMMON} kernel-libipsec kernel-netlink` : `${PLUGINS_COMMON} kernel-netlink`;
  return [
    'charon {',
    `  load = ${plugins}`,
    '  install_routes = no',
    '  install_virtual_ip = no',
    '  retransmit_timeout = 1',
    '  retransmit_base = 1.4',
    '  retransmit_tries = 6',
    '  filelog {',
    '    stderr {',
    '      default = 1',
    '      flush_line = yes',
    '    }',
    '  }',
    '  plugins {',
    '    vici {',
    '      socket = unix:///run/charon.vici',
    '    }',
    '  }',
    '}',
    '',
  ].join('\n');
}

export function swanctlConf(spec: TunnelSpec__Output, view: NetworkView, variant: 'kernel' | 'userspace', ifId: number): string {
  const overlay = requireOverlay(spec);
    requirePeersInOverlay(spec, overlay);
  const esp = ESP[spec.cipher]!;
  const out: string[] = ['connections {'];
  for (const p of spec.peers) {
    const localTs = [`${overlay.address}/32`, routeDst(view.containerCidr)].join(', ');
    const remoteTs = [`${p.overlayAddress}/32`, ...p.routes.map(routeDst)].join(', ');
    out.push(
      `  ${connName(p)} {`,
      '    version = 2',
      `    local_addrs = ${spec.localAddress}`,
      `    remote_addrs = ${p.underlayAddress}`,
      `    encap = ${variant === 'userspace' ? 'yes' : 'no'}`,
      `    proposals = ${IKE_PROPOSAL}`,
      '    keyingtries = 0',
      '    dpd_delay = 10s',
      ...(variant === 'kernel' ? [`    if_id_in = ${ifId}`, `    if_id_out = ${ifId}`] : []),
      `    local {`,
      '      auth = psk',
      `      id = ${spec.localAddress}`,
      '    }',
      `    remote {`,
      '      auth = psk',
      `      id = ${p.underlayAddress}`,
      '    }',
      '    children {',
      `      ${connName(p)} {`,
      `        local_ts = ${localTs}`,
      `        remote_ts = ${remoteTs}`,
      `        esp_proposals = ${esp}`,
      '        mode = tunnel',
      '        dpd_action = restart',
      '        close_action = start',
      ...(variant === 'kernel' ? ['        start_action = trap'] : []),
      '      }',
      '    }',
      '  }',
    );
  }
  out.push('}', 'secrets {');
  for (const p of spec.peers) {
    out.push(`  ike-${p.name} {`, `    id-1 = ${spec.localAddress}`, `    id-2 = ${p.underlayAddress}`, `    secret = 0x${spec.secrets!.preSharedKey}`, '  }');
  }
  out.push('}', '');
  return out.join('\n');
}

function validate(spec: TunnelSpec__Output, view: NetworkView): void {
  validatePeers(spec, true);
  requireOverlay(spec);
  requireKeyText(`${FIELD}.secrets.preSharedKey`, spec.secrets?.preSharedKey ?? '', HEX_RE, 'IPsec pre-shared key (hex)');
  if (ESP[spec.cipher] === undefined) {
    throw new SeconetError('INVALID_ARGUMENT', `${FIELD}.cipher: ${JSON.stringify(spec.cipher)} is not offered for ipsec; use one of ${Object.keys(ESP).filter(Boolean).join(', ')} or leave it empty (aes256gcm16)`, { field: `${FIELD}.cipher` });
  }
  if (spec.port !== 0 && spec.port !== 4500) throw new SeconetError('INVALID_ARGUMENT', `${FIELD}.port: IKE uses 500 and ESP-in-UDP 4500 on every host; leave the port 0`, { field: `${FIELD}.port` });
  parseCidr(view.containerCidr);
}

interface IpsecNote {
  readonly charon: DaemonNote;
  readonly device: string;
  readonly variant: 'kernel' | 'userspace';
}

/** The mount namespace of a process, as the runner's `readlink /proc/<pid>/ns/mnt` names it; undefined while it cannot be read. */
async function mountNsId(ctx: DriverContext, pid: number | 'self'): Promise<string | undefined> {
  try {
    return (await ctx.runner.run(['readlink', `/proc/${pid}/ns/mnt`], { timeoutMs: 5000 })).stdout.trim() || undefined;
  } catch (e) {
    // The process is gone or not readable yet: not ready. A readlink that could not start is an error.
    if ((e as { spawnError?: string }).spawnError !== undefined) throw e;
    return undefined;
  }
}

/**
 * Whether charon has opened its vici socket (`test -S`; a stale socket was removed before the
 * start). Not `swanctl --stats`: swanctl loads its plugins first, which takes seconds under an
 * emulated CPU.
 */
async function viciOpen(ctx: DriverContext, sock: string): Promise<boolean> {
  return (await ctx.runner.run(['test', '-S', sock], { okCodes: [0, 1], timeoutMs: 10_000 })).exitCode === 0;
}

/** Starts charon in a private mount namespace whose /run is `runRoot`. */
async function startCharon(ctx: DriverContext, dir: string, runRoot: string): Promise<DaemonNote> {
  // A charon that was killed leaves its socket and pid file: the socket would look like a ready charon.
  await rm(join(runRoot, 'charon.vici'), { force: true });
  await rm(join(runRoot, 'charon.pid'), { force: true });
  const holderWhat = 'mount namespace holder for charon';
  const holder = await startDaemon(ctx, ['unshare', '--mount', '--propagation', 'private', 'sleep', '30'], { what: holderWhat, logFile: join(dir, 'holder.log'), noNetns: true });
  try {
    const own = await mountNsId(ctx, 'self');
    const ready = await pollUntil(async () => { const m = await mountNsId(ctx, holder.pid); return m !== undefined && m !== own; }, hostWaitMs(ctx.env, 3000), 5);
    if (!ready) throw new SeconetError('COMMAND_FAILED', `unshare --mount did not create a mount namespace: ${await logTail(join(dir, 'holder.log'))}`);
    const mnt = `--mount=/proc/${holder.pid}/ns/mnt`;
    await ctx.runner.run(['nsenter', mnt, 'mount', '--bind', runRoot, '/run']);
    const net = ctx.env.hostNetns === undefined ? [] : [`--net=/run/netns/${ctx.env.hostNetns}`];
    const logFile = join(dir, 'charon.log');
    const charon = await startDaemon(ctx, ['nsenter', mnt, ...net, CHARON], { what: `charon ${ctx.scope}`, logFile, noNetns: true, env: { STRONGSWAN_CONF: '/run/strongswan.conf' } });
    const sock = join(runRoot, 'charon.vici');
    const up = await pollUntil(async () => !charon.alive() || (await viciOpen(ctx, sock)), hostWaitMs(ctx.env, 10_000), 20);
    if (!charon.alive()) throw new SeconetError('COMMAND_FAILED', `charon exited during its start: ${await logTail(logFile)}`);
    if (!up) throw new SeconetError('COMMAND_FAILED', `charon did not open its vici socket ${sock} within ${hostWaitMs(ctx.env, 10_000)} ms: ${await logTail(logFile)}`);
    return { pid: charon.pid, startTime: charon.startTime, digest: '' };
  } finally {
    await stopDaemon(ctx, holder);
  }
}

/** The TUN device charon announced in its log after `offset` (the log is appended to across restarts). */
async function tunName(env: HostEnv, logFile: string, offset: number, pid: number): Promise<string> {
  let name: string | undefined;
  const ok = await pollUntil(async () => {
    const m = /created TUN device: (ipsec\d+)/.exec((await readFile(logFile).catch(() => Buffer.alloc(0))).subarray(offset).toString('utf8'));
    name = m?.[1];
    return name !== undefined;
  }, hostWaitMs(env, 10_000), 20);
  if (!ok || name === undefined) throw new SeconetError('COMMAND_FAILED', `charon (pid ${pid}) created no TUN device: ${await logTail(logFile)}`);
  return name;
}

export const ipsecTunnel: TunnelDriver = {
  kind: KIND,

  probe(ctx: ProbeContext): Promise<CapabilityReport[]> {
    return cachedProbe(KIND, async () => {
      // Installed = the files are there; the version comes from the package database, never
      // from running swanctl (which loads plugins and talks to charon: slow under emulation).
      const swanctl = await installedTool(ctx.runner, 'swanctl', { dpkg: 'strongswan-swanctl', re: /^(?:\d+:)?(\d+(?:\.\d+)+)/ });
      const sw = swanctl.installed ? swanctl.version : undefined;
      const release = await kernelRelease(ctx);
      const missing = sw === undefined || !existsSync(CHARON) ? 'strongSwan (charon, swanctl) is not installed: apt-get install charon-systemd strongswan-swanctl libcharon-extra-plugins' : undefined;
      const kernelErr = await withProbeNetns(ctx, async (ns) => {
        const key = `0x${Buffer.alloc(20, 7).toString('hex')}`;
        try {
          await ctx.runner.run(['ip', '-n', ns, 'link', 'add', `${ctx.env.prefix}probe`, 'type', 'xfrm', 'if_id', '1']);
        } catch (e) {
          const f = probeFailure(e);
          return f.kind === 'NotSupported' ? `kernel lacks CONFIG_XFRM_INTERFACE (ip link add type xfrm: ${f.message})` : `the xfrm interface probe failed (${f.kind}): ip link add type xfrm: ${f.message}`;
        }
        try {
          // A throwaway SA with a constant key in a throwaway namespace: only whether ESP exists matters.
          await ctx.runner.run(['ip', '-n', ns, 'xfrm', 'state', 'add', 'src', '198.18.0.1', 'dst', '198.18.0.2', 'proto', 'esp', 'spi', '0x100', 'mode', 'tunnel', 'aead', 'rfc4106(gcm(aes))', key, '128'], { secrets: [key] });
        } catch (e) {
          const f = probeFailure(e);
          return f.kind === 'NotSupported' ? `kernel lacks ESP (CONFIG_INET_ESP, GCM) (ip xfrm state add proto esp: ${f.message})` : `the ESP probe failed (${f.kind}): ip xfrm state add proto esp: ${f.message}`;
        }
        return undefined;
      });
      const kernel = report(KIND, 'kernel', missing === undefined && kernelErr === undefined, `strongSwan ${sw ?? '?'} on ${release}`, missing ?? `${kernelErr}; use a full kernel or the userspace variant (kernel-libipsec)`);
      let user: CapabilityReport;
      if (missing) user = report(KIND, 'userspace', false, '', missing);
      else if (!existsSync('/usr/lib/ipsec/plugins/libstrongswan-kernel-libipsec.so')) user = report(KIND, 'userspace', false, '', 'the kernel-libipsec plugin is missing: apt-get install libcharon-extra-plugins');
      else if (!existsSync('/usr/lib/ipsec/plugins/libstrongswan-kdf.so')) user = report(KIND, 'userspace', false, '', 'the kdf plugin is missing: apt-get install libstrongswan-standard-plugins');
      else {
        const tun = await probeTun(ctx);
        user = report(KIND, 'userspace', tun === undefined, `strongSwan ${sw} kernel-libipsec`, `cannot create a TUN device (${tun}); kernel-libipsec needs /dev/net/tun`);
      }
      lastProbe = [kernel, user];
      return lastProbe;
    });
  },

  overhead(spec: TunnelSpec__Output): number {
    if (spec.variant === 'VARIANT_KERNEL') return IPSEC_KERNEL_OVERHEAD;
    if (spec.variant === 'VARIANT_USERSPACE') return IPSEC_USERSPACE_OVERHEAD;
    // Unforced: the kernel variant only when a probe already showed it works; else the larger bound.
    return lastProbe?.find((r) => r.variant === 'kernel')?.available ? IPSEC_KERNEL_OVERHEAD : IPSEC_USERSPACE_OVERHEAD;
  },

  async ensure(ctx: DriverContext, spec: TunnelSpec__Output, view: NetworkView): Promise<EnsureResult> {
    validate(spec, view);
    const overlay = requireOverlay(spec);
    const cap = chooseVariant(KIND, spec, await ipsecTunnel.probe(ctx));
    const variant = cap.variant;
    const ifId = scopeId(spec, ctx.scope);
    const conf = swanctlConf(spec, view, variant, ifId);
    const want = digest({ variant, conf: digest(conf), under: ctx.env.underlayDev, mtu: ctx.env.underlayMtu, overlay: overlay.cidr, routes: spec.peers.map((p) => [p.overlayAddress, p.routes]) });
    const prev = appliedNote(ctx, KIND);
    if (prev?.digest === want && (await ipsecTunnel.check(ctx, spec, view)).length === 0) return { changed: false, variant, version: cap.version };

    const dir = await scopeRunDir(ctx, KIND);
    const runRoot = join(dir, 'run');
    await ctx.journal.record({ type: 'path', path: runRoot });
    await mkdir(runRoot, { recursive: true, mode: 0o700 });
    await writePrivateFile(ctx, join(runRoot, 'strongswan.conf'), strongswanConf(variant));
    const swanctlFile = join(dir, 'swanctl.conf');
    await writePrivateFile(ctx, swanctlFile, conf);
    const uri = `unix://${join(runRoot, 'charon.vici')}`;

    const key = noteKey(KIND, 'charon');
    let note = ctx.journal.note(key) as IpsecNote | undefined;
    if (note && (note.variant !== variant || !daemonAlive(note.charon))) {
      await stopDaemon(ctx, note.charon);
      note = undefined;
    }
    let device: string;
    if (variant === 'kernel') {
      device = ipsecXfrmDevice(ctx.env.prefix, ctx.scope);
      await ctx.journal.record({ type: 'link', name: device, netns: ctx.env.hostNetns });
      if (!(await readLink(ctx, device))) await ctx.runner.run([...ipArgv(ctx.env), 'link', 'add', device, 'type', 'xfrm', 'dev', ctx.env.underlayDev, 'if_id', String(ifId)]);
    }
    const made = charonPeerObjects(ctx.env, spec, view, variant, ifId);
    if (!note) {
      await ctx.journal.recordAll([...charonRuleObjects(ctx.env), ...made]);
      const logFile = join(dir, 'charon.log');
      const offset = await stat(logFile).then((s) => s.size, () => 0);
      const charon = await startCharon(ctx, dir, runRoot);
      device = variant === 'kernel' ? ipsecXfrmDevice(ctx.env.prefix, ctx.scope) : await tunName(ctx.env, logFile, offset, charon.pid);
      note = { charon, device, variant };
      await ctx.journal.setNote(key, note);
    }
    device = note.device;
    // The libipsec TUN device goes with charon; journalled so a crash between here and teardown still removes it.
    const link: OwnedObject = { type: 'link', name: device, netns: ctx.env.hostNetns };
    const objects = [link, ...peerRouteObjects(ctx.env, spec.peers), ...made];
    await dropStale(ctx, prev, objects);
    await ctx.journal.recordAll(objects);
    const mtu = variant === 'kernel' ? ctx.env.underlayMtu - IPSEC_KERNEL_OVERHEAD : Math.min(LIBIPSEC_TUN_MTU, ctx.env.underlayMtu - IPSEC_USERSPACE_OVERHEAD);
    await ipBatch(ctx, [`link set dev ${device} mtu ${mtu} up`, `addr replace ${overlay.cidr} dev ${device}`, ...peerRouteLines(spec.peers, () => device, (p) => p.overlayAddress, true)]);
    // charon answers the load once its plugins are up: more than 30 s in an emulated guest under load.
    await ctx.runner.run(['swanctl', '--load-all', '--noprompt', '--file', swanctlFile, '--uri', uri], { secrets: [spec.secrets!.preSharedKey], timeoutMs: 90_000 });
    if (variant === 'userspace') {
      // Bounded: a peer whose charon is not configured yet answers at once with an error, and
      // its own ensure initiates towards this host later.
      await Promise.all(spec.peers.map((p) => ctx.runner.run(['swanctl', '--initiate', '--child', connName(p), '--timeout', '3', '--uri', uri], { okCodes: [0, 1, 2], timeoutMs: 10_000 }).catch(() => undefined)));
    }
    await ctx.journal.setNote(noteKey(KIND, 'applied'), { digest: want, objects });
    return { changed: true, variant, version: cap.version };
  },

  async check(ctx: DriverContext, spec: TunnelSpec__Output): Promise<DriftReport[]> {
    const note = ctx.journal.note(noteKey(KIND, 'charon')) as IpsecNote | undefined;
    const out: DriftReport[] = [...daemonDrift(note?.charon, `charon ${ctx.scope}`)];
    if (!note) return out;
    const mtu = note.variant === 'kernel' ? ctx.env.underlayMtu - IPSEC_KERNEL_OVERHEAD : Math.min(LIBIPSEC_TUN_MTU, ctx.env.underlayMtu - IPSEC_USERSPACE_OVERHEAD);
    out.push(...(await linkDrift(ctx, note.device, mtu)));
    out.push(...(await routeDrift(ctx, spec.peers, () => note.device)));
    return out;
  },
};
