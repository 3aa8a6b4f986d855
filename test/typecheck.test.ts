// The tests and benchmarks run through tsx, which strips types without checking them; a moved
// module or a changed signature would only show up when that file runs. This file type-checks
// every test, benchmark and the dashboard's sources (npm run typecheck's two project files that
// the package build does not cover) and lints the repository, so the suite fails on either.
import t from 'tap';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));
const bin = (name: string): string => fileURLToPath(new URL(`../node_modules/.bin/${name}`, import.meta.url));

async function check(argv: readonly string[]): Promise<{ code: number; out: string }> {
  try {
    const r = await run(bin(argv[0]!), argv.slice(1), { cwd: root, maxBuffer: 16 << 20, timeout: 240_000 });
    return { code: 0, out: r.stdout + r.stderr };
  } catch (e) {
    const err = e as { code?: number | string; stdout?: string; stderr?: string; message: string };
    return { code: typeof err.code === 'number' ? err.code : -1, out: `${err.stdout ?? ''}${err.stderr ?? ''}` || err.message };
  }
}

const first = (out: string): string => out.trim().split('\n').slice(0, 8).join(' | ');

t.test('tests, benchmarks and the dashboard type-check', { timeout: 300_000 }, async (t) => {
  for (const project of ['tsconfig.test.json', 'packages/controller/ui/tsconfig.json']) {
    const r = await check(['tsc', '--noEmit', '-p', project]);
    t.equal(r.code, 0, `tsc -p ${project}${r.code === 0 ? '' : `: ${first(r.out)}`}`);
  }
});

t.test('the repository lints clean', { timeout: 300_000 }, async (t) => {
  const r = await check(['eslint', '.']);
  t.equal(r.code, 0, `eslint .${r.code === 0 ? '' : `: ${first(r.out)}`}`);
});
