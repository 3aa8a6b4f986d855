#!/usr/bin/env node
// Generates the TypeScript types of the agent contract from proto/ with @grpc/proto-loader's
// generator, into packages/agent/src/gen. With --check it generates into a temporary folder
// and fails when the committed files differ, so the types can never drift from the proto.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const outDir = join(root, 'packages/agent/src/gen');
const check = process.argv.includes('--check');
const target = check ? mkdtempSync(join(tmpdir(), 'seconet-proto-')) : outDir;

const gen = join(root, 'node_modules/.bin/proto-loader-gen-types');
execFileSync(gen, [
  '--longs=Number', '--enums=String', '--defaults', '--oneofs', '--includeComments', '--importFileExtension=.js',
  '--grpcLib=@grpc/grpc-js', '--outDir', target, `--includeDirs=${join(root, 'proto')}`,
  '--', 'seconet/agent/v1/agent.proto',
], { stdio: ['ignore', 'ignore', 'inherit'] });

// The generator writes the proto's absolute path into every header; keep files independent
// of where the checkout lives.
for (const f of list(target)) {
  const text = readFileSync(f, 'utf8');
  const fixed = text.split(join(root, 'proto') + '/').join('proto/');
  if (fixed !== text) writeFileSync(f, fixed);
}

function list(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...list(p));
    else out.push(p);
  }
  return out;
}

if (check) {
  const fresh = list(target).map((p) => relative(target, p)).sort();
  const committed = existsSync(outDir) ? list(outDir).map((p) => relative(outDir, p)).sort() : [];
  const drift = [];
  for (const f of new Set([...fresh, ...committed])) {
    const a = existsSync(join(target, f)) ? readFileSync(join(target, f), 'utf8') : null;
    const b = existsSync(join(outDir, f)) ? readFileSync(join(outDir, f), 'utf8') : null;
    if (a !== b) drift.push(f);
  }
  rmSync(target, { recursive: true, force: true });
  if (drift.length > 0) {
    console.error(`proto types drifted from proto/ (${drift.join(', ')}): run \`npm run proto:gen\` and commit the result`);
    process.exit(1);
  }
}
