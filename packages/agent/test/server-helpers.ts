// Shared fixtures for the server, client and crash tests: a lab PKI plus a rogue CA, agent
// configs in a temporary directory, and a fake reconciler that records what it was asked.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Test } from 'tap';
import { invalid } from '@seconet/core';
import { parseAgentConfig, type AgentConfig } from '../src/config.js';
import { ExecRunner } from '../src/runner/runner.js';
import type { CapabilityReport, ContainerHandle } from '../src/driver.js';
import type { ReconcilerApi } from '../src/reconciler/types.js';
import { createCa, createLabPki, issueCert, type IssuedCert, type LabPki } from '../src/tls/certs.js';
import type { ApplyRequest__Output } from '../src/gen/seconet/agent/v1/ApplyRequest.js';
import type { GCRequest__Output } from '../src/gen/seconet/agent/v1/GCRequest.js';


/** A temporary directory, removed at teardown (after unmounting any bpffs an agent left in it). */
export function tmpDir(t: Test, tag = 'sn-srv-'): string {
  const d = mkdtempSync(join(tmpdir(), tag));
  t.teardown(async () => {
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .map((l) => l.split(' ')[4] ?? '')
      .filter((m) => m.startsWith(`${d}/`));
    for (const m of mounts.reverse()) await new ExecRunner().run(['umount', m]).catch(() => undefined);
    rmSync(d, { recursive: true, force: true });
  });
  return d;
}

export interface TestPki extends LabPki {
  readonly dir: string;
  /** A client certificate from a CA the agents do not trust. */
  readonly rogue: IssuedCert;
}

export async function makePki(t: Test, agents: readonly string[] = ['h1', 'h2']): Promise<TestPki> {
  const dir = tmpDir(t, 'sn-pki-');
  const pki = await createLabPki(join(dir, 'lab'), agents);
  const rogueCa = await createCa(join(dir, 'rogue'), { name: 'rogue-ca' });
  const rogue = await issueCert(rogueCa, { name: 'controller', kind: 'client' }, join(dir, 'rogue'));
  return { ...pki, dir, rogue };
}

export function agentConfig(pki: LabPki, dir: string, name: string, prefix: string, extra: Record<string, unknown> = {}): AgentConfig {
  const a = pki.agents[name];
  if (a === undefined) throw new Error(`no cert for ${name}`);
  return parseAgentConfig(
    {
      name,
      prefix,
      listen: '127.0.0.1:0',
      tls: { ca: pki.ca.cert, cert: a.cert, key: a.key },
      stateDir: join(dir, name, 'state'),
      runDir: join(dir, name, 'run'),
      underlay: { dev: 'eth0', address: '198.18.0.1' },
      logLevel: 'silent',
      ...extra,
    },
    dir,
  );
}

export function writeConfig(dir: string, name: string, cfg: Record<string, unknown>): string {
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(cfg, null, 2));
  return file;
}

/** Records calls; `apply` rejects any network but "bridge" naming state.network. */
export class FakeReconciler implements ReconcilerApi {
  readonly applied = new Map<string, ApplyRequest__Output>();
  readonly gcCalls: GCRequest__Output[] = [];
  closed = false;
  probes = 0;
  /** Resolves the next apply only when released (to test draining). */
  hold: Promise<void> | undefined;

  async apply(req: ApplyRequest__Output) {
    if (req.state?.network !== 'bridge') throw invalid('state.network', `${JSON.stringify(req.state?.network)} is not a network solution this agent knows (bridge)`);
    await this.hold;
    this.applied.set(req.scope, req);
    return { changed: true, timings: [], containers: [], mtu: 1500 };
  }
  async check() {
    return { inSync: true, drifts: [], known: true };
  }
  async teardown(req: { scope: string }) {
    this.applied.delete(req.scope);
    return { removed: [], seconds: 0 };
  }
  async gc(req: GCRequest__Output) {
    this.gcCalls.push(req);
    return { removed: [], removedScopes: [] };
  }
  scopes(): string[] {
    return [...this.applied.keys()];
  }
  containers(): readonly ContainerHandle[] {
    return [];
  }
  async probe(): Promise<CapabilityReport[]> {
    this.probes++;
    return [
      { category: 'network', kind: 'bridge', variant: 'kernel', available: true, version: '6.1', reason: '' },
      { category: 'tunnel', kind: 'ipip', variant: 'kernel', available: false, version: '', reason: 'kernel lacks ipip' },
    ];
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

export { freePort } from '@seconet/core';
