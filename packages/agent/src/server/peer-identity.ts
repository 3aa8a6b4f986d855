// Who may give this agent orders. mTLS proves a client certificate comes from the agent's CA;
// this module narrows that to the controller identities the config names (the certificate's
// CN or one of its DNS SANs) and refuses revoked serials, per call, from the TLS peer
// certificate. Revocation is a serial deny list (inline in the config and/or a file that is
// re-read when it changes), so one stolen or retired certificate can be shut out without
// re-keying the fleet. Refusals are SeconetError FORBIDDEN, which the server answers with
// gRPC PERMISSION_DENIED.

import { statSync } from 'node:fs';
import type { PeerCertificate } from 'node:tls';
import { SeconetError } from '@seconet/core';
import { normalizeSerial, readDenyList, type AgentConfig } from '../config.js';

export interface PeerIdentity {
  /** The certificate's CN (or its first DNS SAN when it has no CN). */
  readonly name: string;
  readonly serial: string;
}

/** The identities a certificate carries: its CN and its DNS SANs. */
export function certificateNames(cert: PeerCertificate): string[] {
  const cn = cert.subject?.CN;
  const names = Array.isArray(cn) ? [...(cn as string[])] : typeof cn === 'string' ? [cn] : [];
  for (const part of (cert.subjectaltname ?? '').split(',')) {
    const m = /^\s*DNS:(.+?)\s*$/.exec(part);
    if (m) names.push(m[1]!);
  }
  return names;
}

export interface PeerAuthorizer {
  /** Throws FORBIDDEN unless the certificate names an accepted controller and is not revoked. */
  authorize(cert: PeerCertificate | undefined): PeerIdentity;
}

export function createPeerAuthorizer(config: Pick<AgentConfig, 'controllers' | 'tls'>): PeerAuthorizer {
  const accepted = new Set(config.controllers);
  const inline = new Set(config.tls.revokedSerials);
  const file = config.tls.denyList;
  let fileStamp = '';
  let fileSerials = new Set<string>();

  const revoked = (serial: string): boolean => {
    if (inline.has(serial)) return true;
    if (file === undefined) return false;
    let stamp: string;
    try {
      const st = statSync(file);
      stamp = `${st.mtimeMs}:${st.size}:${st.ino}`;
    } catch (e) {
      // Fail closed: a deny list that vanished may have been emptied by an attacker.
      throw new SeconetError('FORBIDDEN', `the deny list ${file} cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)}); restore it (an empty file revokes nothing)`, { field: 'tls.denyList', cause: e });
    }
    if (stamp !== fileStamp) {
      fileSerials = new Set(readDenyList(file));
      fileStamp = stamp;
    }
    return fileSerials.has(serial);
  };

  return {
    authorize(cert) {
      if (cert === undefined || cert.subject === undefined) throw new SeconetError('FORBIDDEN', 'no client certificate was presented; the agent obeys only its controller');
      const names = certificateNames(cert);
      const serial = normalizeSerial(cert.serialNumber ?? '') ?? '';
      const who = names[0] ?? '(no name)';
      if (!names.some((n) => accepted.has(n))) {
        throw new SeconetError('FORBIDDEN', `client certificate ${JSON.stringify(who)} (serial ${serial}) is not a controller this agent obeys; accepted: ${[...accepted].join(', ')} (agent config \`controllers\`)`, { field: 'controllers' });
      }
      if (serial === '' || revoked(serial)) {
        throw new SeconetError('FORBIDDEN', `client certificate ${JSON.stringify(who)} serial ${serial} is revoked (agent config tls.revokedSerials / tls.denyList); issue a new one with \`seconet certs issue --kind client\``, { field: 'tls.revokedSerials' });
      }
      return { name: who, serial };
    },
  };
}
