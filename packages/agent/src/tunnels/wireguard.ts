// Tunnel kind "wireguard": one WireGuard device per host and scope with every peer on it.
// Kernel variant: `ip link add type wireguard`. Userspace variant: wireguard-go in the
// foreground (-f) as a journalled daemon; its UAPI socket /var/run/wireguard/<ifname>.sock is
// shared by all namespaces, which is why the device name carries the agent's prefix (unique
// per agent on a machine). wireguard-go removes the socket only on a clean exit, so it is
// journalled before the daemon starts (undo allows exactly that path, see journal/undo.ts). Both are configured alike with `wg set`, the private key passed as
// a 0600 file (never argv). Allowed IPs per peer: its overlay /32 and its container networks,
// which are routed via its overlay address. ChaCha20-Poly1305 is WireGuard's only cipher.
// Overhead (IPv4 underlay): outer IPv4 20 + UDP 8 + WireGuard header 16 + Poly1305 tag 16 = 60.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { SeconetError, objectName, pollUntil } from '@seconet/core';
import { hostWaitMs } from '../host-env.js';
import type { CapabilityReport, DriftReport, DriverContext, EnsureResult, NetworkView, ProbeContext, TunnelDriver } from '../driver.js';
import type { OwnedObject } from '../journal/objects.js';
import { WIREGUARD_SOCKET_DIRS } from '../journal/undo.js';
import type { TunnelSpec__Output } from '../gen/seconet/agent/v1/TunnelSpec.js';
import { installedTool } from '../runner/tool-version.js';
import {
  FIELD, WG_KEY_RE, appliedNote, cachedProbe, chooseVariant, daemonDrift, digest, dropStale, ensureDaemon, ipArgv, ipBatch, kernelLinkReport, linkDrift, noteKey, nsOpt, peerRouteLines, peerRouteObjects,
  probeTun, readLink, report, requireKeyText, requireOverlay, requirePeersInOverlay, routeDst, routeDrift, scopeRunDir, specPort, validatePeers, writePrivateFile, type DaemonNote,
} from './common.js';

const KIND = 'wireguard';
export const WIREGUARD_OVERHEAD = 20 + 8 + 16 + 16;
export const WIREGUARD_PORT = 51820;
export const WIREGUARD_CIPHER = 'chacha20-poly1305';

/** wireguard-go's control socket of a device (its directory is fixed at build time). */
export function wireguardSocket(dev: string): string {
  return `${WIREGUARD_SOCKET_DIRS[0]}/${dev}.sock`;
}

export function wireguardDevice(prefix: string, scope: string): string {
  return objectName(prefix, 'w', [scope]);
}

function validate(spec: TunnelSpec__Output): void {
  validatePeers(spec, true);
  requireKeyText(`${FIELD}.secrets.privateKey`, spec.secrets?.privateKey ?? '', WG_KEY_RE, 'WireGuard private key (32 bytes, base64)');
  spec.peers.forEach((p, i) => requireKeyText(`${FIELD}.peers[${i}].publicKey`, p.publicKey, WG_KEY_RE, 'WireGuard public key (32 bytes, base64)'));
  if (spec.cipher !== '' && spec.cipher !== WIREGUARD_CIPHER) throw new SeconetError('INVALID_ARGUMENT', `${FIELD}.cipher: WireGuard has one cipher, ${WIREGUARD_CIPHER}; leave it empty`, { field: `${FIELD}.cipher` });
}

export const wireguardTunnel: TunnelDriver = {
  kind: KIND,

  probe(ctx: ProbeContext): Promise<CapabilityReport[]> {
    return cachedProbe(KIND, async () => {
      const kernel = await kernelLinkReport(ctx, KIND, 'wireguard', 'CONFIG_WIREGUARD', []);
      const wgTool = await installedTool(ctx.runner, 'wg', { argv: ['wg', '--version'], re: /wireguard-tools (v[\w.]+)/ });
      const wgoTool = await installedTool(ctx.runner, 'wireguard-go', { argv: ['wireguard-go', '--version'], re: /wireguard-go (v[\w.]+)/ });
      const wg = wgTool.installed ? wgTool.version : undefined;
      const wgo = wgoTool.installed ? wgoTool.version : undefined;
      const out: CapabilityReport[] = [wg === undefined ? report(KIND, 'kernel', false, kernel.version, 'wg (wireguard-tools) is not installed: apt-get install wireguard-tools') : kernel];
      if (wg === undefined || wgo === undefined) {
        out.push(report(KIND, 'userspace', false, '', `${wgo === undefined ? 'wireguard-go' : 'wg'} is not installed: apt-get install wireguard-go wireguard-tools`));
      } else {
        const tun = await probeTun(ctx);
        out.push(report(KIND, 'userspace', tun === undefined, `wireguard-go ${wgo}`, `cannot create a TUN device (${tun}); wireguard-go needs /dev/net/tun`));
      }
      return out;
    });
  },

  overhead(): number {
    return WIREGUARD_OVERHEAD;
  },

  async ensure(ctx: DriverContext, spec: TunnelSpec__Output, view: NetworkView): Promise<EnsureResult> {
    validate(spec);
    const overlay = requireOverlay(spec);
    requirePeersInOverlay(spec, overlay);
    const port = specPort(spec, WIREGUARD_PORT);
    const cap = chooseVariant(KIND, spec, await wireguardTunnel.probe(ctx));
    const dev = wireguardDevice(ctx.env.prefix, ctx.scope);
    const mtu = ctx.env.underlayMtu - WIREGUARD_OVERHEAD;
    const privateKey = spec.secrets!.privateKey;
    const want = digest({ v: cap.variant, mtu, port, dev, key: digest(privateKey), overlay: overlay.cidr, peers: spec.peers.map((p) => [p.publicKey, p.underlayAddress, p.overlayAddress, p.routes]) });
    const prev = appliedNote(ctx, KIND);
    if (prev?.digest === want && (await wireguardTunnel.check(ctx, spec, view)).length === 0) return { changed: false, variant: cap.variant, version: cap.version };

    const dir = await scopeRunDir(ctx, KIND);
    const keyFile = join(dir, 'private.key');
    await writePrivateFile(ctx, keyFile, privateKey + '\n');
    const link: OwnedObject = { type: 'link', name: dev, netns: ctx.env.hostNetns };
    const objects = [link, ...peerRouteObjects(ctx.env, spec.peers)];
    await dropStale(ctx, prev, objects);
    if (cap.variant === 'kernel') {
      await ctx.journal.record(link);
      if (await readLink(ctx, dev)) await ctx.runner.run([...ipArgv(ctx.env), 'link', 'del', 'dev', dev]);
      await ctx.runner.run([...ipArgv(ctx.env), 'link', 'add', 'dev', dev, 'type', 'wireguard']);
    } else {
      // A fresh device drops peers that left; wireguard-go keeps no other state worth keeping.
      await ctx.journal.record({ type: 'path', path: wireguardSocket(dev) });
      await ensureDaemon(ctx, {
        key: noteKey(KIND, 'daemon'),
        digest: want,
        argv: ['wireguard-go', '-f', dev],
        opts: { what: `wireguard-go ${dev}`, logFile: join(dir, 'wireguard-go.log'), env: { LOG_LEVEL: 'error' } },
        device: dev,
      });
      // wireguard-go creates the TUN device first and its control socket after it; a `wg set`
      // between the two finds no socket, falls back to the kernel's netlink and fails with
      // "Protocol not supported" on a kernel without WireGuard.
      if (!(await pollUntil(() => existsSync(wireguardSocket(dev)), hostWaitMs(ctx.env, 5000), 10))) {
        throw new SeconetError('COMMAND_FAILED', `wireguard-go ${dev} did not open its control socket ${wireguardSocket(dev)} within ${hostWaitMs(ctx.env, 5000)} ms; see ${join(dir, 'wireguard-go.log')}`);
      }
    }
    const set = ['wg', 'set', dev, 'listen-port', String(port), 'private-key', keyFile];
    for (const p of spec.peers) {
      const allowed = [`${p.overlayAddress}/32`, ...p.routes.map(routeDst)].join(',');
      set.push('peer', p.publicKey, 'endpoint', `${p.underlayAddress}:${port}`, 'allowed-ips', allowed);
    }
    await ctx.runner.run(set, nsOpt(ctx.env));
    await ctx.journal.recordAll(objects);
    await ipBatch(ctx, [`link set dev ${dev} mtu ${mtu} up`, `addr replace ${overlay.cidr} dev ${dev}`, ...peerRouteLines(spec.peers, () => dev, (p) => p.overlayAddress, false)]);
    await ctx.journal.setNote(noteKey(KIND, 'applied'), { digest: want, objects, variant: cap.variant });
    return { changed: true, variant: cap.variant, version: cap.version };
  },

  async check(ctx: DriverContext, spec: TunnelSpec__Output): Promise<DriftReport[]> {
    const dev = wireguardDevice(ctx.env.prefix, ctx.scope);
    const applied = ctx.journal.note(noteKey(KIND, 'applied')) as { variant?: string } | undefined;
    const out: DriftReport[] = [];
    if (applied?.variant === 'userspace') out.push(...daemonDrift(ctx.journal.note(noteKey(KIND, 'daemon')) as DaemonNote | undefined, `wireguard-go ${dev}`));
    out.push(...(await linkDrift(ctx, dev, ctx.env.underlayMtu - WIREGUARD_OVERHEAD)));
    if (out.length === 0) {
      try {
        const r = await ctx.runner.run(['wg', 'show', dev, 'peers'], nsOpt(ctx.env));
        const have = new Set(r.stdout.split('\n').filter(Boolean));
        for (const p of spec.peers) if (!have.has(p.publicKey)) out.push({ object: `wireguard peer ${p.name} on ${dev}`, expected: 'configured', observed: 'missing' });
      } catch (e) {
        // The peers could not be read: say why instead of calling every peer missing.
        out.push({ object: `wireguard peers on ${dev}`, expected: 'readable with wg show', observed: e instanceof Error ? e.message : String(e) });
      }
    }
    out.push(...(await routeDrift(ctx, spec.peers, () => dev)));
    return out;
  },
};
