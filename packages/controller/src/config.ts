// The controller's configuration file (YAML): where Redis and the store are, which agents it
// drives (address and mTLS files each), where the API listens and its token file, and the
// engine's and queue's knobs. Every field is checked here, once, with an error that names the
// field; relative paths resolve against the file's directory.

import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { HOST_KINDS, NAME_RE, SeconetError, type HostKind } from '@seconet/core';
import type { AgentEndpointConfig, AgentRecoveryConfig } from './agents/registry.js';
import type { EngineOptions } from './engine/engine.js';

export interface ControllerConfig {
  /** passwordFile: a file holding the Redis password (AUTH), readable by the controller only. */
  readonly redis: { readonly url: string; readonly prefix: string; readonly passwordFile: string | undefined };
  /**
   * kind `sqlite` (default): the database file in `dir`, one controller. kind `postgres`: the
   * tables on the PostgreSQL server at `url` (its password in the URL or in `passwordFile`),
   * shared by every controller on the same queue; `dir` still holds the raw tool outputs.
   */
  readonly store: { readonly dir: string; readonly kind: 'sqlite' | 'postgres'; readonly url: string | undefined; readonly passwordFile: string | undefined };
  readonly agents: readonly AgentEndpointConfig[];
  readonly api: {
    readonly listen: string;
    readonly tokenFile: string;
    /** Serve the REST API over HTTPS with this certificate (`seconet certs issue --kind server`). */
    readonly tls: { readonly cert: string; readonly key: string } | undefined;
  };
  readonly worker: {
    readonly concurrency: number;
    readonly lockDurationMs: number;
    readonly stalledIntervalMs: number;
    readonly hostLockTtlMs: number;
  };
  readonly engine: Partial<EngineOptions>;
  readonly healthIntervalMs: number;
  readonly logLevel: string;
  readonly limits: ServiceLimits;
}

/** What one submission may ask of the controller. */
export interface ServiceLimits {
  /** Refuse a spec whose estimate at max repetitions is longer (default: a week). */
  readonly maxEstimatedSeconds: number;
  /** Refuse a submission while this many experiments wait in the queue (default 100). */
  readonly maxQueued: number;
}

export const DEFAULT_LIMITS: ServiceLimits = { maxEstimatedSeconds: 7 * 24 * 3600, maxQueued: 100 };

type Raw = Record<string, unknown>;

function bad(field: string, message: string): SeconetError {
  return new SeconetError('INVALID_ARGUMENT', `${field}: ${message}`, { field });
}

function obj(v: unknown, field: string): Raw {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw bad(field, 'expected a mapping of fields');
  return v as Raw;
}

function str(v: unknown, field: string, def?: string): string {
  if (v === undefined && def !== undefined) return def;
  if (typeof v !== 'string' || v === '') throw bad(field, 'expected a non-empty string');
  return v;
}

function int(v: unknown, field: string, def: number, min: number, max: number): number {
  if (v === undefined) return def;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw bad(field, `expected a whole number from ${min} to ${max}`);
  return v;
}

function hostPort(v: string, field: string): string {
  const m = /^([A-Za-z0-9.-]+|\[[0-9a-fA-F:]+\]):(\d{1,5})$/.exec(v);
  if (!m || Number(m[2]) > 65535) throw bad(field, `${JSON.stringify(v)} is not host:port (e.g. 127.0.0.1:7001)`);
  return v;
}

function unknownKeys(o: Raw, allowed: readonly string[], field: string): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) throw bad(field === '' ? k : `${field}.${k}`, `unknown field (allowed: ${allowed.join(', ')})`);
}

function argvList(v: unknown, field: string): string[] {
  if (!Array.isArray(v) || v.length === 0 || !v.every((a) => typeof a === 'string' && a.length > 0 && !a.includes('\0'))) {
    throw bad(field, 'expected a non-empty list of command words (argv), e.g. [systemctl, restart, seconet-agent]');
  }
  return v as string[];
}

/** `agents[i].recovery`: restart an agent over SSH when it stops answering (docs/operations.md). */
function parseRecovery(v: unknown, f: string, path: (v: unknown, field: string, def?: string) => string): AgentRecoveryConfig {
  const o = obj(v, f);
  unknownKeys(o, ['ssh', 'restartCommand', 'logFile', 'logLines', 'afterMs', 'startGraceMs'], f);
  const ssh = obj(o['ssh'], `${f}.ssh`);
  unknownKeys(ssh, ['host', 'port', 'user', 'identityFile', 'knownHostsFile', 'proxyCommand', 'timeoutMs'], `${f}.ssh`);
  const out: AgentRecoveryConfig = {
    ssh: {
      host: str(ssh['host'], `${f}.ssh.host`),
      port: int(ssh['port'], `${f}.ssh.port`, 22, 1, 65535),
      username: str(ssh['user'], `${f}.ssh.user`, 'root'),
      identityFile: path(ssh['identityFile'], `${f}.ssh.identityFile`),
      knownHostsFile: path(ssh['knownHostsFile'], `${f}.ssh.knownHostsFile`),
      proxyCommand: ssh['proxyCommand'] === undefined ? undefined : argvList(ssh['proxyCommand'], `${f}.ssh.proxyCommand`),
      timeoutMs: int(ssh['timeoutMs'], `${f}.ssh.timeoutMs`, 10_000, 1000, 120_000),
    },
    restartCommand: argvList(o['restartCommand'], `${f}.restartCommand`),
    logFile: o['logFile'] === undefined ? undefined : str(o['logFile'], `${f}.logFile`),
    logLines: int(o['logLines'], `${f}.logLines`, 50, 1, 1000),
    afterMs: int(o['afterMs'], `${f}.afterMs`, 10_000, 0, 3_600_000),
    startGraceMs: int(o['startGraceMs'], `${f}.startGraceMs`, 30_000, 0, 3_600_000),
  };
  return out;
}

/** Validates a parsed configuration document; `baseDir` anchors relative paths. */
export function parseControllerConfig(doc: unknown, baseDir = process.cwd()): ControllerConfig {
  const root = obj(doc, '');
  unknownKeys(root, ['redis', 'store', 'agents', 'api', 'worker', 'engine', 'healthIntervalMs', 'logLevel', 'limits'], '');
  const limitsRaw = obj(root['limits'], 'limits');
  unknownKeys(limitsRaw, ['maxEstimatedSeconds', 'maxQueued'], 'limits');
  const limits: ServiceLimits = {
    maxEstimatedSeconds: int(limitsRaw['maxEstimatedSeconds'], 'limits.maxEstimatedSeconds', DEFAULT_LIMITS.maxEstimatedSeconds, 60, 366 * 24 * 3600),
    maxQueued: int(limitsRaw['maxQueued'], 'limits.maxQueued', DEFAULT_LIMITS.maxQueued, 1, 100_000),
  };
  const path = (v: unknown, field: string, def?: string): string => {
    const p = str(v, field, def);
    return isAbsolute(p) ? p : resolve(baseDir, p);
  };
  const redisRaw = typeof root['redis'] === 'string' ? { url: root['redis'] } : obj(root['redis'], 'redis');
  unknownKeys(redisRaw, ['url', 'prefix', 'passwordFile'], 'redis');
  const url = str(redisRaw['url'], 'redis.url', 'redis://127.0.0.1:6379');
  if (!/^rediss?:\/\//.test(url)) throw bad('redis.url', `${JSON.stringify(url)} is not a redis:// or rediss:// URL`);
  const prefix = str(redisRaw['prefix'], 'redis.prefix', 'seconet');
  if (!NAME_RE.test(prefix)) throw bad('redis.prefix', 'use lowercase letters, digits and dashes');

  const storeRaw = typeof root['store'] === 'string' ? { dir: root['store'] } : obj(root['store'], 'store');
  unknownKeys(storeRaw, ['dir', 'kind', 'url', 'passwordFile'], 'store');
  const storeKind = storeRaw['kind'] ?? 'sqlite';
  if (storeKind !== 'sqlite' && storeKind !== 'postgres') throw bad('store.kind', `${JSON.stringify(storeKind)}: use sqlite (the embedded default, one controller) or postgres (several controllers sharing one store, with store.url)`);
  let storeUrl: string | undefined;
  if (storeKind === 'postgres') {
    storeUrl = str(storeRaw['url'], 'store.url', '');
    if (storeUrl === '') throw bad('store.url', 'store.kind postgres needs the server\'s URL, e.g. postgres://seconet@db.example:5432/seconet');
    if (!/^postgres(ql)?:\/\/[^\s]+$/.test(storeUrl)) throw bad('store.url', `${JSON.stringify(storeUrl.replace(/(\/\/[^:/@]*:)[^@]*@/, '$1***@'))} is not a postgres:// or postgresql:// URL`);
  } else if (storeRaw['url'] !== undefined || storeRaw['passwordFile'] !== undefined) {
    throw bad(storeRaw['url'] !== undefined ? 'store.url' : 'store.passwordFile', 'only used with store.kind postgres; set store.kind: postgres or remove it');
  }

  const agentsRaw = root['agents'] ?? [];
  if (!Array.isArray(agentsRaw)) throw bad('agents', 'expected a list of agents');
  const names = new Set<string>();
  const agents = agentsRaw.map((a, i): AgentEndpointConfig => {
    const f = `agents[${i}]`;
    const o = obj(a, f);
    unknownKeys(o, ['name', 'address', 'tls', 'serverName', 'recovery', 'hostKind'], f);
    const name = str(o['name'], `${f}.name`);
    if (!NAME_RE.test(name)) throw bad(`${f}.name`, `${JSON.stringify(name)} is not a valid agent name (${NAME_RE.source})`);
    if (names.has(name)) throw bad(`${f}.name`, `${name} is listed twice`);
    names.add(name);
    const tls = obj(o['tls'], `${f}.tls`);
    unknownKeys(tls, ['ca', 'cert', 'key'], `${f}.tls`);
    const out: AgentEndpointConfig = {
      name,
      address: hostPort(str(o['address'], `${f}.address`), `${f}.address`),
      tls: { ca: path(tls['ca'], `${f}.tls.ca`), cert: path(tls['cert'], `${f}.tls.cert`), key: path(tls['key'], `${f}.tls.key`) },
    };
    const kind = o['hostKind'];
    if (kind !== undefined && !(HOST_KINDS as readonly unknown[]).includes(kind)) throw bad(`${f}.hostKind`, `${JSON.stringify(kind)}: use one of ${HOST_KINDS.join(', ')}`);
    const withKind = kind === undefined ? out : { ...out, hostKind: kind as HostKind };
    const withName = o['serverName'] === undefined ? withKind : { ...withKind, serverName: str(o['serverName'], `${f}.serverName`) };
    return o['recovery'] === undefined ? withName : { ...withName, recovery: parseRecovery(o['recovery'], `${f}.recovery`, path) };
  });

  const api = obj(root['api'], 'api');
  unknownKeys(api, ['listen', 'tokenFile', 'tls'], 'api');
  let apiTls: { cert: string; key: string } | undefined;
  if (api['tls'] !== undefined) {
    const t = obj(api['tls'], 'api.tls');
    unknownKeys(t, ['cert', 'key'], 'api.tls');
    apiTls = { cert: path(t['cert'], 'api.tls.cert'), key: path(t['key'], 'api.tls.key') };
  }
  const worker = obj(root['worker'], 'worker');
  unknownKeys(worker, ['concurrency', 'lockDurationMs', 'stalledIntervalMs', 'hostLockTtlMs'], 'worker');
  const engine = obj(root['engine'], 'engine');
  unknownKeys(engine, ['retries', 'metricsIntervalMs', 'runMarginMs', 'preflight', 'cancelPollMs', 'retryDelayMs', 'agentWaitMs', 'minFreeBytes'], 'engine');
  const engineOut: { -readonly [K in keyof EngineOptions]?: EngineOptions[K] } = {};
  if (engine['retries'] !== undefined) engineOut.retries = int(engine['retries'], 'engine.retries', 1, 0, 20);
  if (engine['metricsIntervalMs'] !== undefined) engineOut.metricsIntervalMs = int(engine['metricsIntervalMs'], 'engine.metricsIntervalMs', 1000, 100, 60_000);
  if (engine['runMarginMs'] !== undefined) engineOut.runMarginMs = int(engine['runMarginMs'], 'engine.runMarginMs', 20_000, 1000, 3_600_000);
  if (engine['cancelPollMs'] !== undefined) engineOut.cancelPollMs = int(engine['cancelPollMs'], 'engine.cancelPollMs', 1000, 10, 60_000);
  if (engine['retryDelayMs'] !== undefined) engineOut.retryDelayMs = int(engine['retryDelayMs'], 'engine.retryDelayMs', 1000, 0, 600_000);
  if (engine['agentWaitMs'] !== undefined) engineOut.agentWaitMs = int(engine['agentWaitMs'], 'engine.agentWaitMs', 120_000, 0, 3_600_000);
  if (engine['minFreeBytes'] !== undefined) engineOut.minFreeBytes = int(engine['minFreeBytes'], 'engine.minFreeBytes', 64 << 20, 0, Number.MAX_SAFE_INTEGER);
  if (engine['preflight'] !== undefined) {
    if (typeof engine['preflight'] !== 'boolean') throw bad('engine.preflight', 'expected true or false');
    engineOut.preflight = engine['preflight'];
  }
  const lockDurationMs = int(worker['lockDurationMs'], 'worker.lockDurationMs', 10_000, 1000, 600_000);
  return {
    redis: { url, prefix, passwordFile: redisRaw['passwordFile'] === undefined ? undefined : path(redisRaw['passwordFile'], 'redis.passwordFile') },
    store: {
      dir: path(storeRaw['dir'], 'store.dir', '/var/lib/seconet'),
      kind: storeKind,
      url: storeUrl,
      passwordFile: storeRaw['passwordFile'] === undefined ? undefined : path(storeRaw['passwordFile'], 'store.passwordFile'),
    },
    agents,
    api: { listen: hostPort(str(api['listen'], 'api.listen', '127.0.0.1:8080'), 'api.listen'), tokenFile: path(api['tokenFile'], 'api.tokenFile', '/etc/seconet/api-token'), tls: apiTls },
    worker: {
      concurrency: int(worker['concurrency'], 'worker.concurrency', 4, 1, 64),
      lockDurationMs,
      stalledIntervalMs: int(worker['stalledIntervalMs'], 'worker.stalledIntervalMs', 5_000, 500, 600_000),
      hostLockTtlMs: int(worker['hostLockTtlMs'], 'worker.hostLockTtlMs', 10_000, 1000, 600_000),
    },
    engine: engineOut,
    healthIntervalMs: int(root['healthIntervalMs'], 'healthIntervalMs', 5000, 100, 600_000),
    logLevel: str(root['logLevel'], 'logLevel', 'info'),
    limits,
  };
}

/** The Redis password from redis.passwordFile (first line), or undefined when none is configured. */
export function readRedisPassword(config: Pick<ControllerConfig, 'redis'>): string | undefined {
  const file = config.redis.passwordFile;
  if (file === undefined) return undefined;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new SeconetError('INVALID_ARGUMENT', `redis.passwordFile: cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? String(e)}); the controller needs it to log in to Redis`, { field: 'redis.passwordFile', cause: e });
  }
  const password = text.split('\n')[0]!.trim();
  if (password === '') throw new SeconetError('INVALID_ARGUMENT', `redis.passwordFile: ${file} is empty; write the password Redis requires (requirepass) on its first line`, { field: 'redis.passwordFile' });
  return password;
}

/** The PostgreSQL store's password from store.passwordFile (first line), or undefined when none is configured. */
export function readStorePassword(config: Pick<ControllerConfig, 'store'>): string | undefined {
  const file = config.store.passwordFile;
  if (file === undefined) return undefined;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new SeconetError('INVALID_ARGUMENT', `store.passwordFile: cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? String(e)}); the controller needs it to log in to PostgreSQL`, { field: 'store.passwordFile', cause: e });
  }
  const password = text.split('\n')[0]!.trim();
  if (password === '') throw new SeconetError('INVALID_ARGUMENT', `store.passwordFile: ${file} is empty; write the PostgreSQL role's password on its first line`, { field: 'store.passwordFile' });
  return password;
}

/** Reads and validates a YAML (or JSON) configuration file. */
export function loadControllerConfig(file: string): ControllerConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new SeconetError('INVALID_ARGUMENT', `config: cannot read ${file}: ${(e as Error).message}`, { field: 'config', cause: e });
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw new SeconetError('INVALID_ARGUMENT', `config: ${file} is not valid YAML: ${(e as Error).message}`, { field: 'config', cause: e });
  }
  return parseControllerConfig(doc, dirname(resolve(file)));
}
