// The agent's configuration file (YAML or JSON) and the HostEnv derived from it. Loading is
// strict: unknown keys, malformed values and missing files are SeconetError INVALID_ARGUMENT
// naming the field, so a typo fails at start rather than at the first Apply. Relative paths
// are resolved against the file's directory, so a lab can write self-contained configs.

import { accessSync, constants, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { NAME_RE, PREFIX_RE, SeconetError, invalid, isCidr, isIPv4, parseCidr } from '@seconet/core';
import type { HostEnv } from './host-env.js';
import { builtNsconf } from './netns/ip-batch.js';
import { builtGate } from './workloads/start-gate.js';
import { LAB_RANGE } from './reconciler/validate.js';

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

export interface AgentConfig {
  readonly name: string;
  readonly prefix: string;
  /** host:port to listen on. */
  readonly listen: string;
  readonly tls: {
    readonly ca: string;
    readonly cert: string;
    readonly key: string;
    /** Serials (normalised: upper-case hex, no 0x, no leading zeros) of revoked client certificates. */
    readonly revokedSerials: readonly string[];
    /** A file of revoked serials, one a line ('#' comments); re-read when it changes. */
    readonly denyList: string | undefined;
  };
  /**
   * Client identities (the certificate's CN or a DNS SAN) this agent obeys. A certificate from
   * the CA with another identity is refused with PERMISSION_DENIED.
   */
  readonly controllers: readonly string[];
  /**
   * Address ranges a request may touch (container networks, overlay addresses, peer routes,
   * guarded networks): the lab range 198.18.0.0/15 plus what the operator lists.
   */
  readonly allowedRanges: readonly string[];
  readonly stateDir: string;
  readonly runDir: string;
  /** Lab only: the host's network namespace. */
  readonly hostNetns: string | undefined;
  readonly underlay: { readonly dev: string; readonly address: string; readonly mtu: number };
  readonly logLevel: LogLevel;
  /** Log to this file instead of stdout. */
  readonly logFile: string | undefined;
}

export const DEFAULT_LISTEN = '0.0.0.0:7443';
export const DEFAULT_STATE_DIR = '/var/lib/seconet/agent';
export const DEFAULT_RUN_DIR = '/run/seconet/agent';
/** The client certificate name `seconet certs lab` issues. */
export const DEFAULT_CONTROLLER = 'controller';

const LOG_LEVELS: readonly LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];
const TOP_KEYS = ['name', 'prefix', 'listen', 'tls', 'controllers', 'allowedRanges', 'stateDir', 'runDir', 'hostNetns', 'underlay', 'logLevel', 'logFile'];
const IDENTITY_RE = /^[A-Za-z0-9*]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/;
const SERIAL_RE = /^(?:0x)?[0-9A-Fa-f]{1,64}$/;
const IFNAME_RE = /^[A-Za-z0-9_.-]{1,15}$/;
const NETNS_RE = /^[A-Za-z0-9_.-]{1,64}$/;
const HOSTNAME_RE = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** Splits and validates "host:port" (IPv4 or a DNS name; IPv6 as "[::1]:port"). */
export function parseListen(field: string, value: string): { host: string; port: number } {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:\s]+):(\d{1,5})$/.exec(value);
  const port = m ? Number(m[2]) : NaN;
  if (!m || !(port >= 0 && port <= 65535)) throw invalid(field, `${JSON.stringify(value)} is not host:port (expected e.g. ${DEFAULT_LISTEN} or 127.0.0.1:7443)`);
  const host = m[1]!;
  if (!host.startsWith('[') && !isIPv4(host) && !HOSTNAME_RE.test(host)) throw invalid(field, `${JSON.stringify(host)} is neither an IPv4 address nor a host name`);
  return { host, port };
}

/** A certificate serial as Node prints it (upper-case hex, no leading zeros), or undefined when it is not one. */
export function normalizeSerial(s: string): string | undefined {
  const t = s.trim().replace(/:/g, '');
  if (!SERIAL_RE.test(t)) return undefined;
  return t.replace(/^0x/i, '').toUpperCase().replace(/^0+(?=.)/, '');
}

function strList(field: string, v: unknown): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw invalid(field, 'must be a list');
  return v.map((x, i) => str(`${field}[${i}]`, x));
}

function obj(field: string, v: unknown, keys: readonly string[]): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw invalid(field, 'must be a mapping');
  for (const k of Object.keys(v)) {
    if (!keys.includes(k)) throw invalid(field === '' ? k : `${field}.${k}`, `unknown key (known: ${keys.join(', ')})`);
  }
  return v as Record<string, unknown>;
}

function str(field: string, v: unknown, dflt?: string): string {
  if (v === undefined || v === null) {
    if (dflt !== undefined) return dflt;
    throw invalid(field, 'is required');
  }
  if (typeof v !== 'string' || v.length === 0) throw invalid(field, 'must be a non-empty string');
  return v;
}

function optStr(field: string, v: unknown): string | undefined {
  return v === undefined || v === null ? undefined : str(field, v);
}

function path(field: string, v: unknown, base: string, dflt?: string): string {
  const p = str(field, v, dflt);
  if (p.includes('\0')) throw invalid(field, 'must not contain NUL');
  return isAbsolute(p) ? resolve(p) : resolve(base, p);
}

function readable(field: string, p: string): string {
  try {
    accessSync(p, constants.R_OK);
  } catch {
    throw invalid(field, `cannot read ${p}: create it (seconet certs) or fix the path`);
  }
  return p;
}

/**
 * Validates a parsed config object. `baseDir` resolves relative paths. TLS files must be
 * readable; directories are created by the agent at start.
 */
export function parseAgentConfig(raw: unknown, baseDir: string): AgentConfig {
  const o = obj('', raw, TOP_KEYS);
  const name = str('name', o['name']);
  if (!NAME_RE.test(name)) throw invalid('name', `${JSON.stringify(name)} is not a valid agent name (${NAME_RE.source})`);
  const prefix = str('prefix', o['prefix']);
  if (!PREFIX_RE.test(prefix)) throw invalid('prefix', `${JSON.stringify(prefix)} must be "sn" plus two lowercase letters or digits, e.g. "sn01" (${PREFIX_RE.source})`);
  if (prefix === 'snlb') throw invalid('prefix', '"snlb" is reserved for lab namespaces');
  const listen = str('listen', o['listen'], DEFAULT_LISTEN);
  parseListen('listen', listen);

  const t = obj('tls', o['tls'] ?? {}, ['ca', 'cert', 'key', 'revokedSerials', 'denyList']);
  const revokedSerials = strList('tls.revokedSerials', t['revokedSerials']).map((s, i) => {
    const n = normalizeSerial(s);
    if (n === undefined) throw invalid(`tls.revokedSerials[${i}]`, `${JSON.stringify(s)} is not a certificate serial (hex, as \`openssl x509 -noout -serial\` prints it)`);
    return n;
  });
  const denyRaw = optStr('tls.denyList', t['denyList']);
  const tls = {
    ca: readable('tls.ca', path('tls.ca', t['ca'], baseDir)),
    cert: readable('tls.cert', path('tls.cert', t['cert'], baseDir)),
    key: readable('tls.key', path('tls.key', t['key'], baseDir)),
    revokedSerials,
    denyList: denyRaw === undefined ? undefined : readable('tls.denyList', path('tls.denyList', denyRaw, baseDir)),
  };
  if (tls.denyList !== undefined) readDenyList(tls.denyList);

  const controllers = o['controllers'] === undefined ? [DEFAULT_CONTROLLER] : strList('controllers', o['controllers']);
  if (controllers.length === 0) throw invalid('controllers', `list at least one client certificate name (CN or DNS SAN) to obey, e.g. [${DEFAULT_CONTROLLER}]`);
  controllers.forEach((c, i) => {
    if (!IDENTITY_RE.test(c)) throw invalid(`controllers[${i}]`, `${JSON.stringify(c)} is not a certificate name (letters, digits, '.', '-')`);
  });
  const extraRanges = strList('allowedRanges', o['allowedRanges']).map((r, i) => {
    if (!isCidr(r)) throw invalid(`allowedRanges[${i}]`, `${JSON.stringify(r)} is not an IPv4 CIDR (expected e.g. 10.20.0.0/16)`);
    const c = parseCidr(r);
    if (c.network !== c.address) throw invalid(`allowedRanges[${i}]`, `${r} has host bits set; use ${c.network}/${c.prefix}`);
    if (c.prefix < 8) throw invalid(`allowedRanges[${i}]`, `${r} is wider than /8; list the networks the lab really uses`);
    return r;
  });
  const allowedRanges = [...new Set([LAB_RANGE, ...extraRanges])];

  const stateDir = path('stateDir', o['stateDir'], baseDir, DEFAULT_STATE_DIR);
  const runDir = path('runDir', o['runDir'], baseDir, DEFAULT_RUN_DIR);
  if (stateDir === runDir) throw invalid('runDir', 'must differ from stateDir');
  // The agent's bpffs is mounted at runDir/bpffs, and libbpf rewrites '.' in pin paths.
  if (!/^[A-Za-z0-9_/-]+$/.test(runDir)) throw invalid('runDir', `${JSON.stringify(runDir)}: use letters, digits, '_', '-' and '/' only (BPF objects are pinned below it and libbpf rewrites '.')`);

  const hostNetns = optStr('hostNetns', o['hostNetns']);
  if (hostNetns !== undefined && !NETNS_RE.test(hostNetns)) throw invalid('hostNetns', `${JSON.stringify(hostNetns)} is not a namespace name (${NETNS_RE.source})`);

  const u = obj('underlay', o['underlay'] ?? {}, ['dev', 'address', 'mtu']);
  const dev = str('underlay.dev', u['dev']);
  if (!IFNAME_RE.test(dev)) throw invalid('underlay.dev', `${JSON.stringify(dev)} is not an interface name (at most 15 of A-Z a-z 0-9 _ . -)`);
  const address = str('underlay.address', u['address']);
  if (!isIPv4(address)) throw invalid('underlay.address', `${JSON.stringify(address)} is not an IPv4 address (expected e.g. 198.18.0.1)`);
  const mtuRaw = u['mtu'] ?? 1500;
  if (typeof mtuRaw !== 'number' || !Number.isInteger(mtuRaw) || mtuRaw < 576 || mtuRaw > 65535) throw invalid('underlay.mtu', `${JSON.stringify(mtuRaw)} must be an integer from 576 to 65535`);

  const logLevel = str('logLevel', o['logLevel'], 'info') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) throw invalid('logLevel', `${JSON.stringify(logLevel)} must be one of ${LOG_LEVELS.join(', ')}`);
  const logFileRaw = optStr('logFile', o['logFile']);
  const logFile = logFileRaw === undefined ? undefined : path('logFile', logFileRaw, baseDir);

  return { name, prefix, listen, tls, controllers, allowedRanges, stateDir, runDir, hostNetns, underlay: { dev, address, mtu: mtuRaw }, logLevel, logFile };
}

/**
 * Reads a deny list: one serial a line, '#' starts a comment. A malformed line is an error
 * naming the line, never skipped: a revocation that silently does not apply is worse than none.
 */
export function readDenyList(file: string): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new SeconetError('INVALID_ARGUMENT', `tls.denyList: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { field: 'tls.denyList', cause: e });
  }
  const out: string[] = [];
  text.split('\n').forEach((line, i) => {
    const l = line.replace(/#.*/, '').trim();
    if (l === '') return;
    const n = normalizeSerial(l);
    if (n === undefined) throw invalid('tls.denyList', `${file} line ${i + 1}: ${JSON.stringify(l.slice(0, 80))} is not a certificate serial (hex)`);
    out.push(n);
  });
  return out;
}

/** Reads and validates a config file (YAML, of which JSON is a subset). */
export function loadAgentConfig(file: string): AgentConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new SeconetError('INVALID_ARGUMENT', `config: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { field: 'config', cause: e });
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (e) {
    throw new SeconetError('INVALID_ARGUMENT', `config: ${file} is not valid YAML or JSON: ${(e as Error).message}`, { field: 'config', cause: e });
  }
  return parseAgentConfig(raw, dirname(resolve(file)));
}

/** Where this agent acts, derived from its config. */
export function hostEnvFromConfig(c: AgentConfig): HostEnv {
  return {
    name: c.name,
    prefix: c.prefix,
    hostNetns: c.hostNetns,
    stateDir: c.stateDir,
    runDir: c.runDir,
    bpffs: join(c.runDir, 'bpffs'),
    underlayDev: c.underlay.dev,
    underlayAddress: c.underlay.address,
    underlayMtu: c.underlay.mtu,
    allowedRanges: c.allowedRanges,
    nsconf: builtNsconf(),
    gate: builtGate(),
  };
}
