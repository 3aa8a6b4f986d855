// A real sshd inside a lab host namespace, as a target for the Ansible roles and the SSH
// features. Keys, known_hosts and config live in a temporary directory; the daemon is stopped
// by PID. Clients reach it from another lab host namespace (ansible-playbook via `ip netns
// exec`, ssh2 via a proxyCommand running in that namespace).

import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExecRunner, createLab, destroyLab, randomLabId, type LabHost } from '@seconet/agent';

export interface Sshd {
  readonly dir: string;
  readonly address: string;
  readonly port: number;
  readonly clientKey: string;
  readonly knownHosts: string;
  /** A second key that sshd does not accept. */
  readonly strangerKey: string;
  /** known_hosts with a different key for the same address. */
  readonly wrongKnownHosts: string;
  readonly pid: number;
  stop(): Promise<void>;
}

function keygen(file: string): void {
  execFileSync('/usr/bin/ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', file, '-C', 'seconet-test']);
}

async function waitListening(netns: string, port: number, deadlineMs = 10_000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (Date.now() < end) {
    const out = execFileSync('/usr/sbin/ip', ['netns', 'exec', netns, '/usr/bin/ss', '-ltnH', `sport = :${port}`]).toString();
    if (out.trim() !== '') return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`sshd in ${netns} did not listen on ${port}`);
}

/** PIDs whose parent is `pid` (sshd's per-connection processes). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(d));
    } catch {
      /* gone */
    }
  }
  return out;
}

export async function startSshd(netns: string, address: string, port = 22): Promise<Sshd> {
  const dir = mkdtempSync(join(tmpdir(), 'seconet-sshd-'));
  keygen(join(dir, 'host_key'));
  keygen(join(dir, 'other_host_key'));
  keygen(join(dir, 'client_key'));
  keygen(join(dir, 'stranger_key'));
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(join(dir, 'client_key.pub')), { mode: 0o600 });
  const hostPub = readFileSync(join(dir, 'host_key.pub'), 'utf8').split(' ');
  const otherPub = readFileSync(join(dir, 'other_host_key.pub'), 'utf8').split(' ');
  const hostName = port === 22 ? address : `[${address}]:${port}`;
  writeFileSync(join(dir, 'known_hosts'), `${hostName} ${hostPub[0]} ${hostPub[1]}\n`);
  writeFileSync(join(dir, 'wrong_known_hosts'), `${hostName} ${otherPub[0]} ${otherPub[1]}\n`);
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const opts = [
    `HostKey=${join(dir, 'host_key')}`,
    `ListenAddress=${address}`,
    `Port=${port}`,
    'PidFile=none',
    `AuthorizedKeysFile=${join(dir, 'authorized_keys')}`,
    'PermitRootLogin=prohibit-password',
    'PasswordAuthentication=no',
    'KbdInteractiveAuthentication=no',
    'UsePAM=no',
    'StrictModes=no',
    'Subsystem=sftp /usr/lib/openssh/sftp-server',
    'LogLevel=ERROR',
  ].flatMap((o) => ['-o', o]);
  const child: ChildProcess = spawn('/usr/sbin/ip', ['netns', 'exec', netns, '/usr/sbin/sshd', '-D', '-e', '-f', '/dev/null', ...opts], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  try {
    await waitListening(netns, port);
  } catch (e) {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`${(e as Error).message}: ${stderr}`);
  }
  return {
    dir,
    address,
    port,
    clientKey: join(dir, 'client_key'),
    strangerKey: join(dir, 'stranger_key'),
    knownHosts: join(dir, 'known_hosts'),
    wrongKnownHosts: join(dir, 'wrong_known_hosts'),
    pid: child.pid ?? -1,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        // Sessions outlive the listening daemon: end them first, by PID.
        for (const session of childrenOf(child.pid ?? -1)) {
          try {
            process.kill(session, 'SIGTERM');
          } catch {
            /* already gone */
          }
        }
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** argv that carries a TCP connection to address:port from inside `netns` over stdio. */
export function netnsProxyCommand(netns: string, address: string, port: number): string[] {
  const script = `const s=require('net').connect(${port},${JSON.stringify(address)});process.stdin.pipe(s);s.pipe(process.stdout);s.on('error',()=>process.exit(1));s.on('close',()=>process.exit(0));`;
  return ['/usr/sbin/ip', 'netns', 'exec', netns, process.execPath, '-e', script];
}

/**
 * Two lab hosts with an sshd on h1's underlay address, all removed at the test's teardown:
 * clients run in (or proxy through) h2's namespace.
 */
export async function sshLab(t: { teardown(fn: () => unknown): void }): Promise<{ h1: LabHost; h2: LabHost; sshd: Sshd }> {
  const runner = new ExecRunner();
  const lab = await createLab(runner, randomLabId(), 2);
  t.teardown(() => destroyLab(runner, lab));
  const [h1, h2] = lab.hosts as [LabHost, LabHost];
  const sshd = await startSshd(h1.netns, h1.underlayAddress);
  t.teardown(() => sshd.stop());
  return { h1, h2, sshd };
}
