import t from 'tap';
import { inspect } from 'node:util';
import { ExecRunner } from '../src/runner/runner.js';
import { CommandError } from '../src/runner/errors.js';

// A failed command's error travels far (logs, gRPC details, the controller's events): it keeps
// only the masked argv and masked output, never the secret.
t.test('CommandError keeps only the masked argv and output', async (t) => {
  const secret = 'c2VjcmV0LXBzay0xMjM0NTY3ODkw';
  const err = await new ExecRunner().run(['ls', `/nonexistent-${secret}`], { secrets: [secret] }).then(
    () => undefined,
    (e: unknown) => e,
  );
  t.ok(err instanceof CommandError, 'the command failed');
  const e = err as CommandError;
  t.same(e.argv.slice(-1), ['/nonexistent-***']);
  t.notMatch(e.message, secret);
  t.match(e.stderr, /nonexistent-\*\*\*/, 'stderr is masked too');
  t.notMatch(inspect(e, { depth: 5 }), secret, 'nothing in the error object holds the secret');
  t.notMatch(JSON.stringify({ ...e, message: e.message }), secret);
});
