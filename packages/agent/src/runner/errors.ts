// Typed failures of commands, mapped from exit codes and stderr in one place (classify), so
// drivers branch on a kind, never on message text.

export type CommandFailureKind =
  | 'AlreadyExists'
  | 'NotFound'
  | 'Busy'
  | 'PermissionDenied'
  | 'ResourcesExhausted'
  | 'NotSupported'
  | 'InvalidArgument'
  | 'TimedOut'
  | 'Cancelled'
  | 'Failed';

export class CommandError extends Error {
  readonly kind: CommandFailureKind;
  /** The command line with secrets masked: the error may be logged or sent anywhere, so the plain argv is never kept. */
  readonly argv: readonly string[];
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stderr: string;
  readonly stdout: string;
  /** The errno code when the command could not be started at all (ENOENT, EACCES, EMFILE, ...). */
  readonly spawnError: string | undefined;

  /** `masked`: the argv with secrets masked (maskArgv); `r`'s output is expected masked too. */
  constructor(
    kind: CommandFailureKind,
    masked: readonly string[],
    r: { exitCode: number | null; signal: NodeJS.Signals | null; stderr: string; stdout: string },
    extra: { detail?: string; spawnError?: string; cause?: unknown } = {},
  ) {
    const err = r.stderr.trim().split('\n').slice(-3).join(' | ');
    const how = extra.detail ?? `exit ${r.exitCode ?? r.signal}`;
    super(`${masked.join(' ')} failed (${kind}, ${how})${err ? `: ${err}` : ''}`, extra.cause === undefined ? undefined : { cause: extra.cause });
    this.name = 'CommandError';
    this.spawnError = extra.spawnError;
    this.kind = kind;
    this.argv = [...masked];
    this.exitCode = r.exitCode;
    this.signal = r.signal;
    this.stderr = r.stderr;
    this.stdout = r.stdout;
  }
}

const PATTERNS: ReadonlyArray<readonly [RegExp, CommandFailureKind]> = [
  [/File exists|already exists|RTNETLINK answers: File exists|Chain already exists|exists in/i, 'AlreadyExists'],
  [/Cannot find device|No such file or directory|does not exist|No such device|Cannot open network namespace|No chain\/target\/match|not found|No such process|Could not process rule: No such/i, 'NotFound'],
  [/Resource busy|Device or resource busy|Another app is currently holding the xtables lock|Address already in use/i, 'Busy'],
  [/Operation not permitted|Permission denied/i, 'PermissionDenied'],
  [/Operation not supported|Unknown device type|not supported|Protocol not supported|Unknown filter|Unknown qdisc|Kernel module/i, 'NotSupported'],
  [/Invalid argument|invalid|Error: argument .* is wrong|bad value/i, 'InvalidArgument'],
];

/** The kind of a failure to start a process, from its errno code. */
export function spawnErrorKind(code: string | undefined): CommandFailureKind {
  switch (code) {
    case 'ENOENT':
      return 'NotFound';
    case 'EACCES':
    case 'EPERM':
      return 'PermissionDenied';
    case 'EMFILE':
    case 'ENFILE':
    case 'EAGAIN':
    case 'ENOMEM':
      return 'ResourcesExhausted';
    default:
      return 'Failed';
  }
}

const SPAWN_DETAIL: Readonly<Record<string, string>> = {
  NotFound: 'not found',
  PermissionDenied: 'permission denied',
  ResourcesExhausted: 'resources exhausted',
};

/** A CommandError for a process that could not be started (child 'error' event or a synchronous spawn throw). */
export function spawnFailure(e: unknown, argv: readonly string[], masked: readonly string[]): CommandError {
  const code = (e as NodeJS.ErrnoException)?.code;
  const kind = spawnErrorKind(code);
  const detail = `could not start: ${SPAWN_DETAIL[kind] ?? 'spawn failed'}${code ? ` (${code})` : ''}`;
  return new CommandError(kind, masked, { exitCode: null, signal: null, stderr: e instanceof Error ? e.message : String(e), stdout: '' }, { detail, spawnError: code ?? 'unknown', cause: e });
}

export function classify(stderr: string): CommandFailureKind {
  for (const [re, kind] of PATTERNS) if (re.test(stderr)) return kind;
  return 'Failed';
}
