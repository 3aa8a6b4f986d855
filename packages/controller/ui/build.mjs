// Builds the dashboard into packages/controller/dist/ui for the controller to serve: esbuild
// bundles the TypeScript (Preact + htm, uPlot, eventsource-parser; no CDN, works offline) as ES
// modules with code splitting (the YAML parser is loaded only when the Submit page shows where a
// spec is wrong), minified, plus one CSS file and index.html (with modulepreload links for the chunks the first screen needs).
// Prints the sizes.
import { build } from 'esbuild';
import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const here = fileURLToPath(new URL('.', import.meta.url));
const out = join(here, '../dist/ui');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const js = await build({
  entryPoints: { app: join(here, 'src/main.ts') },
  metafile: true,
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
// The chunks app.js imports statically are preloaded with the page, saving a round trip each.
const appOut = Object.entries(js.metafile.outputs).find(([, o]) => o.entryPoint !== undefined)[1];
const preloads = appOut.imports
  .filter((i) => i.kind === 'import-statement' && !i.external)
  .map((i) => `<link rel="modulepreload" href="/ui/${i.path.split('/').pop()}">`);
writeFileSync(join(out, 'index.html'), readFileSync(join(here, 'index.html'), 'utf8').replace('<!-- preloads -->', preloads.join('\n  ')));
// What each file holds, by the packages (or "dashboard" for our own code) that make up most of it.
const holds = new Map();
for (const [file, o] of Object.entries(js.metafile.outputs)) {
  const by = new Map();
  for (const [input, i] of Object.entries(o.inputs)) {
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
    const k = m ? m[1] : 'dashboard';
    by.set(k, (by.get(k) ?? 0) + i.bytesInOutput);
  }
  holds.set(file.split('/').pop(), [...by].filter(([, b]) => b > 500).sort((a, b) => b[1] - a[1]).map(([k]) => k).join(' + '));
}
if (!process.argv.includes('--quiet')) {
  for (const f of readdirSync(out).sort()) {
    const p = join(out, f);
    const what = holds.get(f) ?? (f.endsWith('.css') ? 'styles + uPlot styles' : f === 'index.html' ? 'page' : '');
    console.log(`dist/ui/${f}: ${statSync(p).size} B, ${gzipSync(readFileSync(p)).length} B gzip${what ? ` (${what})` : ''}`);
  }
}
