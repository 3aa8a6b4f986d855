// The one tool-version reader with real processes: installed is a file lookup, a version read
// that times out or fails says so (and is tried again next time), a Debian package's version
// is read without running the tool.
import t from 'tap';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExecRunner } from '../src/runner/runner.js';
import { installedTool, parseVersionText, readVersion, versionText } from '../src/runner/tool-version.js';
import { requireTool } from '../../../test/helpers/requirements.js';

t.test('an installed tool: its path and version', async (t) => {
  const r = await installedTool(new ExecRunner(), 'ip', { argv: ['ip', '-V'], re: /iproute2-([\w.]+)/ });
  t.ok(r.installed, 'ip is installed');
  if (!r.installed) return;
  t.match(r.path, /^\/.*\/ip$/);
  t.match(r.version, /^\d|^v?\d/, `version ${r.version}`);
  t.equal(r.read.ok, true);
});

t.test('a tool that is not installed is reported as not installed, without running anything', async (t) => {
  const r = await installedTool(new ExecRunner(), 'sn-no-such-tool');
  t.same(r, { installed: false });
});

t.test('a version command that times out: installed, version unknown with the cause, not cached', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'sntv-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const tool = join(dir, 'slowtool');
  await writeFile(tool, '#!/bin/sh\nif [ -e "$0.fast" ]; then echo "slowtool version 1.2.3"; exit 0; fi\nexec sleep 5\n');
  await chmod(tool, 0o755);
  const runner = new ExecRunner();
  const first = await installedTool(runner, 'slowtool', { argv: [tool, '--version'], timeoutMs: 300 }, tool);
  t.ok(first.installed, 'installed: the file is there');
  if (!first.installed) return;
  t.equal(first.read.ok, false);
  if (!first.read.ok) t.equal(first.read.kind, 'TimedOut', 'the cause is the timeout, not "not installed"');
  t.match(first.version, /^unknown \(.*slowtool --version failed \(TimedOut/, first.version);
  await writeFile(`${tool}.fast`, '');
  const second = await installedTool(runner, 'slowtool', { argv: [tool, '--version'], timeoutMs: 2000 }, tool);
  t.ok(second.installed && second.version === '1.2.3', 'the failed read was not cached: the next read succeeds');
});

t.test('a version command that exits with an unexpected code keeps the exit code', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'sntv-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const tool = join(dir, 'badtool');
  await writeFile(tool, '#!/bin/sh\necho "cannot load plugin" >&2\nexit 7\n');
  await chmod(tool, 0o755);
  const read = await readVersion(new ExecRunner(), { argv: [tool, '--version'] });
  t.equal(read.ok, false);
  t.match(versionText(read), /exit 7\): cannot load plugin/);
});

t.test('a Debian package version is read with dpkg-query, a missing package says so', async (t) => {
  if (!requireTool(t, 'dpkg-query', 'package versions are read from the Debian package database')) return;
  const runner = new ExecRunner();
  const ok = await readVersion(runner, { dpkg: 'iproute2' });
  t.ok(ok.ok && /^\d/.test(ok.version), `iproute2 ${versionText(ok)}`);
  const missing = await readVersion(runner, { dpkg: 'sn-no-such-package' });
  t.equal(missing.ok, false);
  if (!missing.ok) t.equal(missing.kind, 'NotInstalled');
});

t.test('parseVersionText', async (t) => {
  t.equal(parseVersionText('tinc version 1.0.36 (built ...)'), '1.0.36');
  t.equal(parseVersionText('OpenVPN 2.6.3 x86_64', /OpenVPN (\d+\.\d+\.\d+)/), '2.6.3');
  t.equal(parseVersionText('no digits here'), '');
});
