// A Runner for unit tests: records every argv (with its netns) and answers from scripted
// responses, so driver tests assert the exact commands without a kernel. Test support only:
// exported from `@seconet/agent/testing`, never from the package's main entry. Processes it
// "spawns" do not exist, so it answers the readiness questions drivers ask about them itself:
// a spawned process has a start time and is alive until stopped, and `readlink
// /proc/<pid>/ns/mnt` names a mount namespace of its own for every PID.

import { CommandError, type CommandFailureKind } from './errors.js';
import type { RunOptions, RunResult, Runner, SpawnOptions, Spawned } from './runner.js';

export interface FakeCall {
  readonly argv: readonly string[];
  readonly netns: string | undefined;
  readonly stdin: string | undefined;
  readonly spawned: boolean;
}

export type FakeResponse =
  | { stdout?: string; stderr?: string; exitCode?: number }
  | { fail: CommandFailureKind; stderr?: string };

/** Answers to the readiness probes drivers run about processes this runner "spawned". */
function defaultResponse(argv: readonly string[]): FakeResponse {
  const m = argv[0] === 'readlink' ? /^\/proc\/(\d+|self)\/ns\/(\w+)$/.exec(argv[1] ?? '') : null;
  return m ? { stdout: `${m[2]}:[${m[1] === 'self' ? 1 : 4000000000 + Number(m[1])}]\n` } : {};
}

export class FakeRunner implements Runner {
  readonly calls: FakeCall[] = [];
  private readonly rules: Array<{ match: (argv: readonly string[]) => boolean; response: FakeResponse }> = [];
  private nextPid = 40000;

  /** Answers commands whose joined argv contains `needle` (or matches a predicate). */
  on(match: string | RegExp | ((argv: readonly string[]) => boolean), response: FakeResponse): this {
    const fn = typeof match === 'function' ? match : (argv: readonly string[]) => (typeof match === 'string' ? argv.join(' ').includes(match) : match.test(argv.join(' ')));
    this.rules.unshift({ match: fn, response });
    return this;
  }

  /** The recorded argv, joined with spaces, for compact assertions. */
  lines(): string[] {
    return this.calls.map((c) => (c.netns ? `[${c.netns}] ` : '') + c.argv.join(' '));
  }

  async run(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
    this.calls.push({ argv: [...argv], netns: opts.netns, stdin: opts.stdin, spawned: false });
    const rule = this.rules.find((r) => r.match(argv));
    const resp = rule?.response ?? defaultResponse(argv);
    if ('fail' in resp) {
      throw new CommandError(resp.fail, argv, { exitCode: 1, signal: null, stderr: resp.stderr ?? resp.fail, stdout: '' });
    }
    return { stdout: resp.stdout ?? '', stderr: resp.stderr ?? '', exitCode: resp.exitCode ?? 0, durationMs: 0 };
  }

  spawn(argv: readonly string[], opts: SpawnOptions = {}): Spawned {
    this.calls.push({ argv: [...argv], netns: opts.netns, stdin: undefined, spawned: true });
    const pid = this.nextPid++;
    let resolveExit!: (v: { exitCode: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }) => void;
    const exited = new Promise<{ exitCode: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((r) => (resolveExit = r));
    let running = true;
    return {
      pid,
      argv,
      exited,
      output: () => ({ stdout: '', stderr: '' }),
      startTime: () => (running ? `fake:${pid}` : undefined),
      alive: () => running,
      stop: async () => {
        running = false;
        resolveExit({ exitCode: null, signal: 'SIGTERM', stdout: '', stderr: '' });
      },
    };
  }
}
