// End-to-end lab for the controller tests: N lab hosts (namespaces), a lab PKI, one real agent
// per host (in-process, or as a child process when a test must SIGKILL it), a private Redis,
// and a controller configuration pointing at all of it. Everything is removed in teardown:
// agents stopped (children killed by PID), their scopes garbage-collected, namespaces and
// temporary directories deleted.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connectAgent, createLab, createLabPki, destroyLab, ExecRunner, parseAgentConfig, randomLabId, startAgent, type LabPki, type LabTopology, type RunningAgent } from '@seconet/agent';
import { buildApi, parseControllerConfig, startController, type ControllerConfig, type RunningController } from '@seconet/controller';
import { freePort, startRedis, type TestRedis } from './redis.js';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));

export interface LabAgent {
  readonly name: string;
  readonly address: string;
  /** Set for child-process agents. */
  pid?: number | undefined;
  stop(): Promise<void>;
  /** SIGKILL (child agents only). */
  kill(): Promise<void>;
  /** Starts it again with the same config (child agents only). */
  restart(): Promise<void>;
}

export interface E2eLab {
  readonly dir: string;
  readonly topo: LabTopology;
  readonly pki: LabPki;
  readonly redis: TestRedis;
  readonly agents: Map<string, LabAgent>;
  controllerConfig(extra?: Record<string, unknown>): ControllerConfig;
  /** The controller config as a YAML-compatible JSON file, for child controllers. */
  writeControllerConfig(extra?: Record<string, unknown>): string;
  cleanup(): Promise<void>;
}

function agentDoc(lab: { dir: string; pki: LabPki; topo: LabTopology }, i: number, port: number): Record<string, unknown> {
  const h = lab.topo.hosts[i]!;
  const cert = lab.pki.agents[h.name]!;
  return {
    name: h.name,
    prefix: h.prefix,
    listen: `127.0.0.1:${port}`,
    tls: { ca: lab.pki.ca.cert, cert: cert.cert, key: cert.key },
    stateDir: join(lab.dir, h.name, 'state'),
    runDir: join(lab.dir, h.name, 'run'),
    hostNetns: h.netns,
    underlay: { dev: h.underlayDev, address: h.underlayAddress },
    logLevel: 'warn',
    logFile: join(lab.dir, `${h.name}.log`),
  };
}

async function waitAgent(name: string, address: string, pki: LabPki, ms = 120_000): Promise<void> {
  const c = connectAgent({ name, address, tls: { ca: pki.ca.cert, cert: pki.controller.cert, key: pki.controller.key } }, { attempts: 1 });
  try {
    const end = Date.now() + ms;
    for (;;) {
      try {
        await c.getInfo({ deadlineMs: Math.max(1000, Math.min(60_000, end - Date.now())) });
        return;
      } catch (e) {
        if (Date.now() > end) throw e;
        await new Promise((r) => setTimeout(r, 300));
      }
    }
  } finally {
    c.close();
  }
}

function childAgent(doc: Record<string, unknown>, file: string, pki: LabPki): LabAgent {
  let child: ChildProcess | undefined;
  const start = async (): Promise<void> => {
    const c = spawn(process.execPath, ['--import=tsx', '--conditions=seconet-source', join(REPO, 'packages/agent/src/server/main.ts'), '--config', file], { stdio: ['ignore', 'ignore', 'pipe'], cwd: REPO });
    child = c;
    agent.pid = c.pid;
    let stderr = '';
    c.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString('utf8')).slice(-4000)));
    // An agent that exits before it listens (a taken port, a bad config) is reported at once with
    // its own words, not after two minutes of "connection refused".
    const died = new Promise<never>((_, reject) => {
      c.once('exit', (code, signal) => reject(new Error(`agent ${String(doc['name'])} exited before it listened (${signal ?? `exit ${String(code)}`}): ${stderr.trim() || '(no stderr)'}`)));
    });
    died.catch(() => undefined);
    await Promise.race([waitAgent(String(doc['name']), String(doc['listen']), pki), died]);
  };
  const exited = (c: ChildProcess): Promise<void> => new Promise((r) => (c.exitCode !== null || c.signalCode !== null ? r() : c.once('exit', () => r())));
  const agent: LabAgent = {
    name: String(doc['name']),
    address: String(doc['listen']),
    async stop() {
      const c = child;
      if (!c?.pid || c.exitCode !== null || c.signalCode !== null) return;
      process.kill(c.pid, 'SIGTERM');
      const t = setTimeout(() => c.pid && c.exitCode === null && process.kill(c.pid, 'SIGKILL'), 15_000);
      await exited(c);
      clearTimeout(t);
    },
    async kill() {
      const c = child;
      if (!c?.pid || c.exitCode !== null) return;
      process.kill(c.pid, 'SIGKILL');
      await exited(c);
    },
    restart: start,
  };
  (agent as { start?: () => Promise<void> }).start = start;
  return agent;
}

/** Brings up `hosts` lab hosts with agents; `childAgents` runs them as separate processes. */
export async function startE2eLab(t: { teardown(fn: () => unknown): void }, hosts = 2, opts: { childAgents?: boolean } = {}): Promise<E2eLab> {
  const runner = new ExecRunner();
  const dir = mkdtempSync(join(tmpdir(), 'sn-e2e-'));
  const topo = await createLab(runner, randomLabId(hosts), hosts);
  const names = topo.hosts.map((h) => h.name);
  const agents = new Map<string, LabAgent>();
  const held: { redis?: TestRedis; pki?: LabPki } = {};
  const cleanup = async (): Promise<void> => {
    // GC with an empty keep-list first: whatever a failed test left applied (containers, daemons
    // such as wireguard-go, filter rules) is removed by the agent that owns it.
    const pki = held.pki;
    if (pki) {
      await Promise.allSettled([...agents.values()].map(async (a) => {
        const c = connectAgent({ name: a.name, address: a.address, tls: { ca: pki.ca.cert, cert: pki.controller.cert, key: pki.controller.key } }, { attempts: 1 });
        try {
          await c.gc({ requestId: 'e2e-cleanup', keepScopes: [] }, { deadlineMs: 60_000 });
        } finally {
          c.close();
        }
      }));
    }
    await Promise.allSettled([...agents.values()].map((a) => a.stop()));
    for (const a of agents.values()) await a.kill().catch(() => undefined);
    // Remove what agents left behind: each agent GCs at start, so a short-lived agent with an
    // empty keep-list clears its own objects before the namespaces go.
    await destroyLab(runner, topo);
    await held.redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  t.teardown(cleanup);
  const pki = await createLabPki(join(dir, 'pki'), names);
  held.pki = pki;
  const redis = await startRedis();
  held.redis = redis;
  for (let i = 0; i < hosts; i++) {
    const name = names[i]!;
    mkdirSync(join(dir, name), { recursive: true });
    if (opts.childAgents) {
      // Another listener may take the port between freePort() and the agent's bind: try anew.
      for (let attempt = 1; ; attempt++) {
        const doc = agentDoc({ dir, pki, topo }, i, await freePort());
        const file = join(dir, `${name}.json`);
        writeFileSync(file, JSON.stringify(doc));
        const a = childAgent(doc, file, pki);
        agents.set(name, a);
        try {
          await a.restart();
          break;
        } catch (e) {
          if (attempt >= 3 || !String(e).includes('cannot bind')) throw e;
        }
      }
    } else {
      const doc = agentDoc({ dir, pki, topo }, i, await freePort());
      const running: RunningAgent = await startAgent(parseAgentConfig({ ...doc, logFile: undefined, logLevel: 'silent' }, dir));
      agents.set(name, {
        name,
        address: running.address,
        stop: () => running.stop(),
        kill: async () => undefined,
        restart: async () => undefined,
      });
    }
  }
  const r = redis;
  const controllerDoc = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    redis: { url: r.url, prefix: `e2e${topo.id}` },
    store: join(dir, 'store'),
    agents: names.map((n) => ({ name: n, address: agents.get(n)!.address, tls: { ca: pki.ca.cert, cert: pki.controller.cert, key: pki.controller.key } })),
    api: { listen: '127.0.0.1:0', tokenFile: join(dir, 'token') },
    healthIntervalMs: 1000,
    ...extra,
  });
  return {
    dir,
    topo,
    pki,
    redis: r,
    agents,
    controllerConfig: (extra) => parseControllerConfig(controllerDoc(extra), dir),
    writeControllerConfig: (extra) => {
      const file = join(dir, 'controller.json');
      writeFileSync(file, JSON.stringify(controllerDoc(extra)));
      return file;
    },
    cleanup,
  };
}

export interface E2eApiResponse<T> {
  readonly status: number;
  /** The parsed JSON body; undefined when the body is not JSON (CSV, HTML). */
  readonly body: T;
  readonly text: string;
}

export interface E2eApi {
  readonly url: string;
  readonly token: string;
  readonly ctl: RunningController;
  /** GET `path`, or POST `body` as JSON to it, with the bearer token. */
  request<T>(path: string, body?: unknown): Promise<E2eApiResponse<T>>;
}

/**
 * The controller on `lab` with its REST API on a loopback port (no rate limit), both stopped in
 * teardown: the front door every end-to-end test submits through.
 */
export async function startE2eApi(t: { teardown(fn: () => unknown): void }, lab: E2eLab, extra?: Record<string, unknown>): Promise<E2eApi> {
  const token = `e2e-token-${randomLabId()}-0123456789abcdef`;
  const ctl = await startController(lab.controllerConfig(extra));
  t.teardown(() => ctl.stop());
  const app = await buildApi({ service: ctl.service, tokens: [token], rateLimit: false });
  t.teardown(() => app.close());
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    url,
    token,
    ctl,
    async request<T>(path: string, body?: unknown): Promise<E2eApiResponse<T>> {
      const res = await fetch(`${url}${path}`, {
        method: body === undefined ? 'GET' : 'POST',
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      let parsed: T;
      try {
        parsed = JSON.parse(text) as T;
      } catch {
        parsed = undefined as T;
      }
      return { status: res.status, body: parsed, text };
    },
  };
}
