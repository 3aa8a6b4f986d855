// Tunnel kind "openvpn": OpenVPN 2.6 point-to-point over UDP with a static key, as the paper
// measured it (AES-256-CBC + HMAC-SHA1), one openvpn process and TUN device per peer. The
// static key mode is deprecated upstream (openvpn prints a warning) but is the only mode
// without a PKI. The driver configures the TUN device itself (address with the peer's overlay
// address as peer, MTU, up) so openvpn runs no ifconfig and no scripts (--script-security 0).
//
// Ports: both ends must agree without knowing each other's host index, so the port of a pair
// is base + (overlay(a) XOR overlay(b)) mod 1024, symmetric and distinct for every peer of a
// host whose peers' overlay addresses differ in their low 10 bits (any /22 or smaller overlay);
// a collision is refused naming the field. Key direction: the end with the lower overlay address
// uses direction 0, the other 1, so each direction has its own cipher and HMAC keys.
//
// Overhead (static key, CBC): outer IPv4 20 + UDP 8 + HMAC-SHA1 20 + IV 16 + packet id 8 +
// CBC padding up to 16 = 88; the paper gives 48-63 B of OpenVPN's own header, so the bound used
// is 20 + 8 + 63 = 91 bytes, which covers both.

import { join } from 'node:path';
import { OPENVPN_STATIC_KEY_RE, SeconetError, ipToInt, objectName } from '@seconet/core';
import type { CapabilityReport, DriftReport, DriverContext, EnsureResult, NetworkView, ProbeContext, TunnelDriver } from '../driver.js';
import type { OwnedObject } from '../journal/objects.js';
import type { TunnelSpec__Output } from '../gen/seconet/agent/v1/TunnelSpec.js';
import { installedTool } from '../runner/tool-version.js';
import type { TunnelPeer__Output } from '../gen/seconet/agent/v1/TunnelPeer.js';
import {
  FIELD, appliedNote, cachedProbe, chooseVariant, daemonDrift, digest, dropStale, ensureDaemon, ipBatch, linkDrift, noteKey, peerRouteLines, peerRouteObjects, probeTun, report, requireKeyText,
  requireOverlay, routeDrift, scopeRunDir, specPort, stopDaemon, validatePeers, writePrivateFile, type DaemonNote,
} from './common.js';

const KIND = 'openvpn';
export const OPENVPN_OVERHEAD = 20 + 8 + 63;
export const OPENVPN_BASE_PORT = 1194;
/** spec.cipher -> openvpn --cipher; HMAC-SHA1 authenticates in every case (the paper's setup). */
const CIPHERS: Readonly<Record<string, string>> = { '': 'AES-256-CBC', 'aes-256-cbc': 'AES-256-CBC', 'aes-128-cbc': 'AES-128-CBC' };

export function openvpnDevice(prefix: string, scope: string, peer: string): string {
  return objectName(prefix, 'o', [scope, peer]);
}

export function openvpnPort(base: number, local: string, peer: string): number {
  return base + ((ipToInt(local) ^ ipToInt(peer)) % 1024);
}

function validate(spec: TunnelSpec__Output, localOverlay: string, base: number): Map<string, number> {
  validatePeers(spec, true);
  requireKeyText(`${FIELD}.secrets.preSharedKey`, spec.secrets?.preSharedKey ?? '', OPENVPN_STATIC_KEY_RE, 'OpenVPN static key file body (2048 bit)');
  if (CIPHERS[spec.cipher] === undefined) throw new SeconetError('INVALID_ARGUMENT', `${FIELD}.cipher: ${JSON.stringify(spec.cipher)} is not offered for openvpn; use one of ${Object.keys(CIPHERS).filter(Boolean).join(', ')} or leave it empty`, { field: `${FIELD}.cipher` });
  const ports = new Map<string, number>();
  spec.peers.forEach((p, i) => {
    const port = openvpnPort(base, localOverlay, p.overlayAddress);
    if (port > 65535) throw new SeconetError('INVALID_ARGUMENT', `${FIELD}.port: ${base} leaves no room for the per-peer ports (base + 0..1023)`, { field: `${FIELD}.port` });
    const clash = [...ports.entries()].find(([, q]) => q === port);
    if (clash) throw new SeconetError('INVALID_ARGUMENT', `${FIELD}.peers[${i}].overlayAddress: ${p.overlayAddress} gives the same openvpn port as peer ${clash[0]}; use overlay addresses from one /22`, { field: `${FIELD}.peers[${i}].overlayAddress` });
    ports.set(p.name, port);
  });
  return ports;
}

export const openvpnTunnel: TunnelDriver = {
  kind: KIND,

  probe(ctx: ProbeContext): Promise<CapabilityReport[]> {
    return cachedProbe(KIND, async () => {
      const openvpn = await installedTool(ctx.runner, 'openvpn', { argv: ['openvpn', '--version'], re: /OpenVPN (\d+\.\d+\.\d+)/ });
      const v = openvpn.installed ? openvpn.version : undefined;
      const kernel = report(KIND, 'kernel', false, '', 'data channel offload (ovpn-dco) needs TLS mode; this driver runs the static-key userspace data channel');
      if (v === undefined) return [kernel, report(KIND, 'userspace', false, '', 'openvpn is not installed: apt-get install openvpn')];
      const tun = await probeTun(ctx);
      return [kernel, report(KIND, 'userspace', tun === undefined, `openvpn ${v}`, `cannot create a TUN device (${tun}); openvpn needs /dev/net/tun`)];
    });
  },

  overhead(): number {
    return OPENVPN_OVERHEAD;
  },

  async ensure(ctx: DriverContext, spec: TunnelSpec__Output, view: NetworkView): Promise<EnsureResult> {
    const overlay = requireOverlay(spec);
    const base = specPort(spec, OPENVPN_BASE_PORT);
    const ports = validate(spec, overlay.address, base);
    const cap = chooseVariant(KIND, spec, await openvpnTunnel.probe(ctx));
    const mtu = ctx.env.underlayMtu - OPENVPN_OVERHEAD;
    const cipher = CIPHERS[spec.cipher]!;
    const dev = (p: TunnelPeer__Output): string => openvpnDevice(ctx.env.prefix, ctx.scope, p.name);
    const want = digest({ mtu, cipher, base, local: spec.localAddress, overlay: overlay.address, key: digest(spec.secrets!.preSharedKey), peers: spec.peers.map((p) => [p.name, p.underlayAddress, p.overlayAddress, p.routes]) });
    const prev = appliedNote(ctx, KIND);
    if (prev?.digest === want && (await openvpnTunnel.check(ctx, spec, view)).length === 0) return { changed: false, variant: 'userspace', version: cap.version };

    const dir = await scopeRunDir(ctx, KIND);
    const keyFile = join(dir, 'static.key');
    await writePrivateFile(ctx, keyFile, spec.secrets!.preSharedKey);
    const links: OwnedObject[] = spec.peers.map((p) => ({ type: 'link', name: dev(p), netns: ctx.env.hostNetns }));
    const objects = [...links, ...peerRouteObjects(ctx.env, spec.peers)];
    await dropStale(ctx, prev, objects);
    const wanted = new Set(spec.peers.map((p) => noteKey(KIND, `daemon.${p.name}`)));
    for (const key of (ctx.journal.note(noteKey(KIND, 'daemons')) as string[] | undefined) ?? []) {
      const n = ctx.journal.note(key) as DaemonNote | undefined;
      if (!wanted.has(key) && n) await stopDaemon(ctx, n);
    }
    await ctx.journal.setNote(noteKey(KIND, 'daemons'), [...wanted]);
    const lines: string[] = [];
    for (const p of spec.peers) {
      const port = ports.get(p.name)!;
      const direction = ipToInt(overlay.address) < ipToInt(p.overlayAddress) ? '0' : '1';
      const argv = [
        'openvpn', '--dev', dev(p), '--dev-type', 'tun', '--proto', 'udp4',
        '--local', spec.localAddress, '--lport', String(port), '--remote', p.underlayAddress, '--rport', String(port),
        '--secret', keyFile, direction, '--cipher', cipher, '--auth', 'SHA1',
        '--tun-mtu', String(mtu), '--mssfix', '0', '--script-security', '0',
        '--ping', '10', '--ping-restart', '60', '--verb', '3',
      ];
      await ensureDaemon(ctx, {
        key: noteKey(KIND, `daemon.${p.name}`),
        digest: digest({ argv, key: digest(spec.secrets!.preSharedKey) }),
        argv,
        opts: { what: `openvpn ${dev(p)}`, logFile: join(dir, `${p.name}.log`) },
        device: dev(p),
      });
      lines.push(`link set dev ${dev(p)} mtu ${mtu} up`, `addr replace ${overlay.address}/32 peer ${p.overlayAddress}/32 dev ${dev(p)}`);
    }
    await ctx.journal.recordAll(objects);
    await ipBatch(ctx, [...lines, ...peerRouteLines(spec.peers, dev, (p) => p.overlayAddress, true)]);
    await ctx.journal.setNote(noteKey(KIND, 'applied'), { digest: want, objects });
    return { changed: true, variant: 'userspace', version: cap.version };
  },

  async check(ctx: DriverContext, spec: TunnelSpec__Output): Promise<DriftReport[]> {
    const mtu = ctx.env.underlayMtu - OPENVPN_OVERHEAD;
    const dev = (p: TunnelPeer__Output): string => openvpnDevice(ctx.env.prefix, ctx.scope, p.name);
    const out: DriftReport[] = [];
    for (const p of spec.peers) {
      out.push(...daemonDrift(ctx.journal.note(noteKey(KIND, `daemon.${p.name}`)) as DaemonNote | undefined, `openvpn ${dev(p)}`));
      out.push(...(await linkDrift(ctx, dev(p), mtu)));
    }
    out.push(...(await routeDrift(ctx, spec.peers, dev)));
    return out;
  },
};
