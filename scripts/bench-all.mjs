#!/usr/bin/env node
// Runs every benchmark under bench/ one after another (or the ones named on the command line),
// each printing its own ratios against a baseline measured in the same run. Benchmarks need
// root (namespaces) and an otherwise idle machine; results go into BENCHMARKS.md by hand.
//   npm run bench                 # all but the long ones (soak: about an hour)
//   npm run bench -- filters tunnels
//   npm run bench -- soak         # the overnight soak (BENCHMARKS.md, "Soak")
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const root = fileURLToPath(new URL('..', import.meta.url));
const wanted = process.argv.slice(2);
const all = readdirSync(join(root, 'bench')).filter((f) => f.endsWith('.ts')).map((f) => f.slice(0, -3)).sort();
/** Benchmarks that only run when named: they take far longer than the others. */
const LONG = new Set(['soak']);
const names = wanted.length ? wanted : all.filter((n) => !LONG.has(n));
let failed = 0;
for (const name of names) {
  if (!all.includes(name)) {
    console.error(`no benchmark ${name} (have: ${all.join(', ')})`);
    process.exit(2);
  }
  console.log(`\n=== bench/${name}.ts`);
  const r = spawnSync(process.execPath, ['--import=tsx', '--conditions=seconet-source', join(root, 'bench', `${name}.ts`)], { stdio: 'inherit', cwd: root });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
