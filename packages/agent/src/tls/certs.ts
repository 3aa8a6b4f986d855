// Certificate tooling for the agent/controller mutual TLS: a private CA, server certificates
// for agents (SANs = what the controller dials) and client certificates for the controller.
// It drives the `openssl` CLI through the Runner (no crypto library to audit, the same tool ops
// use by hand). Keys are EC P-256, created 0600 before openssl writes them so they are never
// world-readable, not even for a moment. Nothing is written through a symlink (a planted link
// would make openssl overwrite its target), and an existing CA key is never overwritten: that
// would orphan every certificate it signed.

import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, constants, lstatSync, mkdirSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import { NAME_RE, SeconetError, invalid } from '@seconet/core';
import { ExecRunner, type Runner } from '../runner/runner.js';

export type CertKind = 'server' | 'client';

export interface CaFiles {
  readonly cert: string;
  readonly key: string;
}

export interface IssuedCert {
  readonly name: string;
  readonly kind: CertKind;
  readonly cert: string;
  readonly key: string;
  /** The CA certificate that signed it (what the peer must trust). */
  readonly ca: string;
  /** Its serial as upper-case hex, as a deny list (agent config tls.revokedSerials) takes it. */
  readonly serial: string;
}

export interface IssueOptions {
  readonly name: string;
  readonly kind: CertKind;
  /** DNS names and IP addresses the certificate is valid for (server certificates). */
  readonly sans?: readonly string[];
  readonly days?: number;
}

export interface LabPki {
  readonly ca: CaFiles;
  readonly agents: Readonly<Record<string, IssuedCert>>;
  readonly controller: IssuedCert;
}

const DNS_RE = /^(?=.{1,253}$)[A-Za-z0-9*]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

function sanEntry(field: string, s: string): string {
  if (isIP(s) !== 0) return `IP:${s}`;
  if (DNS_RE.test(s)) return `DNS:${s}`;
  throw invalid(field, `${JSON.stringify(s)} is neither an IP address nor a DNS name`);
}

function ensureDir(dir: string): string {
  const d = resolve(dir);
  mkdirSync(d, { recursive: true, mode: 0o700 });
  return d;
}

function lstatOrUndefined(path: string): ReturnType<typeof lstatSync> | undefined {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

/** Creates (or truncates) a regular file for openssl to write; refuses symlinks and other non-files. */
function outputFile(path: string, mode: number, opts: { exclusive?: boolean } = {}): void {
  const st = lstatOrUndefined(path);
  if (st !== undefined && opts.exclusive === true) {
    throw new SeconetError('CONFLICT', `${path} already exists; refusing to overwrite a CA key (every certificate it signed would be orphaned). Keep it, or move it away yourself and re-issue everything`, { field: 'out' });
  }
  if (st !== undefined && !st.isFile()) throw new SeconetError('INVALID_ARGUMENT', `${path} is a ${st.isSymbolicLink() ? 'symbolic link' : 'non-regular file'}; refusing to write through it`, { field: 'out' });
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW | (opts.exclusive === true ? constants.O_EXCL : 0);
  closeSync(openSync(path, flags, mode));
  chmodSync(path, mode);
}

async function newKey(runner: Runner, path: string, exclusive = false): Promise<void> {
  outputFile(path, 0o600, { exclusive });
  await runner.run(['openssl', 'genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', path]);
  chmodSync(path, 0o600);
}

function serial(): string {
  const b = randomBytes(16);
  b[0] = b[0]! & 0x7f;
  return `0x${b.toString('hex')}`;
}

/** A self-signed CA (10 years) in `dir`: ca.crt and ca.key (0600). */
export async function createCa(dir: string, opts: { name?: string; days?: number } = {}, runner: Runner = new ExecRunner()): Promise<CaFiles> {
  const d = ensureDir(dir);
  const cert = join(d, 'ca.crt');
  const key = join(d, 'ca.key');
  const cn = opts.name ?? 'seconet-ca';
  if (!/^[A-Za-z0-9 ._-]{1,64}$/.test(cn)) throw invalid('name', `${JSON.stringify(cn)}: use letters, digits, space, . _ -`);
  await newKey(runner, key, true);
  outputFile(cert, 0o644);
  await runner.run([
    'openssl', 'req', '-x509', '-new', '-key', key, '-sha256', '-days', String(opts.days ?? 3650),
    '-subj', `/CN=${cn}`, '-set_serial', serial(),
    '-addext', 'basicConstraints=critical,CA:TRUE,pathlen:0',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    '-out', cert,
  ]);
  return { cert, key };
}

/**
 * Issues `dir/<name>.crt` and `dir/<name>.key` signed by the CA. Server certificates carry the
 * SANs (the agent name is always one); client certificates are for the controller.
 */
export async function issueCert(ca: CaFiles, opts: IssueOptions, dir: string, runner: Runner = new ExecRunner()): Promise<IssuedCert> {
  if (!NAME_RE.test(opts.name)) throw invalid('name', `${JSON.stringify(opts.name)} is not a valid name (${NAME_RE.source})`);
  if (opts.kind !== 'server' && opts.kind !== 'client') throw invalid('kind', `${JSON.stringify(opts.kind)} must be "server" or "client"`);
  const extra = (opts.sans ?? []).map((s, i) => sanEntry(`sans[${i}]`, s));
  const sans = [...new Set([sanEntry('name', opts.name), ...extra])];
  const d = ensureDir(dir);
  const cert = join(d, `${opts.name}.crt`);
  const key = join(d, `${opts.name}.key`);
  const csr = join(d, `.${opts.name}.${process.pid}.csr`);
  const sn = serial();
  const ext = join(d, `.${opts.name}.${process.pid}.ext`);
  await newKey(runner, key);
  outputFile(cert, 0o644);
  outputFile(csr, 0o600);
  writeFileSync(ext, [
    'basicConstraints=critical,CA:FALSE',
    'keyUsage=critical,digitalSignature,keyEncipherment',
    `extendedKeyUsage=${opts.kind === 'server' ? 'serverAuth' : 'clientAuth'}`,
    `subjectAltName=${sans.join(',')}`,
    '',
  ].join('\n'), { mode: 0o600, flag: 'wx' });
  try {
    await runner.run(['openssl', 'req', '-new', '-key', key, '-subj', `/CN=${opts.name}`, '-out', csr]);
    await runner.run([
      'openssl', 'x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-set_serial', sn,
      '-sha256', '-days', String(opts.days ?? 825), '-extfile', ext, '-out', cert,
    ]);
  } finally {
    rmSync(csr, { force: true });
    rmSync(ext, { force: true });
  }
  return { name: opts.name, kind: opts.kind, cert, key, ca: ca.cert, serial: sn.slice(2).toUpperCase().replace(/^0+(?=.)/, '') };
}

/**
 * The lab's PKI in `dir`: a CA, one server certificate per agent (SANs: its name, 127.0.0.1,
 * localhost) and the controller's client certificate.
 */
export async function createLabPki(dir: string, agentNames: readonly string[], runner: Runner = new ExecRunner()): Promise<LabPki> {
  agentNames.forEach((n, i) => {
    if (!NAME_RE.test(n)) throw invalid(`agents[${i}]`, `${JSON.stringify(n)} is not a valid agent name`);
    if (n === 'controller') throw invalid(`agents[${i}]`, '"controller" is the client certificate\'s name');
  });
  const ca = await createCa(dir, { name: 'seconet-lab-ca' }, runner);
  const agents: Record<string, IssuedCert> = {};
  for (const n of agentNames) agents[n] = await issueCert(ca, { name: n, kind: 'server', sans: ['127.0.0.1', 'localhost'] }, dir, runner);
  const controller = await issueCert(ca, { name: 'controller', kind: 'client' }, dir, runner);
  return { ca, agents, controller };
}
