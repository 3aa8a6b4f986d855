import t from 'tap';
import { readFileSync } from 'node:fs';
import { ErrorCodes } from '@seconet/core';

const doc = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');

t.test('docs/errors.md lists every code of the registry with its statuses', async (t) => {
  const rows = new Map<string, string[]>();
  for (const line of doc.split('\n')) {
    const m = /^\| `([A-Z_]+)` \|(.*)\|$/.exec(line);
    if (m) rows.set(m[1]!, m[2]!.split('|').map((c) => c.trim()));
  }
  t.same([...rows.keys()].sort(), Object.keys(ErrorCodes).sort(), 'same set of codes');
  for (const [code, info] of Object.entries(ErrorCodes)) {
    const cells = rows.get(code);
    if (!cells) continue;
    t.same(cells, [String(info.http), `\`${info.grpc}\``, String(info.exit), info.description], code);
  }
});

t.test('exit codes separate invalid input, a failed experiment and an unreachable controller', async (t) => {
  const exits = [ErrorCodes.INVALID_SPEC.exit, ErrorCodes.EXPERIMENT_FAILED.exit, ErrorCodes.UNAVAILABLE.exit, 0];
  t.equal(new Set(exits).size, exits.length);
});
