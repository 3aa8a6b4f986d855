// SSH sessions with ssh2 for the operations features: `seconet hosts check` before any install,
// and restarting an agent that stopped answering. Host keys must be in known_hosts; only key
// authentication; commands are fixed strings built by this package, never user text.
// A proxyCommand (argv) carries the connection over another process's stdio, like OpenSSH's
// ProxyCommand (jump hosts, or a lab host namespace).

import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Duplex } from 'node:stream';
import { Client, type ConnectConfig } from 'ssh2';
import { SeconetError } from '@seconet/core';
import { isKnownHostKey } from './known-hosts.js';

export interface SshTarget {
  /** Inventory name of the host. */
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly username: string;
  readonly identityFile: string;
  readonly knownHostsFile: string;
  readonly proxyCommand?: readonly string[] | undefined;
  readonly timeoutMs?: number | undefined;
}

export interface ExecResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface SshSession {
  readonly target: SshTarget;
  exec(command: string, opts?: { timeoutMs?: number }): Promise<ExecResult>;
  close(): void;
}

function fingerprint(key: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(key).digest('base64').replace(/=+$/, '');
}

function readOrFail(path: string, what: string, target: SshTarget): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new SeconetError('SSH_FAILED', `${target.name}: cannot read ${what} ${path}: ${(e as Error).message}`, { field: what, cause: e });
  }
}

function proxySocket(argv: readonly string[]): Duplex {
  const [cmd, ...args] = argv;
  if (!cmd) throw new Error('empty proxyCommand');
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'ignore'], shell: false });
  const duplex = Duplex.from({ readable: child.stdout, writable: child.stdin });
  duplex.on('close', () => child.kill());
  return duplex;
}

export function openSsh(target: SshTarget): Promise<SshSession> {
  const knownHosts = readOrFail(target.knownHostsFile, 'knownHostsFile', target);
  const privateKey = readOrFail(target.identityFile, 'identityFile', target);
  const where = `${target.username}@${target.host}:${target.port}`;
  return new Promise((resolve, reject) => {
    const client = new Client();
    let presented: string | undefined;
    let settled = false;
    const fail = (e: SeconetError): void => {
      if (settled) return;
      settled = true;
      client.end();
      reject(e);
    };
    const config: ConnectConfig = {
      host: target.host,
      port: target.port,
      username: target.username,
      privateKey,
      readyTimeout: target.timeoutMs ?? 10_000,
      tryKeyboard: false,
      hostVerifier: (key: Buffer) => {
        if (isKnownHostKey(knownHosts, target.host, target.port, key)) return true;
        presented = fingerprint(key);
        return false;
      },
      ...(target.proxyCommand ? { sock: proxySocket(target.proxyCommand) } : {}),
    };
    client.on('ready', () => {
      settled = true;
      resolve(sessionOf(client, target));
    });
    client.on('error', (e: Error & { level?: string; code?: string }) => {
      if (presented !== undefined) {
        fail(new SeconetError('SSH_FAILED', `${target.name}: host key of ${target.host}:${target.port} (${presented}) is not in ${target.knownHostsFile}; verify the host and add its key (ssh-keyscan) before connecting`, { field: 'knownHostsFile', cause: e }));
      } else if (e.level === 'client-authentication') {
        fail(new SeconetError('SSH_FAILED', `${target.name}: login refused for ${where}: the key ${target.identityFile} is not accepted (check authorized_keys and the user)`, { field: 'identityFile', cause: e }));
      } else if (e.level === 'client-timeout') {
        fail(new SeconetError('SSH_FAILED', `${target.name}: no SSH handshake with ${where} within ${target.timeoutMs ?? 10_000} ms`, { cause: e }));
      } else {
        fail(new SeconetError('SSH_FAILED', `${target.name}: cannot connect to ${where}: ${e.code ?? ''} ${e.message}`.replace(/\s+/g, ' '), { cause: e }));
      }
    });
    client.connect(config);
  });
}

function sessionOf(client: Client, target: SshTarget): SshSession {
  return {
    target,
    close: () => client.end(),
    exec: (command, opts = {}) =>
      new Promise((resolve, reject) => {
        client.exec(command, (err, stream) => {
          if (err) return reject(new SeconetError('SSH_FAILED', `${target.name}: exec failed: ${err.message}`, { cause: err }));
          let stdout = '';
          let stderr = '';
          const timer = setTimeout(() => {
            stream.close();
            reject(new SeconetError('TIMEOUT', `${target.name}: remote command did not finish within ${opts.timeoutMs} ms`));
          }, opts.timeoutMs ?? 30_000);
          stream.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
          stream.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
          stream.on('close', (code: number | null) => {
            clearTimeout(timer);
            resolve({ code, stdout, stderr });
          });
        });
      }),
  };
}

/** Quotes one argument for the remote POSIX shell. */
export function shQuote(arg: string): string {
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}
