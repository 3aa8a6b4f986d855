import t from 'tap';
import { existsSync } from 'node:fs';
import { cliEntry, loaderFlags, selfArgv } from '../packages/cli/src/self-invoke.js';

t.test('loader flags keep module loading and drop test instrumentation', async (t) => {
  t.same(loaderFlags(['--import=tsx', '--conditions=seconet-source']), ['--import=tsx', '--conditions=seconet-source']);
  t.same(loaderFlags(['--import', 'tsx', '--conditions', 'seconet-source', '--enable-source-maps']), ['--import', 'tsx', '--conditions', 'seconet-source', '--enable-source-maps']);
  t.same(loaderFlags(['--import=file:///x/node_modules/@tapjs/processinfo/dist/esm/import.mjs', '--import=tsx']), ['--import=tsx']);
  t.same(loaderFlags(['--import', '/x/node_modules/@tapjs/processinfo/import.mjs', '--max-old-space-size=100', '--inspect']), []);
  t.same(loaderFlags([]), []);
});

t.test('the entry matches how this process runs', async (t) => {
  t.match(cliEntry(), /packages\/cli\/src\/main\.ts$/, 'from sources in tests');
  t.ok(existsSync(cliEntry()));
  const argv = selfArgv(['lab', 'status'], ['--import=tsx', '--conditions=seconet-source']);
  t.same(argv, [process.execPath, '--import=tsx', '--conditions=seconet-source', cliEntry(), 'lab', 'status']);
});
