// Tunnel kind "tinc": tinc 1.0 in router mode, one tincd per host and scope, a mesh to every
// peer. tincd runs in the foreground (-D) with its own config directory under the scope's run
// directory: tinc.conf (Interface names the TUN device, so no tinc-up script is needed: the
// driver sets address, MTU and routes itself once the device exists), hosts/<node> files with
// each node's underlay address, port, subnets and RSA public key (PKCS#1 PEM), and the private
// key in a 0600 file. StrictSubnets: a node may only announce the subnets its host file lists
// here (its overlay /32 and its container networks).
//
// Cipher: tinc 1.0 has no AEAD ciphers, so the paper's "AES-256-GCM" setting maps to
// aes-256-cbc with HMAC-SHA256 (Cipher = aes-256-cbc, Digest = sha256), the strongest pair 1.0
// offers; spec.cipher may be empty or "aes-256-cbc". PMTU discovery is off: the device MTU below
// already leaves room for the encapsulation, so nothing tinc sends needs fragmenting.
//
// Overhead: outer IPv4 20 + UDP 8 + tinc's own 43 (sequence number 4, the Ethernet header
// tinc 1.0 carries even in router mode 14, CBC padding up to 16, MAC up to 9 here 4) rounded to
// the paper's bound: 20 + 8 + 43 = 71 bytes.

import { createPublicKey } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { SeconetError, objectName } from '@seconet/core';
import type { CapabilityReport, DriftReport, DriverContext, EnsureResult, NetworkView, ProbeContext, TunnelDriver } from '../driver.js';
import type { OwnedObject } from '../journal/objects.js';
import type { TunnelSpec__Output } from '../gen/seconet/agent/v1/TunnelSpec.js';
import { installedTool } from '../runner/tool-version.js';
import {
  FIELD, appliedNote, cachedProbe, chooseVariant, daemonDrift, digest, dropStale, ensureDaemon, ipBatch, linkDrift, noteKey, peerRouteLines, peerRouteObjects, probeTun, report, requireKeyText,
  requireOverlay, requirePeersInOverlay, routeDst, routeDrift, scopeRunDir, specPort, validatePeers, writePrivateFile, type DaemonNote,
} from './common.js';

const KIND = 'tinc';
export const TINC_OVERHEAD = 20 + 8 + 43;
export const TINC_PORT = 655;
const CIPHERS = new Set(['', 'aes-256-cbc']);
const PRIV_RE = /^-----BEGIN RSA PRIVATE KEY-----\n[A-Za-z0-9+/=\n]+-----END RSA PRIVATE KEY-----\n?$/;
const PUB_RE = /^-----BEGIN RSA PUBLIC KEY-----\n[A-Za-z0-9+/=\n]+-----END RSA PUBLIC KEY-----\n?$/;

export function tincDevice(prefix: string, scope: string): string {
  return objectName(prefix, 'n', [scope]);
}

/** tinc node names allow [A-Za-z0-9_] only. */
export function tincNodeName(host: string): string {
  return host.replace(/-/g, '_');
}

function hostFile(address: string, port: number, subnets: readonly string[], publicKey: string): string {
  return [`Address = ${address} ${port}`, `Port = ${port}`, ...subnets.map((s) => `Subnet = ${s}`), 'Cipher = aes-256-cbc', 'Digest = sha256', 'PMTUDiscovery = no', 'ClampMSS = no', '', publicKey.trimEnd(), ''].join('\n');
}

export const tincTunnel: TunnelDriver = {
  kind: KIND,

  probe(ctx: ProbeContext): Promise<CapabilityReport[]> {
    return cachedProbe(KIND, async () => {
      const tincd = await installedTool(ctx.runner, 'tincd', { argv: ['tincd', '--version'], re: /tinc version (\S+)/ });
      const v = tincd.installed ? tincd.version : undefined;
      const kernel = report(KIND, 'kernel', false, '', 'tinc has no kernel data path; use the userspace variant');
      if (v === undefined) return [kernel, report(KIND, 'userspace', false, '', 'tincd is not installed: apt-get install tinc')];
      const tun = await probeTun(ctx);
      return [kernel, report(KIND, 'userspace', tun === undefined, `tinc ${v}`, `cannot create a TUN device (${tun}); tincd needs /dev/net/tun`)];
    });
  },

  overhead(): number {
    return TINC_OVERHEAD;
  },

  async ensure(ctx: DriverContext, spec: TunnelSpec__Output, view: NetworkView): Promise<EnsureResult> {
    validatePeers(spec, true);
    const overlay = requireOverlay(spec);
    requirePeersInOverlay(spec, overlay);
    const port = specPort(spec, TINC_PORT);
    const priv = requireKeyText(`${FIELD}.secrets.privateKey`, spec.secrets?.privateKey ?? '', PRIV_RE, 'tinc RSA private key (PKCS#1 PEM)');
    spec.peers.forEach((p, i) => requireKeyText(`${FIELD}.peers[${i}].publicKey`, p.publicKey, PUB_RE, 'tinc RSA public key (PKCS#1 PEM)'));
    if (!CIPHERS.has(spec.cipher)) {
      throw new SeconetError('INVALID_ARGUMENT', `${FIELD}.cipher: tinc 1.0 offers no ${JSON.stringify(spec.cipher)}; it runs aes-256-cbc with HMAC-SHA256 (leave the cipher empty)`, { field: `${FIELD}.cipher` });
    }
    const cap = chooseVariant(KIND, spec, await tincTunnel.probe(ctx));
    const dev = tincDevice(ctx.env.prefix, ctx.scope);
    const mtu = ctx.env.underlayMtu - TINC_OVERHEAD;
    const me = tincNodeName(ctx.env.name);
    if (!/^[A-Za-z0-9_]{1,64}$/.test(me)) throw new SeconetError('INVALID_ARGUMENT', `agent name ${JSON.stringify(ctx.env.name)} cannot be a tinc node name (letters, digits, dashes)`, { field: 'name' });
    let myPub: string;
    try {
      myPub = createPublicKey(priv).export({ type: 'pkcs1', format: 'pem' }).toString();
    } catch {
      throw new SeconetError('INVALID_ARGUMENT', `${FIELD}.secrets.privateKey: not a readable RSA private key`, { field: `${FIELD}.secrets.privateKey` });
    }

    const dir = await scopeRunDir(ctx, KIND);
    const hostsDir = join(dir, 'hosts');
    await ctx.journal.record({ type: 'path', path: hostsDir });
    await mkdir(hostsDir, { recursive: true, mode: 0o700 });
    const keyFile = join(dir, 'rsa_key.priv');
    const files: Array<[string, string]> = [
      [keyFile, priv],
      [
        join(dir, 'tinc.conf'),
        [
          `Name = ${me}`, 'Mode = router', 'DeviceType = tun', 'Device = /dev/net/tun', `Interface = ${dev}`, 'AddressFamily = ipv4',
          `BindToAddress = ${spec.localAddress} ${port}`, `Port = ${port}`, `PrivateKeyFile = ${keyFile}`, 'StrictSubnets = yes',
          ...spec.peers.map((p) => `ConnectTo = ${tincNodeName(p.name)}`), '',
        ].join('\n'),
      ],
      [join(hostsDir, me), hostFile(spec.localAddress, port, [`${overlay.address}/32`, routeDst(view.containerCidr)], myPub)],
      ...spec.peers.map((p): [string, string] => [join(hostsDir, tincNodeName(p.name)), hostFile(p.underlayAddress, port, [`${p.overlayAddress}/32`, ...p.routes.map(routeDst)], p.publicKey)]),
    ];
    const want = digest({ mtu, dev, files: files.map(([f, c]) => [f, digest(c)]), routes: spec.peers.map((p) => [p.overlayAddress, p.routes]) });
    const prev = appliedNote(ctx, KIND);
    if (prev?.digest === want && (await tincTunnel.check(ctx, spec, view)).length === 0) return { changed: false, variant: 'userspace', version: cap.version };

    for (const [f, c] of files) await writePrivateFile(ctx, f, c);
    const link: OwnedObject = { type: 'link', name: dev, netns: ctx.env.hostNetns };
    const objects = [link, ...peerRouteObjects(ctx.env, spec.peers)];
    await dropStale(ctx, prev, objects);
    // tinc 1.0 reads host files only at start: any change restarts it.
    await ensureDaemon(ctx, {
      key: noteKey(KIND, 'daemon'),
      digest: want,
      argv: ['tincd', '-D', '-n', me, '-c', dir, `--pidfile=${join(dir, 'tinc.pid')}`, '-d', '1'],
      opts: { what: `tincd ${dev}`, logFile: join(dir, 'tincd.log') },
      device: dev,
    });
    await ctx.journal.record({ type: 'path', path: join(dir, 'tinc.pid') });
    await ctx.journal.recordAll(objects);
    await ipBatch(ctx, [`link set dev ${dev} mtu ${mtu} up`, `addr replace ${overlay.cidr} dev ${dev}`, ...peerRouteLines(spec.peers, () => dev, (p) => p.overlayAddress, false)]);
    await ctx.journal.setNote(noteKey(KIND, 'applied'), { digest: want, objects });
    return { changed: true, variant: 'userspace', version: cap.version };
  },

  async check(ctx: DriverContext, spec: TunnelSpec__Output): Promise<DriftReport[]> {
    const dev = tincDevice(ctx.env.prefix, ctx.scope);
    return [
      ...daemonDrift(ctx.journal.note(noteKey(KIND, 'daemon')) as DaemonNote | undefined, `tincd ${dev}`),
      ...(await linkDrift(ctx, dev, ctx.env.underlayMtu - TINC_OVERHEAD)),
      ...(await routeDrift(ctx, spec.peers, () => dev)),
    ];
  },
};
