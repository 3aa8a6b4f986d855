// A throwaway PKI made with the openssl CLI for tests that need certificates before or without
// the project's own certificate tooling: a CA, server certificates and a client certificate.

import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
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
