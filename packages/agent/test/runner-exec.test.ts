// ExecRunner with real processes: exit codes, stdout/stderr and stdin, okCodes, the deadline,
// abort, and every way a process can fail to start (not found, not executable), each a typed
// CommandError that keeps the command and the cause. Teardown treats only a missing object
// (or a missing tool) as gone, never a command that was refused.
import t, { type Test } from 'tap';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommandError, spawnErrorKind, spawnFailure } from '../src/runner/errors.js';
import { ExecRunner } from '../src/runner/runner.js';
import { isGone } from '../src/journal/undo.js';

async function tempDir(t: Test): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'snrun-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function script(dir: string, name: string, body: string, mode = 0o755): Promise<string> {
  const p = join(dir, name);
  await writeFile(p, `#!/bin/sh\n${body}\n`);
  await chmod(p, mode);
  return p;
}

async function failure(p: Promise<unknown>): Promise<CommandError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof CommandError) return e;
    throw e;
  }
  throw new Error('the command did not fail');
}

const runner = new ExecRunner();

t.test('exit 0: stdout, stderr and stdin', async (t) => {
  const dir = await tempDir(t);
  const s = await script(dir, 'echo', 'read line; echo "out:$line"; echo err >&2');
  const r = await runner.run([s], { stdin: 'hello\n' });
  t.equal(r.exitCode, 0);
  t.equal(r.stdout, 'out:hello\n');
  t.equal(r.stderr, 'err\n');
  t.ok(r.durationMs >= 0);
});

t.test('a non-zero exit is a failure with the exit code and the stderr, unless okCodes allow it', async (t) => {
  const dir = await tempDir(t);
  const s = await script(dir, 'exit3', 'echo "Something went wrong" >&2; exit 3');
  const e = await failure(runner.run([s, 'arg']));
  t.equal(e.kind, 'Failed');
  t.equal(e.exitCode, 3);
  t.equal(e.spawnError, undefined, 'the process ran');
  t.same(e.argv, [s, 'arg']);
  t.equal(e.message, `${s} arg failed (Failed, exit 3): Something went wrong`);
  t.equal((await runner.run([s], { okCodes: [0, 3] })).exitCode, 3, 'okCodes');
  const nf = await failure(runner.run([await script(dir, 'nodev', 'echo "Cannot find device \\"x\\"" >&2; exit 1')]));
  t.equal(nf.kind, 'NotFound', 'stderr is classified');
});

t.test('a secret in argv is masked in the message and kept in argv', async (t) => {
  const dir = await tempDir(t);
  const s = await script(dir, 'fail', 'exit 1');
  const e = await failure(runner.run([s, 'key=s3cr3t'], { secrets: ['s3cr3t'] }));
  t.notMatch(e.message, /s3cr3t/);
  t.match(e.message, /key=\*\*\*/);
});

t.test('timeout: killed, TimedOut, the deadline in the message', async (t) => {
  const dir = await tempDir(t);
  const s = await script(dir, 'slow', 'exec sleep 10');
  const started = Date.now();
  const e = await failure(runner.run([s], { timeoutMs: 200 }));
  t.ok(Date.now() - started < 5000, 'killed at the deadline, not after sleep ended');
  t.equal(e.kind, 'TimedOut');
  t.equal(e.signal, 'SIGKILL');
  t.match(e.message, `${s} failed (TimedOut, timed out after 200 ms)`);
});

t.test("a tool killed by its own alarm (ovs-vsctl --timeout: SIGALRM) is TimedOut, with the signal and its stderr", async (t) => {
  const dir = await tempDir(t);
  const s = await script(dir, 'alarm', 'echo "terminating with signal 14 (Alarm clock)" >&2; kill -ALRM $$');
  const e = await failure(runner.run([s]));
  t.equal(e.kind, 'TimedOut', 'a timeout, so capability probes try again later');
  t.match(e.message, /own timeout fired \(SIGALRM\)/, 'says which timer');
  t.match(e.stderr, /Alarm clock/, 'keeps the stderr');
});

t.test('abort: killed, Cancelled; an already aborted signal starts nothing', async (t) => {
  const dir = await tempDir(t);
  const marker = join(dir, 'ran');
  const s = await script(dir, 'slow', `touch ${marker}; exec sleep 10`);
  const ac = new AbortController();
  const p = runner.run([s], { signal: ac.signal });
  setTimeout(() => ac.abort(), 200);
  const e = await failure(p);
  t.equal(e.kind, 'Cancelled');
  t.match(e.message, /failed \(Cancelled, aborted\)/);
  await rm(marker, { force: true });
  const early = await failure(runner.run([s], { signal: AbortSignal.abort() }));
  t.equal(early.kind, 'Cancelled');
  t.match(early.message, /aborted before it started/);
});

t.test('ENOENT: an absolute path that does not exist is NotFound, with the command and the cause', async (t) => {
  const dir = await tempDir(t);
  const missing = join(dir, 'no-such-tool');
  const e = await failure(runner.run([missing, '-x']));
  t.equal(e.kind, 'NotFound');
  t.equal(e.spawnError, 'ENOENT');
  t.match(e.message, `${missing} -x failed (NotFound, could not start: not found (ENOENT))`);
  t.match(String((e.cause as Error | undefined)?.message), /ENOENT/);
  t.ok(isGone(e), 'teardown: a missing tool cannot have made the object');
});

t.test('a tool name that is not installed rejects (never throws synchronously) with NotFound', async (t) => {
  const p = runner.run(['sn-no-such-tool', '--version']);
  t.ok(p instanceof Promise);
  const e = await failure(p);
  t.equal(e.kind, 'NotFound');
  t.match(e.message, /sn-no-such-tool --version failed \(NotFound, could not start: not found\): tool sn-no-such-tool is not installed/);
});

t.test('EACCES: a file without the execute bit is PermissionDenied, and teardown does not call it gone', async (t) => {
  const dir = await tempDir(t);
  const s = await script(dir, 'noexec', 'echo hi', 0o644);
  const e = await failure(runner.run([s]));
  t.equal(e.kind, 'PermissionDenied');
  t.equal(e.spawnError, 'EACCES');
  t.match(e.message, `${s} failed (PermissionDenied, could not start: permission denied (EACCES))`);
  t.notOk(isGone(e), 'a refused removal is not an object that is gone');
});

t.test('every spawn errno maps to its kind; resource exhaustion is not "not found"', async (t) => {
  t.equal(spawnErrorKind('ENOENT'), 'NotFound');
  t.equal(spawnErrorKind('EACCES'), 'PermissionDenied');
  t.equal(spawnErrorKind('EPERM'), 'PermissionDenied');
  for (const code of ['EMFILE', 'ENFILE', 'EAGAIN']) t.equal(spawnErrorKind(code), 'ResourcesExhausted', code);
  t.equal(spawnErrorKind('EIO'), 'Failed');
  const e = spawnFailure(Object.assign(new Error('spawn /usr/sbin/ip EMFILE'), { code: 'EMFILE' }), ['/usr/sbin/ip', 'link'], ['/usr/sbin/ip', 'link']);
  t.equal(e.kind, 'ResourcesExhausted');
  t.match(e.message, '/usr/sbin/ip link failed (ResourcesExhausted, could not start: resources exhausted (EMFILE))');
  t.notOk(isGone(e), 'teardown keeps the object when the removal could not even start');
});

t.test('spawn: a long-running process is stopped by stop()', async (t) => {
  const dir = await tempDir(t);
  const s = await script(dir, 'daemon', 'echo started; exec sleep 30');
  const p = runner.spawn([s]);
  t.ok(p.pid > 0);
  await new Promise((r) => setTimeout(r, 200));
  await p.stop(1000);
  const end = await p.exited;
  t.equal(end.signal, 'SIGTERM');
  t.match(end.stdout, /started/);
});
