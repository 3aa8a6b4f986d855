// Test support stays out of the agent's public entry: FakeRunner only through
// `@seconet/agent/testing`, and no production module checks for it.
import t from 'tap';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as main from '@seconet/agent';
import * as testing from '@seconet/agent/testing';

t.test('FakeRunner is exported from the testing entry only', async (t) => {
  t.notOk('FakeRunner' in main, '@seconet/agent does not export FakeRunner');
  t.ok('ExecRunner' in main, 'the production runner is still exported');
  t.equal(typeof testing.FakeRunner, 'function', '@seconet/agent/testing exports FakeRunner');
});

t.test('no production module imports the fake runner or checks for a fake', async (t) => {
  const src = fileURLToPath(new URL('../src/', import.meta.url));
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const f of readdirSync(dir)) {
      const p = join(dir, f);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith('.ts') && !p.endsWith('fake-runner.ts') && !p.endsWith('testing.ts')) files.push(p);
    }
  };
  walk(src);
  const offenders = files.filter((f) => /fake-runner|FakeRunner|'fake'/.test(readFileSync(f, 'utf8')));
  t.same(offenders, []);
});
