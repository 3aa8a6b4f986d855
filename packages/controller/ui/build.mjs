// Builds the dashboard into packages/controller/dist/ui for the controller to serve: esbuild
// bundles the TypeScript (Preact + htm, uPlot, eventsource-parser; no CDN, works offline) as ES
// modules with code splitting (the YAML parser is loaded only when the Submit page shows where a
// spec is wrong), minified, plus one CSS file and index.html. Prints the sizes.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const here = fileURLToPath(new URL('.', import.meta.url));
const out = join(here, '../dist/ui');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
await build({
  entryPoints: { app: join(here, 'src/main.ts') },
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'browser',
  target: ['chrome110', 'firefox115', 'safari16'],
  minify: true,
  legalComments: 'none',
  chunkNames: 'chunk-[hash]',
  outdir: out,
  logLevel: 'warning',
});
await build({ entryPoints: { app: join(here, 'app.css') }, bundle: true, minify: true, outdir: out, logLevel: 'warning' });
copyFileSync(join(here, 'index.html'), join(out, 'index.html'));
if (!process.argv.includes('--quiet')) {
  for (const f of readdirSync(out).sort()) {
    const p = join(out, f);
    console.log(`dist/ui/${f}: ${statSync(p).size} B (${gzipSync(readFileSync(p)).length} B gzip)`);
  }
}
