// A throwaway PKI made with the openssl CLI for tests that need certificates before or without
// the project's own certificate tooling: a CA, server certificates and a client certificate,
// and certificates with a chosen validity window (expired, not yet valid) for the TLS failures.

import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const OPENSSL = '/usr/bin/openssl';

function ecKey(file: string): void {
  execFileSync(OPENSSL, ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', file]);
}

export function makeCa(dir: string, name = 'seconet-test-ca'): { cert: string; key: string } {
  const key = join(dir, `${name}-key.pem`);
  const cert = join(dir, `${name}.pem`);
  ecKey(key);
  execFileSync(OPENSSL, ['req', '-x509', '-new', '-key', key, '-out', cert, '-days', '2', '-subj', `/CN=${name}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  return { cert, key };
}

export function issue(dir: string, ca: { cert: string; key: string }, name: string, kind: 'server' | 'client', sans: string[] = []): { cert: string; key: string } {
  const key = join(dir, `${name}-key.pem`);
  const csr = join(dir, `${name}.csr`);
  const cert = join(dir, `${name}.pem`);
  const ext = join(dir, `${name}.ext`);
  ecKey(key);
  execFileSync(OPENSSL, ['req', '-new', '-key', key, '-out', csr, '-subj', `/CN=${name}`]);
  const san = [`DNS:${name}`, ...sans.map((s) => (/^\d+\.\d+\.\d+\.\d+$/.test(s) ? `IP:${s}` : `DNS:${s}`))].join(',');
  writeFileSync(ext, `basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=${kind === 'server' ? 'serverAuth' : 'clientAuth'}\nsubjectAltName=${san}\n`);
  execFileSync(OPENSSL, ['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial', '-out', cert, '-days', '2', '-extfile', ext]);
  return { cert, key };
}

/** openssl's time format for `ca -startdate/-enddate` (UTCTime). */
function asn1Time(d: Date): string {
  return d.toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z';
}

/**
 * A certificate signed by `ca` that is valid only from `notBefore` to `notAfter` (in the past:
 * expired; in the future: not yet valid). `openssl x509 -req` of OpenSSL 3.0 cannot set the
 * start date, so this goes through a throwaway `openssl ca` database.
 */
export function issueWithValidity(
  dir: string,
  ca: { cert: string; key: string },
  name: string,
  kind: 'server' | 'client',
  validity: { notBefore: Date; notAfter: Date },
  sans: string[] = [],
): { cert: string; key: string } {
  const db = join(dir, `${name}-ca-db`);
  mkdirSync(join(db, 'new'), { recursive: true });
  writeFileSync(join(db, 'index.txt'), '');
  writeFileSync(join(db, 'serial'), `${Date.now().toString(16).padStart(16, '0')}\n`);
  const conf = join(db, 'ca.cnf');
  writeFileSync(conf, [
    '[ ca ]', 'default_ca = test_ca',
    '[ test_ca ]', `database = ${join(db, 'index.txt')}`, `new_certs_dir = ${join(db, 'new')}`, `serial = ${join(db, 'serial')}`,
    'default_md = sha256', 'policy = any_name', 'unique_subject = no', 'copy_extensions = none',
    '[ any_name ]', 'commonName = supplied', '',
  ].join('\n'));
  const key = join(dir, `${name}-key.pem`);
  const csr = join(dir, `${name}.csr`);
  const cert = join(dir, `${name}.pem`);
  const ext = join(dir, `${name}.ext`);
  ecKey(key);
  execFileSync(OPENSSL, ['req', '-new', '-key', key, '-out', csr, '-subj', `/CN=${name}`]);
  const san = [`DNS:${name}`, ...sans.map((s) => (/^\d+\.\d+\.\d+\.\d+$/.test(s) ? `IP:${s}` : `DNS:${s}`))].join(',');
  writeFileSync(ext, `basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=${kind === 'server' ? 'serverAuth' : 'clientAuth'}\nsubjectAltName=${san}\n`);
  execFileSync(OPENSSL, [
    'ca', '-batch', '-notext', '-config', conf, '-cert', ca.cert, '-keyfile', ca.key, '-in', csr, '-out', cert,
    '-startdate', asn1Time(validity.notBefore), '-enddate', asn1Time(validity.notAfter), '-extfile', ext,
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  return { cert, key };
}
