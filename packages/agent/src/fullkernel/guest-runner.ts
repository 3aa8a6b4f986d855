// A Runner whose commands run inside a full-kernel guest. The agent's drivers take a Runner,
// so the same driver code that runs on a lab host runs unchanged against a stock kernel: argv
// arrays, tools resolved to absolute paths on the machine (the guest's root is the machine's
// root), `ip netns exec` for a namespace, stdin through a file, failures mapped by the same
// classify() as ExecRunner. Transport is the guest's job share (see guest-script.ts): each
// command becomes a request script generated here from the argv, every word single-quoted,
// so no caller text is ever interpreted by the guest's shell. The share must be mounted at the
// same path in the guest, which also makes files a driver writes on the machine (keys,
// configs) readable by the guest at the path the driver passes on the command line.
//
// Long-running processes: `spawn` cannot hand back a guest PID synchronously, so it is
// refused; `start` is the asynchronous form the lab uses for guest daemons.
//
// Deadlines: an emulated CPU is many times slower than the machine's, and slower still when
// the machine is loaded. Every deadline (a command's timeoutMs, the default 30 s, stop's
// grace) is multiplied by `timeScale`, which the lab derives from the guest's measured boot.

import { existsSync } from 'node:fs';
import { sleep } from '@seconet/core';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CommandError, classify } from '../runner/errors.js';
import { maskArgv, maskOutput, type RunLogger, type RunOptions, type RunResult, type Runner, type SpawnOptions, type Spawned } from '../runner/runner.js';
import { toolPath } from '../runner/tools.js';

function q(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
const NETNS_RE = /^[A-Za-z0-9._-]{1,64}$/;

export interface GuestStartOptions {
  readonly netns?: string;
  readonly env?: Record<string, string>;
  /** Guest path of the process's output (default /dev/null). */
  readonly logFile?: string;
}

export class GuestRunner implements Runner {
  private seq = 0;

  /** `share`: the guest's job share (same path on both sides); `name`: for error messages. */
  constructor(
    readonly share: string,
    readonly name: string,
    private readonly log?: RunLogger,
    private readonly pollMs = 15,
    /** Factor applied to every deadline (>= 1; the lab measures it from the boot time). */
    readonly timeScale = 1,
  ) {
    if (!(Number.isFinite(timeScale) && timeScale >= 1)) throw new Error(`timeScale ${timeScale}: use a number >= 1`);
  }

  /** A deadline scaled to this guest's speed. */
  scaled(ms: number): number {
    return Math.round(ms * this.timeScale);
  }

  private resolve(argv: readonly string[], netns: string | undefined): string[] {
    if (argv.length === 0) throw new Error('empty argv');
    const [tool, ...rest] = argv as [string, ...string[]];
    const abs = toolPath(tool);
    if (netns === undefined) return [abs, ...rest];
    if (!NETNS_RE.test(netns)) throw new Error(`bad netns ${JSON.stringify(netns)}`);
    return [toolPath('ip'), 'netns', 'exec', netns, abs, ...rest];
  }

  private envWords(env: Record<string, string> | undefined): string[] {
    if (!env) return [];
    return ['/usr/bin/env', ...Object.entries(env).map(([k, v]) => {
      if (!ENV_KEY.test(k)) throw new Error(`bad environment name ${JSON.stringify(k)}`);
      return `${k}=${v}`;
    })];
  }

  private nextId(): string {
    return `${process.pid}-${String(++this.seq).padStart(6, '0')}`;
  }

  private async submit(id: string, script: string, stdin: string | undefined): Promise<void> {
    const req = join(this.share, 'req');
    if (stdin !== undefined) await writeFile(join(req, `${id}.in`), stdin, { mode: 0o600 });
    await writeFile(join(req, `${id}.tmp`), script, { mode: 0o600 });
    await rename(join(req, `${id}.tmp`), join(req, `${id}.sh`));
  }

  private async cleanup(id: string): Promise<void> {
    await Promise.all(
      [join('req', `${id}.in`), join('req', `${id}.sh`), join('run', `${id}.sh`), ...['out', 'err', 'rc', 'pid'].map((x) => join('res', `${id}.${x}`))].map((f) => rm(join(this.share, f), { force: true })),
    );
  }

  /** Kills a request's process in the guest (timeout, abort); best effort. */
  private async kill(id: string): Promise<void> {
    const pid = (await readFile(join(this.share, 'res', `${id}.pid`), 'utf8').catch(() => '')).trim();
    if (/^\d+$/.test(pid)) await this.run(['kill', '-9', pid], { timeoutMs: 5000, okCodes: [0, 1] }).catch((e: unknown) => this.log?.warn({ guest: this.name, pid, err: e instanceof Error ? e.message : String(e) }, 'could not kill a guest command'));
  }

  async run(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
    const full = this.resolve(argv, opts.netns);
    const masked = maskArgv(full, opts.secrets);
    const started = performance.now();
    const id = this.nextId();
    const stdinFile = opts.stdin !== undefined ? q(join(this.share, 'req', `${id}.in`)) : '/dev/null';
    const words = [...this.envWords(opts.env), ...full].map(q).join(' ');
    const script = [
      ...(opts.cwd ? [`cd ${q(opts.cwd)} || exit 126`] : []),
      `echo $$ > ${q(join(this.share, 'res', `${id}.pid`))}`,
      `exec ${words} < ${stdinFile}`,
      '',
    ].join('\n');
    await this.submit(id, script, opts.stdin);
    const timeoutMs = this.scaled(opts.timeoutMs ?? 30_000);
    const deadline = Date.now() + timeoutMs;
    const rcFile = join(this.share, 'res', `${id}.rc`);
    try {
      for (;;) {
        if (existsSync(rcFile)) break;
        if (!existsSync(join(this.share, 'req'))) {
          throw new CommandError('Failed', masked, { exitCode: null, signal: null, stdout: '', stderr: '' }, { detail: `guest ${this.name} is gone: its job share ${this.share} was removed (lab destroyed)` });
        }
        if (opts.signal?.aborted || Date.now() > deadline) {
          await this.kill(id);
          const aborted = opts.signal?.aborted === true;
          const r = { exitCode: null, signal: null, stdout: '', stderr: '' };
          const detail = aborted ? `aborted in guest ${this.name}` : `timed out after ${timeoutMs} ms in guest ${this.name} (time scale ${this.timeScale.toFixed(1)})`;
          throw new CommandError(aborted ? 'Cancelled' : 'TimedOut', masked, r, { detail });
        }
        await sleep(this.pollMs);
      }
      const [rc, stdout, stderr] = await Promise.all(['rc', 'out', 'err'].map((x) => readFile(join(this.share, 'res', `${id}.${x}`), 'utf8').catch(() => '')));
      const exitCode = Number.parseInt(rc ?? '', 10);
      const durationMs = performance.now() - started;
      this.log?.debug({ guest: this.name, argv: masked, exitCode, durationMs: Math.round(durationMs) }, 'guest command');
      const r = { exitCode: Number.isNaN(exitCode) ? null : exitCode, signal: null, stdout: stdout ?? '', stderr: stderr ?? '' };
      if (r.exitCode === null || !(opts.okCodes ?? [0]).includes(r.exitCode)) {
        throw new CommandError(r.exitCode === 127 && /not found/.test(r.stderr) ? 'NotFound' : classify(r.stderr), masked, maskOutput(r, opts.secrets));
      }
      return { stdout: r.stdout, stderr: r.stderr, exitCode: r.exitCode, durationMs };
    } finally {
      await this.cleanup(id);
    }
  }

  /** Starts a process in the guest in its own session and returns its guest PID. */
  async start(argv: readonly string[], opts: GuestStartOptions = {}): Promise<number> {
    const full = this.resolve(argv, opts.netns);
    const words = [...this.envWords(opts.env), ...full].map(q).join(' ');
    const out = opts.logFile !== undefined ? q(opts.logFile) : '/dev/null';
    const r = await this.run(['sh', '-c', `setsid ${words} > ${out} 2>&1 < /dev/null & echo $!`]);
    const pid = Number.parseInt(r.stdout.trim(), 10);
    if (!Number.isInteger(pid) || pid <= 1) throw new Error(`guest ${this.name}: no PID for ${maskArgv(full).join(' ')}`);
    return pid;
  }

  /** Stops a process `start` returned: SIGTERM, then SIGKILL if it is still there after graceMs. */
  async stop(pid: number, graceMs = 2000): Promise<void> {
    if (!Number.isInteger(pid) || pid <= 1) return;
    await this.run(['kill', '-TERM', String(pid)], { okCodes: [0, 1] });
    const deadline = Date.now() + this.scaled(graceMs);
    while (Date.now() < deadline) {
      const r = await this.run(['kill', '-0', String(pid)], { okCodes: [0, 1] });
      if (r.exitCode !== 0) return;
      await sleep(100);
    }
    await this.run(['kill', '-KILL', String(pid)], { okCodes: [0, 1] });
  }

  spawn(argv: readonly string[], _opts: SpawnOptions = {}): Spawned {
    throw new CommandError('NotSupported', argv, { exitCode: null, signal: null, stdout: '', stderr: `guest ${this.name}: spawn is not supported in a full-kernel guest; use GuestRunner.start` });
  }
}
