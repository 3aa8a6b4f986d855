// Revocation without re-keying: a file of revoked certificate serials that agents read
// (config tls.denyList, re-read when it changes). `seconet certs revoke` appends to it; the
// operator then copies it to the agents (the Ansible role does, from
// seconet_agent_revoked_serials). The file is never written through a symlink.

import { X509Certificate } from 'node:crypto';
import { closeSync, constants, existsSync, lstatSync, openSync, readFileSync, writeSync } from 'node:fs';
import { SeconetError, invalid } from '@seconet/core';
import { normalizeSerial, readDenyList } from '../config.js';

/** The serial of a PEM certificate file, normalised (upper-case hex, no leading zeros). */
export function certificateSerial(file: string): string {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(readFileSync(file));
  } catch (e) {
    throw new SeconetError('INVALID_ARGUMENT', `${file} is not a readable PEM certificate: ${(e as Error).message}`, { field: 'certificate', cause: e });
  }
  return normalizeSerial(cert.serialNumber)!;
}

/**
 * Adds `serialOrCert` (a hex serial, or a certificate file whose serial is meant) to the deny
 * list `file`, creating it; returns the normalised serial and whether it was new.
 */
export function revokeSerial(file: string, serialOrCert: string): { serial: string; added: boolean } {
  const serial = normalizeSerial(serialOrCert) ?? (existsSync(serialOrCert) ? certificateSerial(serialOrCert) : undefined);
  if (serial === undefined) throw invalid('serial', `${JSON.stringify(serialOrCert)} is neither a certificate serial (hex, as \`seconet certs issue\` prints it) nor a certificate file`);
  let st: ReturnType<typeof lstatSync> | undefined;
  try {
    st = lstatSync(file);
  } catch {
    st = undefined;
  }
  if (st !== undefined && !st.isFile()) throw invalid('denyList', `${file} is not a regular file (a symlink or a directory); refusing to write through it`);
  const current = st === undefined ? [] : readDenyList(file);
  if (current.includes(serial)) return { serial, added: false };
  const fd = openSync(file, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o644);
  try {
    const text = st === undefined ? `# revoked client certificates, one serial a line (seconet certs revoke)\n${serial}\n` : `${serial}\n`;
    const head = st !== undefined && st.size > 0 && !readFileSync(file, 'utf8').endsWith('\n') ? '\n' : '';
    writeSync(fd, head + text);
  } finally {
    closeSync(fd);
  }
  return { serial, added: true };
}
