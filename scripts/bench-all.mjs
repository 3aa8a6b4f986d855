#!/usr/bin/env node
// Runs every benchmark under bench/ one after another (or the ones named on the command line),
// each printing its own ratios against a baseline measured in the same run. Benchmarks need
// root (namespaces) and an otherwise idle machine; results go into BENCHMARKS.md by hand.
//   npm run bench                 # all
//   npm run bench -- filters tunnels
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const root = fileURLToPath(new URL('..', import.meta.url));
const wanted = process.argv.slice(2);
const all = readdirSync(join(root, 'bench')).filter((f) => f.endsWith('.ts')).map((f) => f.slice(0, -3)).sort();
const names = wanted.length ? wanted : all;
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
