// Restarting the agent keeps the daemons it owns (docs/operations.md, "The agent's privileges":
// KillMode=process). Each agent runs as a child process on its lab host; it applies a two-host
// scope whose tunnel (and switch) are userspace daemons: wireguard-go on OVS (ovsdb-server,
// ovs-vswitchd), OpenVPN, tincd. SIGTERM to the agent process alone (what systemd sends with
// KillMode=process) stops the agent: every daemon the journal lists keeps running and the
// containers keep talking through the tunnel. A new agent process on the same state directory
// still knows the scope and its daemons: its startup GC keeps them, Check finds the scope in
// sync, a GC that keeps the scope leaves them; only the journal sends them away (Teardown, or a
// GC that does not keep the scope), by PID with their start time.
import t from 'tap';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connectAgent, ExecRunner, type AgentClient, type ApplyResponse__Output } from '@seconet/agent';
import { buildHostStates, generatedSecrets, placeCell } from '@seconet/controller';
import type { Cell } from '@seconet/core';
import { processStartTime } from '../packages/agent/src/runner/proc.js';
import { startE2eLab, type E2eLab } from './helpers/e2e-lab.js';
import { requireRoot, requireTool } from './helpers/requirements.js';

const runner = new ExecRunner();

interface Daemon {
  readonly host: string;
  readonly pid: number;
  readonly startTime: string;
  readonly what: string;
}

const CASES = [
  { scope: 'rs-wg', network: 'ovs', tunnel: 'wireguard', variant: 'VARIANT_USERSPACE', daemons: [/^wireguard-go /, /^ovsdb-server$/, /^ovs-vswitchd$/], tools: ['wireguard-go', 'ovs-vswitchd'], end: 'teardown' },
  { scope: 'rs-ovpn', network: 'bridge', tunnel: 'openvpn', variant: 'VARIANT_UNSPECIFIED', daemons: [/^openvpn /], tools: ['openvpn'], end: 'teardown' },
  { scope: 'rs-tinc', network: 'bridge', tunnel: 'tinc', variant: 'VARIANT_UNSPECIFIED', daemons: [/^tincd /], tools: ['tincd'], end: 'gc' },
] as const;

function alive(d: Daemon): boolean {
  return processStartTime(d.pid) === d.startTime;
}

/** The daemons the host's journal lists for the scope (read from its file, as the next agent will). */
function journalDaemons(lab: E2eLab, host: string, scope: string): Daemon[] {
  const file = join(lab.dir, host, 'state', 'journal', `${scope}.json`);
  if (!existsSync(file)) return [];
  const j = JSON.parse(readFileSync(file, 'utf8')) as { objects: Array<{ type: string; pid?: number; startTime?: string; what?: string }> };
  return j.objects.flatMap((o) => (o.type === 'process' ? [{ host, pid: o.pid!, startTime: o.startTime!, what: o.what! }] : []));
}

async function ping(netns: string, address: string, ms = 20_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      const r = await runner.run(['ping', '-n', '-q', '-c', '1', '-W', '1', address], { netns, timeoutMs: 10_000 });
      if (/ 1 received/.test(r.stdout)) return true;
    } catch {
      /* not yet */
    }
  }
  return false;
}

t.test('SIGTERM to the agent keeps its tunnel and OVS daemons; the restarted agent still owns them', { timeout: 600_000 }, async (t) => {
  if (!requireRoot(t, 'lab namespaces and tunnel daemons')) return;
  for (const tool of new Set(CASES.flatMap((c) => c.tools))) if (!requireTool(t, tool, 'the daemons this test restarts the agent under')) return;
  const lab = await startE2eLab(t, 2, { childAgents: true });
  const names = ['h1', 'h2'];
  const clients = new Map<string, AgentClient>();
  const connect = (): void => {
    for (const c of clients.values()) c.close();
    for (const h of names) {
      clients.set(h, connectAgent({ name: h, address: lab.agents.get(h)!.address, tls: { ca: lab.pki.ca.cert, cert: lab.pki.controller.cert, key: lab.pki.controller.key } }, { attempts: 3, backoffMs: 250 }));
    }
  };
  t.teardown(() => {
    for (const c of clients.values()) c.close();
  });
  connect();
  const underlay = new Map(await Promise.all(names.map(async (h) => [h, (await clients.get(h)!.getInfo()).underlayAddress] as const)));

  for (const k of CASES) {
    t.test(`${k.tunnel} on ${k.network}`, async (t) => {
      const cell: Cell = { id: k.scope, index: 0, network: k.network, tunnel: k.tunnel, filter: 'none', containers: 2, rules: 0, placement: 'multi-host', hosts: names };
      const placement = placeCell(cell);
      const states = buildHostStates({ cell, placement, underlay, secrets: await generatedSecrets(k.tunnel, names) });
      const applied = new Map<string, ApplyResponse__Output>();
      await Promise.all(names.map(async (h) => {
        const state = states.get(h)!;
        const req = { requestId: `${k.scope}-${h}`, scope: k.scope, state: { ...state, tunnel: { ...state.tunnel!, variant: k.variant } } };
        applied.set(h, await clients.get(h)!.apply(req, { deadlineMs: 120_000 }));
      }));
      const from = applied.get('h1')!.containers[0]!;
      const to = applied.get('h2')!.containers[0]!;
      t.ok(await ping(from.netns, to.address), `${from.address} on h1 reaches ${to.address} on h2 through ${k.tunnel}`);

      const daemons = names.flatMap((h) => journalDaemons(lab, h, k.scope));
      for (const h of names) {
        for (const re of k.daemons) t.ok(daemons.some((d) => d.host === h && re.test(d.what)), `${h}: the journal lists ${re.source} (${daemons.filter((d) => d.host === h).map((d) => d.what).join(', ')})`);
      }
      t.ok(daemons.every(alive), 'every journalled daemon runs');

      // What systemd does with KillMode=process: SIGTERM to the agent process only.
      await Promise.all(names.map((h) => lab.agents.get(h)!.stop()));
      t.ok(daemons.every(alive), `with both agents stopped, every daemon still runs (${daemons.map((d) => `${d.host} ${d.what} ${d.pid}`).join('; ')})`);
      t.ok(await ping(from.netns, to.address, 5000), 'and the containers still talk through the tunnel');

      await Promise.all(names.map((h) => lab.agents.get(h)!.restart()));
      connect();
      t.ok(daemons.every(alive), 'the new agents\' startup GC kept every daemon');
      for (const h of names) {
        const c = clients.get(h)!;
        t.ok((await c.getInfo()).scopes.includes(k.scope), `${h}: the new agent lists the scope`);
        const check = await c.check({ scope: k.scope });
        t.ok(check.known, `${h}: Check knows the scope`);
        t.ok(check.inSync, `${h}: Check finds it in sync, daemons included (${check.drifts.map((d) => `${d.object}: ${d.observed}`).join('; ')})`);
        await c.gc({ requestId: `${k.scope}-keep-${h}`, keepScopes: [k.scope] });
        t.same(journalDaemons(lab, h, k.scope), daemons.filter((d) => d.host === h), `${h}: a GC that keeps the scope keeps its daemons in the journal`);
      }
      t.ok(daemons.every(alive), 'a GC that keeps the scope leaves every daemon running');
      t.ok(await ping(from.netns, to.address, 5000), 'the tunnel still carries traffic after the restart');

      // The journal decides what goes: a Teardown, or a GC that does not keep the scope.
      for (const h of names) {
        const c = clients.get(h)!;
        if (k.end === 'teardown') await c.teardown({ requestId: `${k.scope}-down-${h}`, scope: k.scope }, { deadlineMs: 60_000 });
        else t.ok((await c.gc({ requestId: `${k.scope}-gc-${h}`, keepScopes: [] })).removedScopes.includes(k.scope), `${h}: GC without the scope removed it`);
      }
      t.same(daemons.filter(alive).map((d) => `${d.host} ${d.what}`), [], `${k.end === 'teardown' ? 'Teardown' : 'GC'} stopped every daemon of the scope`);
      for (const h of names) t.notOk((await clients.get(h)!.getInfo()).scopes.includes(k.scope), `${h}: the scope is gone`);
    });
  }
});
