// The one command runner of the agent. Every network command goes through here: spawned
// without a shell from an absolute path, optionally inside a network namespace (via
// `ip netns exec`; the Node process itself never switches namespaces), with a deadline, an
// abort signal, logging of argv (secrets masked), duration and exit code, and failures mapped
// to typed CommandErrors in one place. Drivers depend on the Runner interface only, so unit
// tests replace it with the recording runner of @seconet/agent/testing and assert the exact argv.

import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { CommandError, classify, spawnFailure } from './errors.js';
import { toolPath } from './tools.js';
import { processStartTime } from './proc.js';

export interface RunOptions {
  /** Network namespace (as in `ip netns list`) to run the command in. */
  netns?: string | undefined;
  /** Kill the command after this long (default 30 s). */
  timeoutMs?: number;
  signal?: AbortSignal;
  stdin?: string;
  /** Exit codes that are not failures (default [0]). */
  okCodes?: readonly number[];
  /** Strings to mask in logs (keys, PSKs). */
  secrets?: readonly string[];
  env?: Record<string, string>;
  cwd?: string;
  /** Bytes of stdout and of stderr kept (default 1 MiB); a listing of a thousand links is larger. */
  maxOutputBytes?: number;
}

export interface RunResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number;
  readonly durationMs: number;
}

export interface SpawnOptions extends Omit<RunOptions, 'timeoutMs' | 'okCodes' | 'stdin'> {
  /** Where stdout and stderr go; default: kept in memory up to 1 MiB each. */
  stdio?: 'pipe' | 'ignore';
  /** Append stdout and stderr to this file instead (daemons: they must outlive the agent). */
  logFile?: string;
  /** Own process group, not killed with the agent (daemons recorded in the journal). */
  detached?: boolean;
  /** The process's stdin: this open descriptor (a start barrier's FIFO, workloads/start-gate.ts); default none. */
  stdinFd?: number;
}

export interface Spawned {
  readonly pid: number;
  readonly argv: readonly string[];
  /** Resolves when the process ends. */
  readonly exited: Promise<{ exitCode: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
  /** Sends SIGTERM, then SIGKILL after graceMs; resolves when the process is gone. */
  stop(graceMs?: number): Promise<void>;
  /** Output so far. */
  output(): { stdout: string; stderr: string };
  /** The process's start time (with pid, its identity), or undefined once it has exited. */
  startTime(): string | undefined;
  /** Whether the process is still running. */
  alive(): boolean;
}

export interface RunLogger {
  debug(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface Runner {
  /** Runs a command to completion. argv[0] is a tool name (resolved to an absolute path) or an absolute path. */
  run(argv: readonly string[], opts?: RunOptions): Promise<RunResult>;
  /** Starts a long-running process (a daemon or a workload tool) and returns at once. */
  spawn(argv: readonly string[], opts?: SpawnOptions): Spawned;
}

const MAX_CAPTURE = 1 << 20;

/** A command's output with the secrets masked, for errors that may travel far. */
export function maskOutput<R extends { stdout: string; stderr: string }>(r: R, secrets: readonly string[] = []): R {
  return secrets.length === 0 ? r : { ...r, stdout: maskArgv([r.stdout], secrets)[0]!, stderr: maskArgv([r.stderr], secrets)[0]! };
}

export function maskArgv(argv: readonly string[], secrets: readonly string[] = []): string[] {
  return argv.map((a) => secrets.reduce((s, secret) => (secret.length > 0 ? s.split(secret).join('***') : s), a));
}

function resolveArgv(argv: readonly string[], netns: string | undefined): string[] {
  if (argv.length === 0) throw new Error('empty argv');
  const [tool, ...rest] = argv as [string, ...string[]];
  const abs = toolPath(tool);
  if (netns === undefined) return [abs, ...rest];
  // `ip netns exec` gives the command the namespace's /etc/netns files and a fresh /sys.
  return [toolPath('ip'), 'netns', 'exec', netns, abs, ...rest];
}

class Capture {
  private chunks: Buffer[] = [];
  private size = 0;
  constructor(private readonly max = MAX_CAPTURE) {}
  add(b: Buffer): void {
    if (this.size >= this.max) return;
    this.chunks.push(b);
    this.size += b.length;
  }
  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

export class ExecRunner implements Runner {
  /** `timeScale` multiplies every deadline (the default 30 s too): above 1 on emulated or shared CPUs. */
  constructor(
    private readonly log?: RunLogger,
    readonly timeScale = 1,
  ) {}

  run(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
    let full: string[];
    try {
      full = resolveArgv(argv, opts.netns);
    } catch (e) {
      const masked = maskArgv(argv, opts.secrets);
      return Promise.reject(new CommandError('NotFound', masked, { exitCode: null, signal: null, stderr: e instanceof Error ? e.message : String(e), stdout: '' }, { detail: 'could not start: not found', spawnError: 'ENOENT', cause: e }));
    }
    const masked = maskArgv(full, opts.secrets);
    const started = performance.now();
    const timeoutMs = Math.round((opts.timeoutMs ?? 30_000) * Math.max(1, this.timeScale));
    if (opts.signal?.aborted) return Promise.reject(new CommandError('Cancelled', masked, { exitCode: null, signal: null, stdout: '', stderr: '' }, { detail: 'aborted before it started' }));
    return new Promise((resolve, reject) => {
      let child: ReturnType<typeof spawn>;
      try {
        child = spawn(full[0]!, full.slice(1), {
          shell: false,
          stdio: ['pipe', 'pipe', 'pipe'],
          env: opts.env ? { ...process.env, ...opts.env } : process.env,
          ...(opts.cwd ? { cwd: opts.cwd } : {}),
        });
      } catch (e) {
        reject(spawnFailure(e, full, masked));
        return;
      }
      const out = new Capture(opts.maxOutputBytes);
      const err = new Capture(opts.maxOutputBytes);
      child.stdout!.on('data', (b: Buffer) => out.add(b));
      child.stderr!.on('data', (b: Buffer) => err.add(b));
      let timedOut = false;
      let failed = false;
      let cancelled = false;
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, timeoutMs);
      const onAbort = (): void => {
        cancelled = true;
        child.kill('SIGKILL');
      };
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      child.stdin!.on('error', () => undefined);
      if (opts.stdin !== undefined) child.stdin!.end(opts.stdin);
      else child.stdin!.end();
      child.on('error', (e) => {
        failed = true;
        clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
        this.log?.debug({ argv: masked, error: e.message }, 'command did not start');
        reject(spawnFailure(e, full, masked));
      });
      child.on('close', (code, signal) => {
        if (failed) return;
        clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
        const durationMs = performance.now() - started;
        const r = { exitCode: code, signal, stdout: out.text(), stderr: err.text() };
        this.log?.debug({ argv: masked, exitCode: code, signal, durationMs: Math.round(durationMs * 10) / 10 }, 'command');
        if (timedOut) return reject(new CommandError('TimedOut', masked, maskOutput(r, opts.secrets), { detail: `timed out after ${timeoutMs} ms` }));
        if (cancelled) return reject(new CommandError('Cancelled', masked, maskOutput(r, opts.secrets), { detail: 'aborted' }));
        const ok = opts.okCodes ?? [0];
        if (code === null || !ok.includes(code)) {
          // SIGALRM is a tool's own timer firing (ovs-vsctl --timeout): a timeout, not a refusal.
          const alarm = code === null && signal === 'SIGALRM';
          const e = new CommandError(alarm ? 'TimedOut' : code === null ? 'Failed' : classify(r.stderr), masked, maskOutput(r, opts.secrets), alarm ? { detail: "the tool's own timeout fired (SIGALRM)" } : {});
          this.log?.debug({ argv: masked, stderr: maskArgv([r.stderr], opts.secrets)[0] }, 'command failed');
          return reject(e);
        }
        resolve({ stdout: r.stdout, stderr: r.stderr, exitCode: code, durationMs });
      });
    });
  }

  spawn(argv: readonly string[], opts: SpawnOptions = {}): Spawned {
    const full = resolveArgv(argv, opts.netns);
    const masked = maskArgv(full, opts.secrets);
    const pipe = opts.logFile === undefined && (opts.stdio ?? 'pipe') === 'pipe';
    const logFd = opts.logFile === undefined ? undefined : openSync(opts.logFile, 'a', 0o600);
    const sink = logFd ?? (pipe ? 'pipe' : 'ignore');
    const child: ChildProcess = spawn(full[0]!, full.slice(1), {
      shell: false,
      detached: opts.detached ?? false,
      stdio: [opts.stdinFd ?? 'ignore', sink, sink],
      env: opts.env ? { ...process.env, ...opts.env } : process.env,
      ...(opts.cwd ? { cwd: opts.cwd } : {}),
    });
    if (logFd !== undefined) closeSync(logFd);
    if (opts.detached) child.unref();
    const out = new Capture();
    const err = new Capture();
    child.stdout?.on('data', (b: Buffer) => out.add(b));
    child.stderr?.on('data', (b: Buffer) => err.add(b));
    const exited = new Promise<{ exitCode: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) => {
      child.on('error', (e) => resolve({ exitCode: null, signal: null, stdout: out.text(), stderr: err.text() + String(e) }));
      child.on('close', (code, signal) => {
        this.log?.debug({ argv: masked, pid: child.pid, exitCode: code, signal }, 'process ended');
        resolve({ exitCode: code, signal, stdout: out.text(), stderr: err.text() });
      });
    });
    const onAbort = (): void => void child.kill('SIGKILL');
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    void exited.then(() => opts.signal?.removeEventListener('abort', onAbort));
    this.log?.debug({ argv: masked, pid: child.pid }, 'process started');
    return {
      pid: child.pid ?? -1,
      argv: full,
      exited,
      output: () => ({ stdout: out.text(), stderr: err.text() }),
      startTime: () => (child.pid === undefined ? undefined : processStartTime(child.pid)),
      alive: () => child.pid !== undefined && child.exitCode === null && child.signalCode === null,
      stop: async (graceMs = 2000) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(t);
      },
    };
  }
}
